/**
 * npa-conntrack-race (conntrack-cleanup-race): every recorded variant, perturbed. The evidence is three agents' summaries
 * (the policy agent on the server, waves 1 and 2 on the client) with their timestamps, which come from two nodes' clocks
 * (the client's: wave 2 connected; the server's: the cleanup's snapshot and deletions), conntrack -L failure counts, and
 * wave 2's flows on the server's link (a capture read back with the scenario's own wireFlow).
 */
import fs from 'node:fs';
import { conntrackCleanupRaceScenario, wireFlow, type RaceEvidence } from '../../../src/run/scenarios/conntrack-cleanup-race.js';
import { CaptureReader } from '../../../src/run/pcap.js';
import { recorded, recordedDir, recordedFile } from '../recorded.js';
import type { Base, Perturbation, Subject } from './harness.js';
import { clone, emptyPcap, foreignPcap, missingPcap } from './faults.js';

const LAB = 'npa-conntrack-race';
const params = conntrackCleanupRaceScenario.params.parse({ client: 'client', server: 'server' });
const variants = fs.readdirSync(recordedDir(LAB, '')).filter((v) => fs.existsSync(recordedFile(LAB, v, 'evidence.json')));

const bases: Array<Base<RaceEvidence>> = variants.map((variant) => {
  const r = recorded<RaceEvidence>(LAB, variant);
  return { variant, evidence: r.evidence, stored: r.verdict };
});

const CAPTURE = 'server-eth0';
const recordedPcap = (b: Base<RaceEvidence>) => recordedFile(LAB, b.variant, `pcap/${CAPTURE}.pcap`);
/** The run keeps its pcaps' list beside the evidence fields (ctx.artifacts); runs recorded before the capture have none. */
const pcapsOf = (e: RaceEvidence) => (e as { pcaps?: Array<{ captured: number | null }> }).pcaps ?? [];
const captured = (b: Base<RaceEvidence>) => pcapsOf(b.evidence).some((p) => (p.captured ?? 0) > 0) && fs.existsSync(recordedPcap(b));

/** The run's reading of its capture (wave 2's flows on the server's link, by tuple), from the given file. */
async function reanalyse(b: Base<RaceEvidence>, file = recordedPcap(b)): Promise<RaceEvidence> {
  const reader = new CaptureReader();
  const segments = await reader.segments(file, `tcp port ${params.port}`);
  const tuples = (b.evidence.wave2.connections ?? []).flatMap((c) => (c.tuple ? [c.tuple] : []));
  return { ...b.evidence, captureProblems: reader.problems, onWire: Object.fromEntries(tuples.map((t) => [t, wireFlow(segments, t)])) };
}

const captures: Array<Perturbation<RaceEvidence>> = [
  { kind: 'capture-empty', name: `${CAPTURE}.pcap emptied`, applies: captured, apply: (b, s) => reanalyse(b, emptyPcap(recordedPcap(b), s.dir)) },
  { kind: 'capture-dropped', name: `${CAPTURE}.pcap missing`, applies: captured, apply: (b, s) => reanalyse(b, missingPcap(s.dir, `${CAPTURE}.pcap`)) },
  { kind: 'capture-dropped', name: `${CAPTURE}.pcap not a pcap`, applies: captured, apply: (b, s) => reanalyse(b, foreignPcap(s.dir, `${CAPTURE}.pcap`)) },
];

const conntrackFailures: Array<Perturbation<RaceEvidence>> = [
  {
    kind: 'snapshot-failed',
    name: "conntrack -L failed once while waiting for wave 1's entries to expire",
    applies: (b) => typeof b.evidence.conntrackListFailures === 'number',
    apply: (b) => ({ ...b.evidence, conntrackListFailures: b.evidence.conntrackListFailures! + 1 }),
  },
  {
    kind: 'snapshot-failed',
    name: "conntrack -L failed once in the policy agent's cleanup",
    applies: (b) => typeof b.evidence.agentConntrackFailures === 'number',
    apply: (b) => ({ ...b.evidence, agentConntrackFailures: b.evidence.agentConntrackFailures! + 1 }),
  },
];

const noWave = { attempts: 0, ok: 0, failed: [] };

