/**
 * npa-conntrack-race (conntrack-cleanup-race): every recorded variant, perturbed. The run keeps no capture; its evidence
 * is three agents' summaries (the policy agent on the server, waves 1 and 2 on the client) and their timestamps, which
 * come from two nodes' clocks: the client's (wave 2 connected) and the server's (the cleanup's snapshot and deletions).
 */
import fs from 'node:fs';
import { conntrackCleanupRaceScenario, type RaceEvidence } from '../../../src/run/scenarios/conntrack-cleanup-race.js';
import { recorded, recordedDir, recordedFile } from '../recorded.js';
import { knownDefect, type Base, type Perturbation, type Subject } from './harness.js';
import { clone } from './faults.js';

const LAB = 'npa-conntrack-race';
const params = conntrackCleanupRaceScenario.params.parse({ client: 'client', server: 'server' });
const variants = fs.readdirSync(recordedDir(LAB, '')).filter((v) => fs.existsSync(recordedFile(LAB, v, 'evidence.json')));

const bases: Array<Base<RaceEvidence>> = variants.map((variant) => {
  const r = recorded<RaceEvidence>(LAB, variant);
  return { variant, evidence: r.evidence, stored: r.verdict };
});

const noWave = { attempts: 0, ok: 0, failed: [] };

/** What raceEvidence() records when an agent wrote no summary (or one that does not parse): its part is empty. */
function without(agent: 'policy' | 'wave1' | 'wave2', problem: string) {
  return (b: Base<RaceEvidence>): RaceEvidence => {
    const e = clone(b.evidence);
    e.summaryProblems = [...(e.summaryProblems ?? []), problem.replace('AGENT', agent)];
    if (agent === 'policy') {
      Object.assign(e, { deletions: [], liveFlowsDeleted: [], deniedFlows: [], cycles: null });
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

const stories: Array<Perturbation<RaceEvidence>> = [
  {
    kind: 'mechanism-without-failure',
    name: 'live flows deleted and their replies denied, yet every wave-2 connection ok',
    applies: (b) => deniedLive(b.evidence),
    apply: (b) => ({ ...b.evidence, wave2: { attempts: b.evidence.wave2.attempts, ok: b.evidence.wave2.attempts, failed: [] } }),
  },
  {
    kind: 'failure-without-mechanism',
    name: 'every wave-2 connection failed, no live flow deleted and no reply denied',
    applies: (b) => b.evidence.wave2.attempts > 0,
    apply: (b) => {
      const w = b.evidence.wave2;
      const failed = Array.from({ length: w.attempts }, (_, i) => ({ tuple: `failed-${i}`, error: 'timeout', t: b.evidence.timing.wave2ConnectedUntil! + 2 }));
      return { ...b.evidence, wave2: { attempts: w.attempts, ok: 0, failed }, liveFlowsDeleted: [], deniedFlows: [] };
    },
  },
  {
    kind: 'agents-disagree',
    name: 'the policy agent denied replies of flows wave 2 never opened',
    applies: (b) => b.evidence.deniedFlows.length === 0 && b.evidence.wave2.attempts > 0,
    apply: (b) => ({ ...b.evidence, deniedFlows: [{ flow: '10.40.1.1:49999>10.40.2.2:9100', packets: 11 }] }),
  },
  {
    kind: 'side-evidence-failed',
    // The policy agent's own map-versus-snapshot count (staleEntriesAtTrigger) says whether the entries were stale.
    name: "conntrack -L never showed wave 1's entries gone (the wait for their expiry timed out)",
    applies: (b) => b.evidence.timing.wave1EntriesExpiredAt !== null,
    apply: (b) => ({ ...b.evidence, timing: { ...b.evidence.timing, wave1EntriesExpiredAt: null } }),
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
  perturbations: [...broken, ...stories, ...skews],
  knownDefects: {
    // The judge says REPRODUCED on any denied live flow, whether or not wave 2's connections failed.
    ...knownDefect(
      LAB,
      ['immediate-delete'],
      'live flows deleted and their replies denied, yet every wave-2 connection ok',
      'conntrack-cleanup-race judge: denied live flows are REPRODUCED with every wave-2 connection ok',
    ),
    // The judge compares wave2ConnectedUntil (client clock) with firstDeletionOfTriggerCycle (server clock): with the
    // client's clock behind, a missed window reads as hit.
    ...Object.assign(
      {},
      ...["the client's clock -2 s off the server's", "the client's clock -0.5 s off the server's"].map((name) =>
        knownDefect(
          LAB,
          ['immediate-delete-window-missed'],
          name,
          "conntrack-cleanup-race judge compares two nodes' clocks: a skew turns INCONCLUSIVE into REPRODUCED",
        ),
      ),
    ),
  },
};
