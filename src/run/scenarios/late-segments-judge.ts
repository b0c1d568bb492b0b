/** taskcluster-reset: the summaries, the evidence and the verdict of a late-segments run. */
import * as z from 'zod';
import { verdict, type InconclusiveKind, type MechanismFacet, type OutcomeFacet, type Verdict } from '../verdict.js';
import type { ScenarioMeasure } from './types.js';
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
  /** Every RST from the client's end on the server's link: what the server agent's own count must match. */
  atServer: number;
  /** RSTs from the server's end forwarded to the container on the bridge: what the client's ECONNRESET must match. */
  toContainer: number;
}

/** Pure: split the client end's RSTs by who sent them and when. Segments are this connection's, on each link. */
export function classifyRsts(injectedSeqs: number[], uplink: TcpSegment[], bridge: TcpSegment[], atServer: TcpSegment[], serverEnd: string): LateRsts {
  const firstInjected = uplink.find((s) => s.src === serverEnd && injectedSeqs.includes(s.seq ?? -1));
  const rstsUp = uplink.filter((s) => s.src !== serverEnd && s.flags.includes('R'));
  const containerRsts = bridge.filter((s) => s.dst === serverEnd && s.flags.includes('R'));
  const fromContainer = (r: TcpSegment) => containerRsts.some((c) => c.seq === r.seq);
  const hostRsts = rstsUp.filter((r) => !fromContainer(r) && firstInjected !== undefined && r.t >= firstInjected.t);
  const serverRsts = atServer.filter((s) => s.src !== serverEnd && s.flags.includes('R'));
  return {
    fromClientHostAfterInjection: hostRsts.map((s) => s.line),
    fromContainer: containerRsts.length,
    beforeFirstInjection: rstsUp.filter((r) => !firstInjected || r.t < firstInjected.t).length,
    reachedServer: serverRsts.filter((s) => hostRsts.some((h) => h.seq === s.seq)).length,
    atServer: serverRsts.length,
    toContainer: bridge.filter((s) => s.src === serverEnd && s.flags.includes('R')).length,
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

export const LATE_FAILURE = 'the download fails: ECONNRESET, or a stall on segments held at the client host';
const MECHANISM = 'the client host answers late segments with a RST of its own (INVALID, not de-NATed)';

/**
 * Outcome first: the client's summary says whether the download failed (ECONNRESET, a stall) or completed with the right
 * sha256; the captures say whether the client host sent RSTs after late segments (the mechanism). A RST without the
 * failure is NOT_REPRODUCED; the failure without this lab's mechanism, or agents and captures that disagree, INCONCLUSIVE.
 */
export function judgeLate(e: LateEvidence): Verdict {
  const failed = integrity(e);
  if (failed) return failed;
  const client = (e.client as { value: ClientSummary }).value;
  const { injected } = e;
  const rst = e.rst!;
  const invalid = e.conntrack.invalidDelta === null ? 'conntrack counters unavailable' : `conntrack invalid +${e.conntrack.invalidDelta}`;
  const hostRsts = rst.fromClientHostAfterInjection.length;
  const others = `${rst.fromContainer} from the container, ${rst.beforeFirstInjection} before the first injection, not counted`;
  const reached = `${injected.forwardedToContainer}/${injected.seenOnClientUplink} late segments reached the container`;
  const held = injected.seenOnClientUplink - injected.forwardedToContainer;
  const mechanism = (seen: boolean, detail: string): MechanismFacet => ({ name: MECHANISM, seen, detail });
  const answered = `the client host answered late segments with ${hostRsts} RST(s), ${rst.reachedServer} reached the server`;
  const rstDetail = hostRsts > 0 ? answered : 'no RST from the client host after a late segment';
  const stopped = `the download stopped at byte ${client.stoppedAt} of ${client.expectedBytes} (${client.error ?? 'closed'})`;
  const facts = `${reached}, ${invalid}; ${others}`;
  const decide = (value: Verdict['verdict'], reason: string, decidedBy: string[], seen: boolean | null, kind?: InconclusiveKind): Verdict => ({
    ...verdict(value, reason, decidedBy, kind),
    outcome: { failure: LATE_FAILURE, seen, detail: client.completed ? 'the download completed with the right sha256' : stopped },
    mechanism: mechanism(hostRsts > 0, rstDetail),
  });

  if (client.completed) {
    if (client.bytesReceived <= 0) return decide('INCONCLUSIVE', 'the client reports a completed download of no bytes', ['client.bytesReceived'], null);
    const by = ['client.completed', 'rst.fromClientHostAfterInjection', 'injected'];
    if (hostRsts > 0) {
      return decide('NOT_REPRODUCED', `${answered}, but the download completed with the right sha256 (${facts})`, by, false);
    }
    const fine = `${injected.seenOnClientUplink} late segments reached the client host and no RST came from it`;
    return decide('NOT_REPRODUCED', `${fine} (${facts}); the download completed with the right sha256`, by, false);
  }
  if (client.error === 'ECONNRESET') {
    if (rst.toContainer === 0) {
      const why = `the client reports ECONNRESET, but no RST from the server's end reached the container on the bridge (${stopped})`;
      return decide('INCONCLUSIVE', why, ['client.error', 'rst.toContainer'], true, 'evidence-conflict');
    }
    if (hostRsts === 0) {
      const why = `${stopped}, but no RST came from the client host after a late segment: the reset is not this lab's mechanism (${facts})`;
      return decide('INCONCLUSIVE', why, ['client.error', 'rst.fromClientHostAfterInjection'], true);
    }
    const by = ['client.error', 'rst.fromClientHostAfterInjection', 'rst.toContainer', 'injected', 'conntrack.invalidDelta'];
    return decide('REPRODUCED', `${stopped}: ${answered}, ${rst.toContainer} RST(s) reached the container (${facts})`, by, true);
  }
  if (client.error === 'timeout') {
    if (held <= 0) {
      const why = `${stopped}, but every late segment that reached the client host was forwarded to the container: nothing shows segments held on this path (${facts})`;
      return decide('INCONCLUSIVE', why, ['client.error', 'injected'], true);
    }
    const why = `stall, not reset: ${stopped}; ${held} late segment(s) reached the client host and were not forwarded to the container (${facts}; ${rstDetail})`;
    return decide('REPRODUCED', why, ['client.error', 'injected.forwardedToContainer', 'rst'], true);
  }
  return decide('INCONCLUSIVE', `${stopped}: neither a reset nor a stall (${rstDetail}; ${others})`, ['client'], true);
}

/** Agents reported, captures read, late segments sent and seen, the RST counts recorded and agent and capture agreeing. */
function integrity(e: LateEvidence): Verdict | undefined {
  if (!e.server.ok) return verdict('INCONCLUSIVE', e.server.problem, ['server']);
  if (!e.client.ok) return verdict('INCONCLUSIVE', e.client.problem, ['client']);
  if (e.captureProblems.length > 0) return verdict('INCONCLUSIVE', e.captureProblems.join('; '), ['captureProblems']);
  if (e.client.value.bytesReceived > e.server.value.bytes) {
    const why = `the client reports ${e.client.value.bytesReceived} bytes received, more than the ${e.server.value.bytes} the server sent: the agents disagree`;
    return verdict('INCONCLUSIVE', why, ['client.bytesReceived', 'server.bytes'], 'evidence-conflict');
  }
  const { injected, rst } = e;
  if (injected.sent === 0 || !rst) {
    return verdict('INCONCLUSIVE', 'no late segment was injected (the transfer ended before the first injection point?)', ['injected.sent']);
  }
  if (injected.seenOnClientUplink === 0) {
    return verdict('INCONCLUSIVE', 'none of the injected late segments was seen arriving on the client host', ['injected.seenOnClientUplink']);
  }
  if (typeof rst.atServer !== 'number' || typeof rst.toContainer !== 'number') {
    return verdict('INCONCLUSIVE', "the captures' RST counts at the server and toward the container were not recorded", ['rst']);
  }
  if (rst.seenByServerAgent !== rst.atServer) {
    const why = `the server agent saw ${rst.seenByServerAgent} RST(s) from the client's end, the capture on the server's link ${rst.atServer}`;
    return verdict('INCONCLUSIVE', `${why}: agent and capture disagree`, ['rst.seenByServerAgent', 'rst.atServer'], 'evidence-conflict');
  }
  return undefined;
}

const isReset = (c: ClientSummary) => !c.completed && c.error === 'ECONNRESET';

/**
 * What must hold before taskcluster-reset's rules judge a run: the integrity checks above, and a reset the client
 * reports shown by a RST from the server's end reaching the container on the bridge (else agent and capture disagree).
 */
export function latePreconditions(e: LateEvidence): Verdict | undefined {
  const failed = integrity(e);
  if (failed) return failed;
  const client = (e.client as { value: ClientSummary }).value;
  return isReset(client) && e.rst!.toContainer === 0 ? judgeLate(e) : undefined;
}

export const LATE_MEASURES = {
  clientCompleted: '1 when the download completed with the right sha256, else 0',
  clientReset: '1 when the download ended with ECONNRESET, else 0',
  clientTimedOut: '1 when the download stalled (no byte within the stall time), else 0',
  clientBytesReceived: 'bytes the client received',
  hostRstsAfterLateSegments: "RSTs the client host's own stack sent after the first late segment (not the container's)",
  hostRstsThatReachedServer: "of those, the ones on the server's link",
  rstsToContainer: "RSTs from the server's end forwarded to the container on the bridge",
  lateSegmentsSeenOnClientHost: "late segments seen arriving on the client host's uplink",
  lateSegmentsHeld: 'late segments that reached the client host and were not forwarded to the container',
  conntrackInvalidDelta: "the change of conntrack's invalid counter on the client host during the run",
} as const;

export function lateMeasures(e: LateEvidence): Record<keyof typeof LATE_MEASURES, ScenarioMeasure> {
  const c = e.client.ok ? e.client.value : undefined;
  // Used only when the summary is missing or does not parse: its problem is why the number is missing.
  const noClient = { value: null, missing: e.client.ok ? 'unused' : e.client.problem };
  const rst = e.rst;
  const noRst = { value: null, missing: 'no late segment was injected, so no RST was classified' };
  const flag = (b: boolean) => ({ value: b ? 1 : 0 });
  const { injected } = e;
  return {
    clientCompleted: c ? flag(c.completed) : noClient,
    clientReset: c ? flag(isReset(c)) : noClient,
    clientTimedOut: c ? flag(!c.completed && c.error === 'timeout') : noClient,
    clientBytesReceived: c ? { value: c.bytesReceived } : noClient,
    hostRstsAfterLateSegments: rst ? { value: rst.fromClientHostAfterInjection.length } : noRst,
    hostRstsThatReachedServer: rst ? { value: rst.reachedServer } : noRst,
    rstsToContainer: rst && typeof rst.toContainer === 'number' ? { value: rst.toContainer } : noRst,
    lateSegmentsSeenOnClientHost: { value: injected.seenOnClientUplink },
    lateSegmentsHeld: { value: injected.seenOnClientUplink - injected.forwardedToContainer },
    conntrackInvalidDelta:
      e.conntrack.invalidDelta === null
        ? { value: null, missing: "conntrack's invalid counter on the client host was not read" }
        : { value: e.conntrack.invalidDelta },
  };
}

/** The judge's own words for the facets (they follow the rules' reason when the facets agree). */
export function lateDetails(e: LateEvidence): { outcome?: OutcomeFacet; mechanism?: MechanismFacet } {
  if (integrity(e)) return {};
  const v = judgeLate(e);
  return { ...(v.outcome ? { outcome: v.outcome } : {}), ...(v.mechanism ? { mechanism: v.mechanism } : {}) };
}