/** What raceEvidence() records when an agent wrote no summary (or one that does not parse): its part is empty. */
function without(agent: 'policy' | 'wave1' | 'wave2', problem: string) {
  return (b: Base<RaceEvidence>): RaceEvidence => {
    const e = clone(b.evidence);
    e.summaryProblems = [...(e.summaryProblems ?? []), problem.replace('AGENT', agent)];
    if (agent === 'policy') {
      Object.assign(e, { deletions: [], liveFlowsDeleted: [], deniedFlows: [], cycles: null, agentConntrackFailures: null });
      e.timing.firstDeletionOfTriggerCycle = null;
    } else if (agent === 'wave1') {
      e.wave1 = noWave;
    } else {
      Object.assign(e, { wave2: noWave, liveFlowsDeleted: [] });
      Object.assign(e.timing, { wave2ConnectedFrom: null, wave2ConnectedUntil: null });
    }
    return e;
  };
}

const AGENTS = ['policy', 'wave1', 'wave2'] as const;

const broken: Array<Perturbation<RaceEvidence>> = AGENTS.flatMap((agent): Array<Perturbation<RaceEvidence>> => [
  { kind: 'agent-crashed', name: `the ${agent} agent crashed (no summary)`, applies: () => true, apply: without(agent, 'the AGENT agent produced no summary') },
  {
    kind: 'summary-unparsable',
    name: `the ${agent} summary does not parse`,
    applies: () => true,
    apply: without(agent, "the AGENT agent's summary does not parse: field connections: Invalid input: expected array, received string"),
  },
]);

const deniedLive = (e: RaceEvidence) => e.deniedFlows.some((d) => d.packets > 0 && e.liveFlowsDeleted.some((l) => l.tuple === d.flow));

const firstTuple = (e: RaceEvidence) => e.wave2.connections?.find((c) => c.tuple && e.onWire?.[c.tuple])?.tuple ?? null;

const stories: Array<Perturbation<RaceEvidence>> = [
  {
    kind: 'agent-capture-disagree',
    name: 'wave 2 counts 5 more echoes on its first connection than the capture shows',
    applies: (b) => firstTuple(b.evidence) !== null,
    apply: (b) => {
      const e = clone(b.evidence);
      const c = e.wave2.connections!.find((x) => x.tuple === firstTuple(b.evidence))!;
      c.echoes = (c.echoes ?? 0) + 5;
      return e;
    },
  },
  {
    kind: 'agent-capture-disagree',
    name: "wave 2's first connection is not on the server's link at all (no SYN captured)",
    applies: (b) => firstTuple(b.evidence) !== null,
    apply: (b) => {
      const e = clone(b.evidence);
      const tuple = firstTuple(b.evidence)!;
      e.onWire = { ...e.onWire!, [tuple]: { syns: 0, pings: 0, echoes: 0, retransmittedPings: 0 } };
      return e;
    },
  },
  {
    kind: 'mechanism-without-failure',
    name: 'live flows deleted and their replies denied, yet every wave-2 connection ok',
    applies: (b) => deniedLive(b.evidence),
    apply: (b) => {
      const w = b.evidence.wave2;
      const connections = w.connections?.map((c) => ({ ...c, ok: true }));
      return { ...b.evidence, wave2: { attempts: w.attempts, ok: w.attempts, failed: [], ...(connections ? { connections } : {}) } };
    },
  },
  {
    kind: 'failure-without-mechanism',
    name: 'every wave-2 connection failed, no live flow deleted and no reply denied',
    applies: (b) => b.evidence.wave2.attempts > 0,
    apply: (b) => {
      const w = b.evidence.wave2;
      const tuples = w.connections?.map((c) => c.tuple) ?? Array.from({ length: w.attempts }, (_, i) => `failed-${i}`);
      const failed = tuples.map((tuple) => ({ tuple, error: 'timeout', t: b.evidence.timing.wave2ConnectedUntil! + 2 }));
      const connections = w.connections?.map((c) => ({ ...c, ok: false }));
      return { ...b.evidence, wave2: { attempts: w.attempts, ok: 0, failed, ...(connections ? { connections } : {}) }, liveFlowsDeleted: [], deniedFlows: [] };
    },
  },
  {
    kind: 'side-evidence-failed',
    // The policy agent's own map-versus-snapshot count (staleEntriesAtTrigger) says whether the entries were stale.
    name: "conntrack -L never showed wave 1's entries gone (the wait for their expiry timed out)",
    applies: (b) => b.evidence.timing.wave1EntriesExpiredAt !== null,
    apply: (b) => ({ ...b.evidence, timing: { ...b.evidence.timing, wave1EntriesExpiredAt: null } }),
  },
];

/**
 * The run's setup did not reach the state the race needs, recorded the way raceEvidence() records it. Wave 1 is
 * released after a cycle ends; the cycle after that may start while wave 1 is still connecting (Python is slow under
 * TCG): its conntrack dump lacks wave 1's first tuple, its read of the map has it, and it deletes that live entry.
 */
