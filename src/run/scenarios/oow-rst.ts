/**
 * docker-1090 / kubernetes-74839: a server forges a segment outside the client's TCP window;
 * on a NATed client host conntrack marks it INVALID, it skips the de-NAT and the host's own
 * stack answers RST. Evidence: the server agent's sniffer, the client's own outcome, the
 * client host's conntrack counters, and the captures read back with tcpdump.
 */
import { z } from 'zod';
import type { Scenario } from './types.js';
import { verdict } from '../verdict.js';
import { conntrackStats, delta } from '../conntrack.js';
import { pcapLines, tcpSegments, type TcpSegment } from '../pcap.js';
import type { AgentEvent } from '../agent.js';

const paramsSchema = z.strictObject({
  client: z.string().describe('the node or container that opens the connection'),
  server: z.string().describe('the node that runs the forging server'),
  port: z.number().int().min(1).max(65535).default(9000),
  forgeOffset: z.number().int().min(1).max(2 ** 31).default(100000),
  forgeAfterS: z.number().min(0.1).max(30).default(1),
  talkForS: z.number().min(1).max(120).default(5),
  intervalS: z.number().min(0.01).max(5).default(0.2),
});

type Params = z.output<typeof paramsSchema>;

interface ServerSummary {
  established: boolean;
  peer: string | null;
  forged: { seq: number; offset: number } | null;
  rsts: Array<{ from: string; msAfterForge: number | null; afterForge: boolean }>;
  rstsAfterForge: number;
  firstRstMsAfterForge: number | null;
  bytesEchoedAfterForge: number | null;
  connectionEnd: string;
}

interface ClientSummary {
  outcome: 'intact' | 'reset' | 'timeout' | 'error' | 'stopped' | null;
  sent: number;
  echoed: number;
  error: string | null;
  local: string | null;
}

