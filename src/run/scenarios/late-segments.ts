/**
 * taskcluster-reset: a large download from the server to a container through the client host's NAT,
 * with late (already acknowledged) segments arriving during the transfer. Where conntrack marks
 * them INVALID they skip the de-NAT and the client host answers RST, and the download fails.
 * Late segments come from link impairment where the kernel has netem, otherwise the server injects
 * copies of old segments (IP TOS 0x04 marks them in the captures).
 */
import { z } from 'zod';
import type { Scenario } from './types.js';
import { verdict } from '../verdict.js';
import { conntrackStats, delta } from '../conntrack.js';
import { tcpSegments } from '../pcap.js';

const paramsSchema = z.strictObject({
  client: z.string().describe('the container that downloads'),
  server: z.string().describe('the node serving the download'),
  port: z.number().int().min(1).max(65535).default(8080),
  sizeMiB: z.number().min(1).max(512).default(16),
  injectLate: z.number().int().min(0).max(100).default(4),
  lateDistances: z.array(z.number().int().min(1).max(2 ** 30)).min(1).default([1048576]),
  lateLength: z.number().int().min(1).max(1400).default(1400),
  injectEveryMiB: z.number().min(0.1).max(100).default(2),
});

type Params = z.output<typeof paramsSchema>;

interface ServerSummary {
  peer: string | null;
  bytes: number;
  injected: Array<{ seq: number; offset: number; distance: number }>;
  rstsSeen: number;
  error: string | null;
}

interface ClientSummary {
  bytesReceived: number;
  expectedBytes: number | null;
  completed: boolean;
  error: string | null;
  stoppedAt: number | null;
}

const INJECTED = 'ip[1] == 4';

