/**
 * npa-conntrack-race: the evidence and the verdict. Outcome first: the failure is a live, reused flow denied (its
 * wave-2 connection fails); the mechanism is the cleanup deleting a live flow's entry from an old snapshot and the
 * datapath denying its replies. The capture on the server's link must agree with the agents' counts.
 */
import { verdict, type InconclusiveKind, type MechanismFacet, type OutcomeFacet, type Verdict, type VerdictValue } from '../verdict.js';
import type { ScenarioMeasure } from './types.js';

export interface Connection {
  tuple: string | null;
  ok: boolean;
  error: string | null;
  connectedT: number | null;
  failedT: number | null;
  echoes?: number;
}

export interface Deletion {
  tuple: string;
  cycle: number;
  kernelHadFlowAtDeletion: boolean;
  t: number;
}

export interface WaveResult {
  attempts: number;
  ok: number;
  failed: Array<{ tuple: string | null; error: string | null; t: number | null }>;
  /** Each connection's echoes as the client counted them. */
  connections?: Array<{ tuple: string | null; ok: boolean; echoes: number | null }>;
}

/** A wave-2 flow on the server's link: the client's SYNs, its pings and the server's echoes (each counted once), retransmitted pings. */
export interface WireFlow {
  syns: number;
  pings: number;
  echoes: number;
  retransmittedPings: number;
}

export interface RaceEvidence {
  kernel: string;
  /** Agent summaries that are missing or do not parse; any one makes the run INCONCLUSIVE. */
  summaryProblems?: string[];
  algorithm: string;
  timing: {
    /** The cleanup cycle right after whose end wave 1 was released. */
    wave1ReleasedAfterCycle?: number;
    /** The first cycle whose snapshot lacked one of wave 1's tuples its map held; null when none did in time (wave 2 was not released). */
    triggerCycle?: number | null;
    staleEntriesAtTrigger: number | null;
    wave2ConnectedFrom: number | null;
    wave2ConnectedUntil: number | null;
    triggerSnapshotAt: number | null;
    firstDeletionOfTriggerCycle: number | null;
    [key: string]: unknown;
  };
  wave1: WaveResult;
  wave2: WaveResult;
  /** Cleanup cycles before the trigger that already deleted or missed a wave-1 entry (the walk raced wave 1 itself). */
  wave1EntriesBeforeTrigger?: Array<{ tuple: string; cycle: number; action: 'deleted' | 'missed' }>;
  deletions: Deletion[];
  liveFlowsDeleted: Array<{ tuple: string; cycle: number; t: number }>;
  deniedFlows: Array<{ flow: string; packets: number }>;
  cycles: number | null;
  /** conntrack -L failures: the policy agent's (a cycle skipped, a deletion's liveness unknown) and the scenario's wait for expiry. */
  agentConntrackFailures?: number | null;
  conntrackListFailures?: number;
  captureProblems?: string[];
  /** Wave 2's flows on the server's link, by tuple. */
  onWire?: Record<string, WireFlow>;
  agentLogs: string[];
}

export const RACE_FAILURE = 'a live, reused flow is denied: its replies are dropped and the wave-2 connection fails';
const MECHANISM = "the cleanup deletes a live flow's entry from a snapshot taken before the flow existed, and the datapath denies its replies";

export function judgeRace(evidence: RaceEvidence): Verdict {
  const checked = integrity(evidence);
  if ('verdict' in checked) return checked.verdict;
  const { wave2 } = evidence;
  const { deniedLive, packets, live, onWire } = checked;
  const failed = wave2.failed;
  const got = `wave 2: ${wave2.ok}/${wave2.attempts} connections ok`;
  const unanswered = Object.values(onWire).reduce((n, w) => n + Math.max(0, w.pings - w.echoes), 0);
  const decide = (value: VerdictValue, reason: string, decidedBy: string[], kind?: InconclusiveKind): Verdict => ({
    ...verdict(value, reason, decidedBy, kind),
    outcome: {
      failure: RACE_FAILURE,
      seen: failed.length > 0,
      detail: failed.length ? `${got}; ${failed.map((f) => `${f.tuple} ${f.error}`).join(', ')}` : got,
    },
    mechanism: {
      name: MECHANISM,
      seen: deniedLive.length > 0,
      detail: `${live.length} live entries deleted, ${packets} reply packets denied; the capture shows ${unanswered} ping(s) left unanswered`,
    },
  });
  if (failed.length > 0) {
    const notDenied = failed.filter((f) => !deniedLive.some((d) => d.flow === f.tuple));
    if (deniedLive.length === 0 || notDenied.length > 0) {
      const which = notDenied.map((f) => f.tuple).join(', ') || 'the failed flows';
      return decide('INCONCLUSIVE', `${got}, but ${which} had no live entry deleted and denied: they failed for another reason`, [
        'wave2.failed',
        'deniedFlows',
      ]);
    }
    return decide(
      'REPRODUCED',
      `the cleanup deleted ${live.length} entries of live, reused flows from a snapshot taken before they existed, and the datapath then denied ${deniedLive.length} of them (${packets} reply packets dropped, ${unanswered} pings unanswered on the wire); ${got}`,
      ['wave2.failed', 'liveFlowsDeleted', 'deniedFlows', 'onWire'],
    );
  }
  if (wave2.attempts === 0 || wave2.ok < wave2.attempts) return decide('INCONCLUSIVE', `${got}`, ['wave2']);
  if (live.length > 0 || packets > 0) {
    return decide(
      'NOT_REPRODUCED',
      `the cleanup deleted ${live.length} live entries and ${packets} reply packets were denied, but every wave-2 connection completed (${got})`,
      ['wave2', 'liveFlowsDeleted', 'deniedFlows'],
    );
  }
  return decide(
    'NOT_REPRODUCED',
    `wave 2 reused ${wave2.attempts} 5-tuples inside the cleanup walk, no live entry was deleted and no reply was denied; ${got}, every echo seen on the wire`,
    ['liveFlowsDeleted', 'deniedFlows', 'wave2', 'onWire'],
  );
}