export const oowRstScenario: Scenario<Params> = {
  kind: 'oow-rst',
  summary: 'a forged out-of-window segment from the server; does the client host answer it with a RST?',
  params: paramsSchema,
  nodeRefs: (p) => [
    { param: 'client', node: p.client },
    { param: 'server', node: p.server },
  ],

  async run(ctx, params) {
    const client = ctx.node(params.client);
    const clientHost = client.kind === 'container' ? ctx.node(client.host!) : client;
    const serverAddr = ctx.address(params.server);
    const serverIface = ctx.node(params.server).interfaces[0]!.name;
    const uplink = clientHost.interfaces[0]!.name;
    const tcpPort = ['tcp', 'port', String(params.port)];

    const captures = [await ctx.capture(params.server, serverIface, `${params.server}-${serverIface}`, tcpPort), await ctx.capture(clientHost.name, uplink, `${clientHost.name}-${uplink}`, tcpPort)];
    if (clientHost.docker && client.kind === 'container') captures.push(await ctx.capture(clientHost.name, clientHost.docker.bridge, `${clientHost.name}-${clientHost.docker.bridge}`, tcpPort));

    const hostT = ctx.transport(clientHost.name);
    const statsBefore = await conntrackStats(hostT);
    await ctx.snapshot(clientHost.name, 'conntrack-S-before', ['conntrack', '-S']);

    const server = await ctx.startAgent(params.server, 'server', 'oow_server.py', [
      '--port', String(params.port),
      '--forge-offset', String(params.forgeOffset),
      '--forge-after', String(params.forgeAfterS),
      '--duration', String(params.talkForS + 20),
    ]);
    const clientAgent = await ctx.startAgent(params.client, 'client', 'tcp_client.py', [
      '--server', serverAddr,
      '--port', String(params.port),
      '--interval', String(params.intervalS),
      '--duration', String(params.talkForS),
    ]);
    await clientAgent.finish((params.talkForS + 10) * 1000);
    await ctx.snapshot(clientHost.name, 'conntrack-L-after', ['conntrack', '-L', '-p', 'tcp']);
    await server.finish(5000);
    const pcaps = [];
    for (const c of captures) pcaps.push(await c.stop());

    const statsAfter = await conntrackStats(hostT);
    await ctx.snapshot(clientHost.name, 'conntrack-S-after', ['conntrack', '-S']);

    const serverSummary = (server.summary() ?? null) as unknown as ServerSummary | null;
    const clientSummary = (clientAgent.summary() ?? null) as unknown as ClientSummary | null;
    const serverPcap = pcaps[0]!;
    const peer = serverSummary?.peer;
    const rstLinesAtServer = peer ? await pcapLines(serverPcap.file, `src host ${peer.split(':')[0]} and src port ${peer.split(':')[1]} and tcp[tcpflags] & tcp-rst != 0`) : [];
    const forged = serverSummary?.forged ?? null;
    // Only this connection's segments: a previous variant's server socket may still be retransmitting.
    const [peerIp, peerPort] = (peer ?? ':').split(':');
    const containerPort = clientSummary?.local?.split(':')[1];
    const atUplink = forged ? await tcpSegments(pcaps[1]!.file, `tcp and host ${peerIp} and port ${peerPort} and port ${params.port}`) : [];
    const atBridge = forged && pcaps[2] && containerPort ? await tcpSegments(pcaps[2].file, `tcp and port ${containerPort} and port ${params.port}`) : null;
    const fromServer = (s: TcpSegment) => s.src === `${serverAddr}.${params.port}`;
    const firstRst = atUplink.find((s) => !fromServer(s) && s.flags.includes('R'));
    const trigger = firstRst ? atUplink.filter((s) => fromServer(s) && s.t <= firstRst.t).at(-1) : undefined;
    const dataAtUplink = atUplink.filter((s) => fromServer(s) && s.seq !== null && s.end !== null && s.end > s.seq);
    const notForwarded = atBridge ? dataAtUplink.filter((s) => !atBridge.some((b) => fromServer(b) && b.seq === s.seq && b.end === s.end)) : null;
    const clientHostPath = {
      forgedSeenOnUplink: forged ? dataAtUplink.some((s) => s.seq === forged.seq) : false,
      forgedForwardedToContainer: atBridge && forged ? atBridge.some((s) => fromServer(s) && s.seq === forged.seq) : null,
      serverDataSegmentsOnUplink: dataAtUplink.length,
      serverDataSegmentsNotForwardedToContainer: notForwarded ? notForwarded.map((s) => s.line) : null,
      firstRstFromClientHost: firstRst?.line ?? null,
      rstAnsweredSegment: trigger ? { line: trigger.line, isForgedSegment: forged !== null && trigger.seq === forged.seq } : null,
    };

    return {
      kernel: (await hostT.exec(['uname', '-r'])).stdout.trim(),
      clientPlacement: client.kind === 'container' ? `container ${client.name} behind ${clientHost.name}'s Docker NAT` : `directly on ${client.name}, no NAT`,
      server: serverSummary,
      client: clientSummary,
      rstAtServer: {
        fromAgent: serverSummary?.rstsAfterForge ?? null,
        fromPcap: rstLinesAtServer.length,
        firstMsAfterForge: serverSummary?.firstRstMsAfterForge ?? null,
        packets: rstLinesAtServer.slice(0, 5),
      },
      clientHostPath,
      conntrack: {
        node: clientHost.name,
        invalidBefore: statsBefore.invalid ?? null,
        invalidAfter: statsAfter.invalid ?? null,
        invalidDelta: delta(statsBefore, statsAfter, 'invalid'),
      },
      pcaps: pcaps.map((p) => ({ file: ctx.relative(p.file), captured: p.captured, droppedByKernel: p.droppedByKernel })),
      agentLogs: ['server', 'client'].map((l) => ctx.relative(`${ctx.dir}/agents/${l}.jsonl`)),
      serverEvents: server.events.filter((e: AgentEvent) => e.event !== 'summary').length,
    };
  },

  judge(evidence) {
    const server = evidence.server as ServerSummary | null;
    const client = evidence.client as ClientSummary | null;
    const rst = evidence.rstAtServer as { fromAgent: number | null; fromPcap: number; firstMsAfterForge: number | null };
    if (!server) return verdict('INCONCLUSIVE', 'the server agent produced no summary', ['server']);
    if (!server.established) return verdict('INCONCLUSIVE', 'the client never established its connection to the server', ['server.established']);
    if (!server.forged) return verdict('INCONCLUSIVE', 'the connection ended before the out-of-window segment could be forged', ['server.forged']);
    const path = evidence.clientHostPath as { forgedSeenOnUplink: boolean; rstAnsweredSegment: { isForgedSegment: boolean } | null };
    if (!path.forgedSeenOnUplink) return verdict('INCONCLUSIVE', 'the forged segment was not seen arriving on the client host, so nothing was tested', ['clientHostPath.forgedSeenOnUplink']);
    const agentSaw = (rst.fromAgent ?? 0) > 0;
    const pcapSaw = rst.fromPcap > 0;
    if (agentSaw !== pcapSaw) {
      return verdict('INCONCLUSIVE', `the server agent counted ${rst.fromAgent} RST(s) after the forged segment but the server-link capture shows ${rst.fromPcap}`, ['rstAtServer']);
    }
    const invalid = (evidence.conntrack as { invalidDelta: number | null }).invalidDelta;
    const invalidText = invalid === null ? 'conntrack invalid counter unavailable' : `conntrack invalid +${invalid} on the client host`;
    if (agentSaw) {
      const answered = path.rstAnsweredSegment ? (path.rstAnsweredSegment.isForgedSegment ? 'in answer to the forged segment itself' : "in answer to a later server segment, not the forged one") : 'with no server segment before it in the capture';
      return verdict(
        'REPRODUCED',
        `the client host sent a RST ${rst.firstMsAfterForge} ms after the forged segment, ${answered} (server saw ${rst.fromAgent}, capture shows ${rst.fromPcap}; ${invalidText}); the client's own outcome: ${client?.outcome ?? 'unknown'}`,
        ['rstAtServer', 'clientHostPath.rstAnsweredSegment', 'conntrack.invalidDelta', 'client.outcome'],
      );
    }
    if (client && (client.outcome === 'intact' || client.outcome === 'timeout')) {
      const health = client.outcome === 'intact' ? `the connection kept carrying data (${server.bytesEchoedAfterForge ?? 0} bytes echoed after it, client ${client.echoed}/${client.sent} echoes)` : `but the connection stalled: the client timed out (${client.echoed}/${client.sent} echoes, ${invalidText})`;
      return verdict('NOT_REPRODUCED', `no RST reached the server after the forged segment while the client kept talking; ${health}`, ['rstAtServer', 'client.outcome', 'conntrack.invalidDelta']);
    }
    return verdict('INCONCLUSIVE', `no RST from the client host reached the server, but the client's connection ended as "${client?.outcome ?? 'unknown'}", so the observation is incomplete`, ['rstAtServer', 'client.outcome']);
  },
};
