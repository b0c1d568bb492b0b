/** taskcluster-reset: the summaries, the evidence and the verdict of a late-segments run. */
import * as z from 'zod';
import { verdict, type Verdict } from '../verdict.js';
import type { Parsed } from '../summary.js';
import type { TcpSegment } from '../pcap.js';

export const serverSummarySchema = z.object({
  peer: z.string().nullable(),
  bytes: z.number().int(),
  injected: z.array(z.object({ seq: z.number().int(), offset: z.number().int(), distance: z.number().int() })),
  rstsSeen: z.number().int(),
  error: z.string().nullable(),
});

export const clientSummarySchema = z.object({
  bytesReceived: z.number().int(),
  expectedBytes: z.number().int().nullable(),
  completed: z.boolean(),
  error: z.string().nullable(),
  stoppedAt: z.number().int().nullable(),
});

export type ServerSummary = z.output<typeof serverSummarySchema>;
export type ClientSummary = z.output<typeof clientSummarySchema>;

export interface LateRsts {
  /** RSTs from the client's end on the uplink after the first injected segment that the container did not send. */
  fromClientHostAfterInjection: string[];
  /** RSTs from the container itself (seen on the bridge): the application's own, not the bug's. */
  fromContainer: number;
  /** RSTs on the uplink before the first injected segment arrived. */
  beforeFirstInjection: number;
  /** Of the client host's RSTs, how many reached the server's link. */
  reachedServer: number;
}

/** Pure: split the client end's RSTs by who sent them and when. Segments are this connection's, on each link. */
export function classifyRsts(injectedSeqs: number[], uplink: TcpSegment[], bridge: TcpSegment[], atServer: TcpSegment[], serverEnd: string): LateRsts {
  const firstInjected = uplink.find((s) => s.src === serverEnd && injectedSeqs.includes(s.seq ?? -1));
  const rstsUp = uplink.filter((s) => s.src !== serverEnd && s.flags.includes('R'));
  const containerRsts = bridge.filter((s) => s.dst === serverEnd && s.flags.includes('R'));
  const fromContainer = (r: TcpSegment) => containerRsts.some((c) => c.seq === r.seq);
  const hostRsts = rstsUp.filter((r) => !fromContainer(r) && firstInjected !== undefined && r.t >= firstInjected.t);
  return {
    fromClientHostAfterInjection: hostRsts.map((s) => s.line),
    fromContainer: containerRsts.length,
    beforeFirstInjection: rstsUp.filter((r) => !firstInjected || r.t < firstInjected.t).length,
    reachedServer: atServer.filter((s) => s.src !== serverEnd && s.flags.includes('R') && hostRsts.some((h) => h.seq === s.seq)).length,
  };
}

export interface LateEvidence {
  kernel: string;
  lateSegmentsFrom: string;
  server: Parsed<ServerSummary>;
  client: Parsed<ClientSummary>;
  captureProblems: string[];
  injected: { sent: number; seenOnClientUplink: number; forwardedToContainer: number };
  rst: (LateRsts & { seenByServerAgent: number }) | null;
  conntrack: { node: string; invalidBefore: number | null; invalidAfter: number | null; invalidDelta: number | null };
  pcaps: Array<{ file: string; captured: number | null; droppedByKernel: number | null }>;
  agentLogs: string[];
}

export function judgeLate(e: LateEvidence): Verdict {
  if (!e.server.ok) return verdict('INCONCLUSIVE', e.server.problem, ['server']);
  if (!e.client.ok) return verdict('INCONCLUSIVE', e.client.problem, ['client']);
  if (e.captureProblems.length > 0) return verdict('INCONCLUSIVE', e.captureProblems.join('; '), ['captureProblems']);
  const client = e.client.value;
  const { injected, rst } = e;
  const invalid = e.conntrack.invalidDelta === null ? 'conntrack counters unavailable' : `conntrack invalid +${e.conntrack.invalidDelta}`;
  if (injected.sent === 0 || !rst) {
    return verdict('INCONCLUSIVE', 'no late segment was injected (the transfer ended before the first injection point?)', ['injected.sent']);
  }
  if (injected.seenOnClientUplink === 0) {
    return verdict('INCONCLUSIVE', 'none of the injected late segments was seen arriving on the client host', ['injected.seenOnClientUplink']);
  }
  const stopped = `the download stopped at byte ${client.stoppedAt} of ${client.expectedBytes} (${client.error ?? 'closed'})`;
  const got = client.completed ? 'the download completed with the right sha256' : stopped;
  const hostRsts = rst.fromClientHostAfterInjection.length;
  const others = `${rst.fromContainer} from the container, ${rst.beforeFirstInjection} before the first injection, not counted`;
  const reached = `${injected.forwardedToContainer}/${injected.seenOnClientUplink} late segments reached the container`;
  if (hostRsts > 0) {
    const answered = `the client host answered late segments with ${hostRsts} RST(s), ${rst.reachedServer} reached the server`;
    return verdict('REPRODUCED', `${answered} (${reached}, ${invalid}; ${others}); ${got}`, [
      'rst.fromClientHostAfterInjection',
      'injected',
      'conntrack.invalidDelta',
      'client.completed',
    ]);
  }
  if (!client.completed && client.error === 'timeout') {
    const why = `stall, not reset: no RST from the client host, yet ${got} (${reached}, ${invalid})`;
    return verdict('REPRODUCED', why, ['client.completed', 'client.error', 'rst', 'injected']);
  }
  if (!client.completed) return verdict('INCONCLUSIVE', `no RST from the client host after an injected segment, yet ${got} (${others})`, ['client', 'rst']);
  if (client.bytesReceived <= 0) return verdict('INCONCLUSIVE', 'the client reports a completed download of no bytes', ['client.bytesReceived']);
  const fine = `${injected.seenOnClientUplink} late segments reached the client host and no RST came from it`;
  return verdict('NOT_REPRODUCED', `${fine} (${reached}, ${invalid}; ${others}); ${got}`, ['rst.fromClientHostAfterInjection', 'injected', 'client.completed']);
}