type Checked =
  | { verdict: Verdict }
  | { deniedLive: Array<{ flow: string; packets: number }>; packets: number; live: RaceEvidence['liveFlowsDeleted']; onWire: Record<string, WireFlow> };
const done = (...args: Parameters<typeof verdict>): Checked => ({ verdict: verdict(...args) });

/**
 * Agent summaries read, conntrack -L never failing, wave 1 clean and expired, stale entries at the trigger, wave 2
 * connected before the cleanup deleted, wave 2 captured, and agents and capture agreeing: the preconditions of both
 * the judge and the lab file's rules.
 */
function integrity(evidence: RaceEvidence): Checked {
  const problems = evidence.summaryProblems ?? ['the evidence lists no agent summaries'];
  if (problems.length > 0) return done('INCONCLUSIVE', problems.join('; '), ['summaryProblems']);
  const agentFailures = evidence.agentConntrackFailures;
  const listFailures = evidence.conntrackListFailures;
  if (typeof agentFailures !== 'number' || typeof listFailures !== 'number') {
    return done('INCONCLUSIVE', "the run does not say whether conntrack -L worked (the agent's or the scenario's count is missing)", [
      'agentConntrackFailures',
    ]);
  }
  if (agentFailures + listFailures > 0) {
    const why = `conntrack -L failed ${agentFailures} time(s) in the policy agent and ${listFailures} time(s) while waiting for wave 1's entries to expire: a failed dump says nothing about the table`;
    return done('INCONCLUSIVE', why, ['agentConntrackFailures', 'conntrackListFailures']);
  }
  const { timing, wave1, wave2, deniedFlows: denied, liveFlowsDeleted: live } = evidence;
  const early = evidence.wave1EntriesBeforeTrigger ?? [];
  const trigger = typeof timing.triggerCycle === 'number' ? `trigger cycle ${timing.triggerCycle}` : 'any trigger cycle';
  const raced = early.length
    ? `; the cleanup already ${early.map((e) => `${e.action} ${e.tuple} in cycle ${e.cycle}`).join(', ')}, before ${trigger} (wave 1 connected between a cycle's conntrack dump and its read of the map, or a cycle found its entries gone before wave 2 could be released)`
    : '';
  if (wave1.attempts === 0 || wave1.ok < wave1.attempts) {
    const failed = wave1.failed.map((f) => `${f.tuple ?? 'a connection with no tuple'} ${f.error ?? 'failed'}`).join(', ');
    const what = wave1.attempts === 0 ? 'wave 1 made no connection' : `wave 1 did not run cleanly (${wave1.ok}/${wave1.attempts} ok: ${failed})`;
    return done('INCONCLUSIVE', `${what}${raced}, so there was no clean map state to race`, ['wave1', 'wave1EntriesBeforeTrigger']);
  }
  if (early.length > 0)
    return done('INCONCLUSIVE', `wave 1 ran cleanly, but${raced.slice(1)}: the cycle wave 2 raced was not the first to find wave 1's entries missing`, [
      'wave1EntriesBeforeTrigger',
    ]);
  if (timing.wave1EntriesExpiredAt === null)
    return done('INCONCLUSIVE', "wave 1's entries never left the kernel's conntrack table, so no tuple was reused after expiry", [
      'timing.wave1EntriesExpiredAt',
    ]);
  if (timing.triggerCycle === null)
    return done(
      'INCONCLUSIVE',
      `no cleanup cycle after wave 1 (released after cycle ${timing.wave1ReleasedAfterCycle ?? '?'}) had a snapshot lacking one of wave 1's tuples its map held, so wave 2 was not released`,
      ['timing.triggerCycle'],
    );
  if (timing.staleEntriesAtTrigger === null || timing.staleEntriesAtTrigger <= 0)
    return done('INCONCLUSIVE', 'when wave 2 started, the map held no stale entries for the cleanup to work on', ['timing.staleEntriesAtTrigger']);
  if (timing.wave2ConnectedFrom === null) return done('INCONCLUSIVE', 'no wave-2 connection was established', ['wave2']);
  if (timing.firstDeletionOfTriggerCycle !== null && timing.wave2ConnectedUntil! > timing.firstDeletionOfTriggerCycle) {
    return done('INCONCLUSIVE', 'wave 2 connected after the cleanup walk had started deleting, so the race window was not hit cleanly', ['timing']);
  }
  if ((evidence.captureProblems ?? []).length > 0) return done('INCONCLUSIVE', evidence.captureProblems!.join('; '), ['captureProblems']);
  const onWire = evidence.onWire;
  const connections = wave2.connections;
  if (!onWire || !connections) return done('INCONCLUSIVE', "wave 2's flows were not captured on the server's link", ['onWire']);

  const deniedLive = denied.filter((d) => d.packets > 0 && live.some((l) => l.tuple === d.flow));
  const packets = denied.reduce((n, d) => n + d.packets, 0);
  const conflicts = connections.flatMap((c) => {
    const wire = c.tuple ? onWire[c.tuple] : undefined;
    if (!c.tuple) return [];
    if (!wire || wire.syns === 0) return [`${c.tuple}: the client connected, the capture shows no SYN`];
    // The client reads each echo before its next ping: at most one echo is on the wire that the client did not count.
    if (c.echoes !== null && (wire.echoes < c.echoes || wire.echoes > c.echoes + 1))
      return [`${c.tuple}: the client counted ${c.echoes} echoes, the capture shows ${wire.echoes}`];
    if (deniedLive.some((d) => d.flow === c.tuple) && wire.pings <= wire.echoes)
      return [`${c.tuple}: the agent counted denied replies, yet the capture shows every ping answered (${wire.pings} pings, ${wire.echoes} echoes)`];
    return [];
  });
  if (conflicts.length > 0)
    return done('INCONCLUSIVE', `agents and capture disagree: ${conflicts.join('; ')}`, ['wave2', 'onWire', 'deniedFlows'], 'evidence-conflict');

  return { deniedLive, packets, live, onWire };
}

