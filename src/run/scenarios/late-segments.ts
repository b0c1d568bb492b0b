/**
 * taskcluster-reset: a large download from the server to a container through the client host's NAT,
 * with late (already acknowledged) segments arriving during the transfer. Where conntrack marks
 * them INVALID they skip the de-NAT and the client host answers RST, and the download fails.
 * Late segments come from link impairment where the kernel has netem, otherwise the server injects
 * copies of old segments (IP TOS 0x04 marks them in the captures).
 */
import * as z from 'zod';
import { refsTo, type Scenario } from './types.js';
import type { ScenarioContext, StoppedCapture } from '../context.js';
import { invalidCounters } from '../conntrack.js';
import { CaptureReader, connectionUnseen, type TcpSegment } from '../pcap.js';
import { parseSummary } from '../summary.js';
import {
  classifyRsts,
  clientSummarySchema,
  judgeLate,
  LATE_MEASURES,
  lateDetails,
  lateMeasures,
  latePreconditions,
  serverSummarySchema,
  type LateEvidence,
} from './late-segments-judge.js';

const paramsSchema = z.strictObject({
  client: z.string().describe('the container that downloads'),
  server: z.string().describe('the node serving the download'),
  port: z.number().int().min(1).max(65535).default(8080),
  sizeMiB: z.number().min(1).max(512).default(16),
  injectLate: z.number().int().min(0).max(100).default(4),
  lateDistances: z
    .array(
      z
        .number()
        .int()
        .min(1)
        .max(2 ** 30),
    )
    .min(1)
    .default([1048576]),
  lateLength: z.number().int().min(1).max(1400).default(1400),
  injectEveryMiB: z.number().min(0.1).max(100).default(2),
});

type Params = z.output<typeof paramsSchema>;

const INJECTED = 'ip[1] == 4';

export const lateSegmentsScenario: Scenario<Params, LateEvidence> = {
  kind: 'late-segments',
  summary: 'a download through the NAT with late, already-acknowledged segments; does the client host reset it?',
  params: paramsSchema,
  nodeRefs: (p) => refsTo(p, 'client', 'server'),
  check(p, lab) {
    const client = lab.nodes.find((n) => n.name === p.client);
    return client && client.kind !== 'container' ? [`client must be a container (found ${client.kind} ${p.client})`] : [];
  },

  async run(ctx, params) {
    const host = ctx.node(ctx.node(params.client).host!);
    const serverIface = ctx.node(params.server).interfaces[0]!.name;
    const uplink = host.interfaces[0]!.name;
    const interesting = [`tcp port ${params.port} and (${INJECTED} or tcp[tcpflags] & (tcp-rst|tcp-syn|tcp-fin) != 0)`];
    await ctx.captureAll([
      { node: params.server, iface: serverIface, filter: interesting },
      { node: host.name, iface: uplink, filter: interesting },
      { node: host.name, iface: host.docker!.bridge, filter: interesting },
    ]);
    const before = await ctx.conntrackCounters(host.name, 'before');
    const summaries = await download(ctx, params);
    const pcaps = await ctx.stopCaptures();
    const after = await ctx.conntrackCounters(host.name, 'after');

    const reader = new CaptureReader();
    const read = (capture: StoppedCapture, filter: string) => reader.segments(capture.file, filter, capture);
    const server = summaries.server.ok ? summaries.server.value : null;
    const [peerIp, peerPort] = (server?.peer ?? ':').split(':');
    const serverEnd = `${ctx.address(params.server)}.${params.port}`;
    const connection = `tcp and host ${peerIp} and port ${peerPort} and port ${params.port}`;
    const atServer = await read(pcaps[0]!, connection);
    const atUplink = await read(pcaps[1]!, connection);
    const atBridge = await read(pcaps[2]!, `tcp and port ${params.port}`);
    const injectedSeqs = (server?.injected ?? []).map((i) => i.seq);
    const isInjected = (s: TcpSegment) => s.src === serverEnd && injectedSeqs.includes(s.seq ?? -1);
    const impaired = ctx.lab.links.some((l) => l.impairments.some((i) => i.delay || i.reorder));
    const evidence: LateEvidence = {
      kernel: await ctx.kernel(host.name),
      lateSegmentsFrom: impaired ? 'link impairment (tc netem) plus server injection' : 'server injection of old segments (this lab asks for no netem delay)',
      server: summaries.server,
      client: summaries.client,
      captureProblems: reader.problems.length || !server ? reader.problems : connectionUnseen(lateCaptures(atServer, atUplink, atBridge)),
      injected: { sent: injectedSeqs.length, seenOnClientUplink: atUplink.filter(isInjected).length, forwardedToContainer: atBridge.filter(isInjected).length },
      rst: server ? { ...classifyRsts(injectedSeqs, atUplink, atBridge, atServer, serverEnd), seenByServerAgent: server.rstsSeen } : null,
      conntrack: invalidCounters(host.name, before, after),
      ...ctx.artifacts(pcaps),
    };
    return evidence;
  },

  judge: (evidence) => judgeLate(evidence),
  rules: {
    measures: LATE_MEASURES,
    measure: (evidence) => lateMeasures(evidence),
    preconditions: (evidence) => latePreconditions(evidence),
    details: (evidence) => lateDetails(evidence),
  },
};

/** The three captures of a late-segments run, named as a reason names them. */
export function lateCaptures(atServer: TcpSegment[], atUplink: TcpSegment[], atBridge: TcpSegment[]) {
  return [
    { capture: "on the server's link", segments: atServer },
    { capture: "on the client host's uplink", segments: atUplink },
    { capture: "on the client host's bridge", segments: atBridge },
  ];
}

async function download(ctx: ScenarioContext, params: Params) {
  const server = await ctx.startAgent(params.server, 'server', 'bulk_server.py', [
    '--port',
    String(params.port),
    '--size-mib',
    String(params.sizeMiB),
    '--inject-late',
    String(params.injectLate),
    '--late-distance',
    params.lateDistances.join(','),
    '--late-length',
    String(params.lateLength),
    '--inject-every-mib',
    String(params.injectEveryMiB),
    '--duration',
    '90',
  ]);
  const client = await ctx.startAgent(params.client, 'client', 'bulk_client.py', [
    '--server',
    ctx.address(params.server),
    '--port',
    String(params.port),
    '--duration',
    '80',
  ]);
  await client.finish(95_000);
  await server.finish(10_000);
  return { server: parseSummary('server', serverSummarySchema, server.summary()), client: parseSummary('client', clientSummarySchema, client.summary()) };
}