function wave1TouchedBeforeTrigger(b: Base<RaceEvidence>): RaceEvidence {
  const e = clone(b.evidence);
  const trigger = e.timing.triggerCycle!;
  const tuple = e.wave1.connections!.find((c) => c.tuple)!.tuple!;
  const t = e.timing.triggerSnapshotAt! - (e.timing.cleanupPeriodS as number) + (e.timing.perEntryDelayS as number);
  e.timing.wave1ReleasedAfterCycle = trigger - 2;
  e.deletions = [{ tuple, cycle: trigger - 1, kernelHadFlowAtDeletion: true, t }, ...e.deletions];
  // raceEvidence() lists every deletion of a live wave-2 tuple, and the waves share their tuples.
  e.liveFlowsDeleted = [{ tuple, cycle: trigger - 1, t }, ...e.liveFlowsDeleted];
  e.wave1EntriesBeforeTrigger = [{ tuple, cycle: trigger - 1, action: 'deleted' }];
  return e;
}

/** No cycle's snapshot lacked a wave-1 tuple before the wait for one timed out: wave 2 stopped before its go (an empty summary). */
function noTrigger(b: Base<RaceEvidence>): RaceEvidence {
  const e = clone(b.evidence);
  const trigger = e.timing.triggerCycle!;
  Object.assign(e.timing, {
    triggerCycle: null,
    triggerSnapshotAt: null,
    staleEntriesAtTrigger: null,
    staleTuplesAtTrigger: null,
    wave2ConnectedFrom: null,
    wave2ConnectedUntil: null,
    firstDeletionOfTriggerCycle: null,
  });
  e.wave2 = { attempts: 0, ok: 0, failed: [], connections: [] };
  e.deletions = e.deletions.filter((d) => d.cycle < trigger);
  Object.assign(e, { liveFlowsDeleted: [], deniedFlows: [], onWire: {}, wave1EntriesBeforeTrigger: [] });
  return e;
}

/** Recorded since the scenario releases the waves by signal (79c5cca): older runs lack the fields these checks read. */
const signalled = (e: RaceEvidence) => typeof e.timing.triggerCycle === 'number' && Array.isArray(e.wave1EntriesBeforeTrigger);
const firstWave1Tuple = (e: RaceEvidence) => (e.wave1.connections ?? []).some((c) => c.tuple);

const setups: Array<Perturbation<RaceEvidence>> = [
  {
    kind: 'precondition-unmet',
    name: "the cycle before the trigger ran during wave 1 and deleted its first tuple's live entry",
    decidedBy: ['wave1EntriesBeforeTrigger'],
    applies: (b) => signalled(b.evidence) && b.evidence.timing.triggerCycle! >= 2 && firstWave1Tuple(b.evidence),
    apply: wave1TouchedBeforeTrigger,
  },
  {
    kind: 'precondition-unmet',
    name: "no cycle's snapshot lacked a wave-1 tuple in time (no trigger came, wave 2 never released)",
    decidedBy: ['timing.triggerCycle'],
    applies: (b) => signalled(b.evidence),
    apply: noTrigger,
  },
];

/** The client's clock off the server's by `s` seconds: every time wave 2 reported moves, the policy agent's do not. */
function clientClockOff(s: number) {
  return (b: Base<RaceEvidence>): RaceEvidence => {
    const e = clone(b.evidence);
    const shift = (t: number | null) => (t === null ? null : t + s);
    e.timing.wave2ConnectedFrom = shift(e.timing.wave2ConnectedFrom);
    e.timing.wave2ConnectedUntil = shift(e.timing.wave2ConnectedUntil);
    e.wave2.failed = e.wave2.failed.map((f) => ({ ...f, t: shift(f.t) }));
    return e;
  };
}

const skews: Array<Perturbation<RaceEvidence>> = [-2, -0.5, -0.1, 0.1, 0.5, 2].map((s) => ({
  kind: 'clock-skew',
  name: `the client's clock ${s > 0 ? '+' : ''}${s} s off the server's`,
  applies: (b) => b.evidence.timing.wave2ConnectedFrom !== null,
  apply: clientClockOff(s),
}));

export const npaConntrackRace: Subject<RaceEvidence> = {
  lab: LAB,
  bases,
  judge: (e) => conntrackCleanupRaceScenario.judge(e, params),
  perturbations: [...broken, ...captures, ...conntrackFailures, ...stories, ...setups, ...skews],
  rederive: async (b) => (captured(b) ? reanalyse(b) : b.evidence),
  knownDefects: {},
};