export function racePreconditions(evidence: RaceEvidence): Verdict | undefined {
  const checked = integrity(evidence);
  return 'verdict' in checked ? checked.verdict : undefined;
}

export const RACE_MEASURES = {
  wave2Attempts: 'wave-2 connections attempted (each reusing a 5-tuple of wave 1)',
  wave2Ok: 'wave-2 connections that completed',
  wave2NotOk: 'wave-2 connections that did not complete',
  wave2Failed: 'wave-2 connections the client reports failed',
  failedFlowsNotDenied: 'failed wave-2 connections with no live entry deleted and denied (failed for another reason)',
  liveFlowsDenied: 'live, reused flows whose entry the cleanup deleted and whose replies the datapath denied',
  liveEntriesDeleted: 'entries of live flows the cleanup deleted',
  replyPacketsDenied: 'reply packets the datapath denied',
} as const;

export function raceMeasures(evidence: RaceEvidence): Record<keyof typeof RACE_MEASURES, ScenarioMeasure> {
  const { wave2, deniedFlows: denied, liveFlowsDeleted: live } = evidence;
  const deniedLive = denied.filter((d) => d.packets > 0 && live.some((l) => l.tuple === d.flow));
  return {
    wave2Attempts: { value: wave2.attempts },
    wave2Ok: { value: wave2.ok },
    wave2NotOk: { value: wave2.attempts - wave2.ok },
    wave2Failed: { value: wave2.failed.length },
    failedFlowsNotDenied: { value: wave2.failed.filter((f) => !deniedLive.some((d) => d.flow === f.tuple)).length },
    liveFlowsDenied: { value: deniedLive.length },
    liveEntriesDeleted: { value: live.length },
    replyPacketsDenied: { value: denied.reduce((n, d) => n + d.packets, 0) },
  };
}

/** The judge's own words for the facets (they follow the rules' reason when the facets agree). */
export function raceDetails(evidence: RaceEvidence): { outcome?: OutcomeFacet; mechanism?: MechanismFacet } {
  if (racePreconditions(evidence)) return {};
  const v = judgeRace(evidence);
  return { ...(v.outcome ? { outcome: v.outcome } : {}), ...(v.mechanism ? { mechanism: v.mechanism } : {}) };
}