export const lateSegmentsScenario: Scenario<Params> = {
  kind: 'late-segments',
  summary: 'a download through the NAT with late, already-acknowledged segments; does the client host reset it?',
  params: paramsSchema,
  nodeRefs: (p) => [
    { param: 'client', node: p.client },
    { param: 'server', node: p.server },
  ],
  check(p, lab) {
    const client = lab.nodes.find((n) => n.name === p.client);
    return client && client.kind !== 'container' ? [`client must be a container (found ${client.kind} ${p.client})`] : [];
  },

  async run(ctx, params) {
    const client = ctx.node(params.client);
    const host = ctx.node(client.host!);
    const serverAddr = ctx.address(params.server);
    const serverIface = ctx.node(params.server).interfaces[0]!.name;
    const uplink = host.interfaces[0]!.name;
    const interesting = [`tcp port ${params.port} and (${INJECTED} or tcp[tcpflags] & (tcp-rst|tcp-syn|tcp-fin) != 0)`];
    const captures = [
      await ctx.capture(params.server, serverIface, `${params.server}-${serverIface}`, interesting),
      await ctx.capture(host.name, uplink, `${host.name}-${uplink}`, interesting),
      await ctx.capture(host.name, host.docker!.bridge, `${host.name}-${host.docker!.bridge}`, interesting),
    ];
    const hostT = ctx.transport(host.name);
    const before = await conntrackStats(hostT);
    const impaired = ctx.lab.links.some((l) => l.impairments.some((i) => i.delay || i.reorder));
    const server = await ctx.startAgent(params.server, 'server', 'bulk_server.py', [
      '--port', String(params.port), '--size-mib', String(params.sizeMiB), '--inject-late', String(params.injectLate),
      '--late-distance', params.lateDistances.join(','), '--late-length', String(params.lateLength), '--inject-every-mib', String(params.injectEveryMiB), '--duration', '90',
    ]);
    const downloader = await ctx.startAgent(params.client, 'client', 'bulk_client.py', ['--server', serverAddr, '--port', String(params.port), '--duration', '80']);
    await downloader.finish(95_000);
    await server.finish(10_000);
    const pcaps = [];
    for (const c of captures) pcaps.push(await c.stop());
    const after = await conntrackStats(hostT);
    await ctx.snapshot(host.name, 'conntrack-S-after', ['conntrack', '-S']);

    const serverSummary = (server.summary() ?? null) as unknown as ServerSummary | null;
    const clientSummary = (downloader.summary() ?? null) as unknown as ClientSummary | null;
    const peer = serverSummary?.peer ?? ':';
    const [peerIp, peerPort] = peer.split(':');
    const atServer = await tcpSegments(pcaps[0]!.file, `tcp and host ${peerIp} and port ${peerPort}`);
    const atUplink = await tcpSegments(pcaps[1]!.file, `tcp and host ${peerIp} and port ${peerPort} and ${INJECTED}`);
    const atBridge = await tcpSegments(pcaps[2]!.file, `tcp and port ${params.port} and ${INJECTED}`);
    const rstFromClientHost = atServer.filter((s) => s.src === `${peerIp}.${peerPort}` && s.flags.includes('R'));
    const rstToContainer = await tcpSegments(pcaps[2]!.file, `tcp and src port ${params.port} and tcp[tcpflags] & tcp-rst != 0`);
    const injectedSeqs = (serverSummary?.injected ?? []).map((i) => i.seq);
    return {
      kernel: (await hostT.exec(['uname', '-r'])).stdout.trim(),
      lateSegmentsFrom: impaired ? 'link impairment (tc netem) plus server injection' : 'server injection of old segments (this lab asks for no netem delay)',
      server: serverSummary,
      client: clientSummary,
      injected: {
        sent: injectedSeqs.length,
        seenOnClientUplink: atUplink.filter((s) => injectedSeqs.includes(s.seq ?? -1)).length,
        forwardedToContainer: atBridge.filter((s) => injectedSeqs.includes(s.seq ?? -1)).length,
      },
      rst: {
        fromClientHostAtServer: rstFromClientHost.length,
        seenByServerAgent: serverSummary?.rstsSeen ?? null,
        toContainer: rstToContainer.length,
        samples: rstFromClientHost.slice(0, 3).map((s) => s.line),
      },
      conntrack: { node: host.name, invalidBefore: before.invalid ?? null, invalidAfter: after.invalid ?? null, invalidDelta: delta(before, after, 'invalid') },
      pcaps: pcaps.map((p) => ({ file: ctx.relative(p.file), captured: p.captured, droppedByKernel: p.droppedByKernel })),
      agentLogs: ['server', 'client'].map((l) => ctx.relative(`${ctx.dir}/agents/${l}.jsonl`)),
    };
  },

  judge(evidence) {
    const client = evidence.client as ClientSummary | null;
    const injected = evidence.injected as { sent: number; seenOnClientUplink: number; forwardedToContainer: number };
    const rst = evidence.rst as { fromClientHostAtServer: number; seenByServerAgent: number | null };
    const invalid = (evidence.conntrack as { invalidDelta: number | null }).invalidDelta;
    const invalidText = invalid === null ? 'conntrack counters unavailable' : `conntrack invalid +${invalid}`;
    if (!client) return verdict('INCONCLUSIVE', 'the download client produced no summary', ['client']);
    if (injected.sent === 0) return verdict('INCONCLUSIVE', 'no late segment was injected (the transfer ended before the first injection point?)', ['injected.sent']);
    if (injected.seenOnClientUplink === 0) return verdict('INCONCLUSIVE', 'none of the injected late segments was seen arriving on the client host', ['injected.seenOnClientUplink']);
    if ((rst.seenByServerAgent ?? 0) > 0 !== rst.fromClientHostAtServer > 0) {
      return verdict('INCONCLUSIVE', `the server agent saw ${rst.seenByServerAgent} RST(s) but its link capture shows ${rst.fromClientHostAtServer}`, ['rst']);
    }
    const got = client.completed ? 'the download completed with the right sha256' : `the download stopped at byte ${client.stoppedAt} of ${client.expectedBytes} (${client.error ?? 'closed'})`;
    if (rst.fromClientHostAtServer > 0) {
      return verdict('REPRODUCED', `the client host answered late segments with ${rst.fromClientHostAtServer} RST(s) (${injected.forwardedToContainer}/${injected.seenOnClientUplink} late segments reached the container, ${invalidText}); ${got}`, ['rst.fromClientHostAtServer', 'injected', 'conntrack.invalidDelta', 'client.completed']);
    }
    if (client.completed) {
      return verdict('NOT_REPRODUCED', `${injected.seenOnClientUplink} late segments reached the client host, no RST came back (${injected.forwardedToContainer} were forwarded to the container, ${invalidText}); ${got}`, ['rst.fromClientHostAtServer', 'injected', 'client.completed']);
    }
    return verdict('INCONCLUSIVE', `no RST from the client host, yet ${got}`, ['rst', 'client']);
  },
};
