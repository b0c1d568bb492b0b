/**
 * docker-desktop-udp (udp-binding-sequence): the recorded sequence (INCONCLUSIVE: the report's forwarder is not
 * emulated) and a synthetic decided base (test/fixtures/mutations/docker-desktop-udp/binding-lost, the outcome the
 * report describes written into the recording), perturbed. The verdict rests on `ss -tulpn` snapshots (is docker-proxy
 * bound?) before and after the first BUGGY phase and on the apps' and the server's UDP counts; the judge reads no pcap.
 * A failed ss leaves error text and no docker-proxy line, which run() records as "not bound".
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { udpBindingSequenceScenario, type SequenceEvidence } from '../../../src/run/scenarios/udp-binding-sequence.js';
import { recorded } from '../recorded.js';
import { knownDefect, type Base, type Perturbation, type Subject } from './harness.js';
import { clone } from './faults.js';

const LAB = 'docker-desktop-udp';
const params = udpBindingSequenceScenario.params.parse({ host: 'desktop', app: 'app' });
const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'test', 'fixtures', 'mutations', LAB);

function synthetic(variant: string): Base<SequenceEvidence> {
  const saved = JSON.parse(fs.readFileSync(path.join(fixtures, variant, 'evidence.json'), 'utf8')) as Base<SequenceEvidence> & {
    verdict: Base<SequenceEvidence>['stored'];
  };
  return { variant, evidence: saved.evidence, stored: saved.verdict, synthetic: saved.synthetic };
}

const sequence = recorded<SequenceEvidence>(LAB, 'sequence');
const bases: Array<Base<SequenceEvidence>> = [{ variant: 'sequence', evidence: sequence.evidence, stored: sequence.verdict }, synthetic('binding-lost')];

type Phase = SequenceEvidence['phases'][number];
const MOMENTS = ['pre', 'during', 'post'] as const;
const LABELS = sequence.evidence.phases.map((p) => p.label);
const SIDES = Object.keys(sequence.evidence.phases[0]!.binding);
const FIRST_BUGGY = sequence.evidence.phases.find((p) => p.closeOrder === 'buggy')!.label;

const phase = (e: SequenceEvidence, label: string) => e.phases.find((p) => p.label === label)!;
/** The sides this run shows losing docker-proxy's binding over the first BUGGY phase: bound before it, not after. */
const lostOverFirstBuggy = (e: SequenceEvidence) => SIDES.filter((s) => phase(e, FIRST_BUGGY).binding[s]!.pre && !phase(e, FIRST_BUGGY).binding[s]!.post);
const changed = (b: Base<SequenceEvidence>, label: string, change: (p: Phase) => void): SequenceEvidence => {
  const e = clone(b.evidence);
  change(phase(e, label));
  return e;
};

/** ss failed on one side at one moment of one phase: what run() records is "docker-proxy not bound" there. */
const ssFailures: Array<Perturbation<SequenceEvidence>> = LABELS.flatMap((label) =>
  MOMENTS.flatMap((moment) =>
    SIDES.map((side): Perturbation<SequenceEvidence> => ({
      // A loss rests on the snapshot before the first BUGGY phase on the side that lost it; the others only describe.
      kind: 'side-evidence-failed',
      name: `ss -tulpn failed on ${side} ${moment} ${label}`,
      applies: (b) =>
        phase(b.evidence, label).binding[side]![moment] && !(label === FIRST_BUGGY && moment === 'pre' && lostOverFirstBuggy(b.evidence).includes(side)),
      apply: (b) =>
        changed(b, label, (p) => {
          p.binding[side]![moment] = false;
        }),
    })),
  ),
);

const lossUnseen: Array<Perturbation<SequenceEvidence>> = SIDES.map((side) => ({
  kind: 'snapshot-failed',
  name: `ss -tulpn failed on ${side} pre ${FIRST_BUGGY}, the side that lost the binding`,
  applies: (b) => lostOverFirstBuggy(b.evidence).includes(side),
  apply: (b) =>
    changed(b, FIRST_BUGGY, (p) => {
      p.binding[side]!.pre = false;
    }),
}));

const crashes: Array<Perturbation<SequenceEvidence>> = [
  ...LABELS.map((label): Perturbation<SequenceEvidence> => ({
    kind: 'agent-crashed',
    name: `the app of ${label} crashed (no summary)`,
    applies: () => true,
    apply: (b) =>
      changed(b, label, (p) => {
        p.udpReceived = null;
        p.tcpConnected = null;
      }),
  })),
  {
    kind: 'agent-crashed',
    name: 'the server crashed (no tcp_closed event, no UDP sent count)',
    applies: () => true,
    apply: (b) => ({ ...b.evidence, phases: b.evidence.phases.map((p) => ({ ...p, udpSent: null })) }),
  },
];

const stories: Array<Perturbation<SequenceEvidence>> = [
  {
    kind: 'mechanism-without-failure',
    name: `docker-proxy's binding lost after ${FIRST_BUGGY}, yet the next BUGGY phase received every datagram sent`,
    applies: () => true,
    apply: (b) => {
      const e = clone(b.evidence);
      phase(e, FIRST_BUGGY).binding[SIDES.at(-1)!]!.post = false;
      const next = e.phases.filter((p) => p.closeOrder === 'buggy')[1]!;
      next.udpReceived = next.udpSent;
      return e;
    },
  },
  {
    kind: 'failure-without-mechanism',
    name: 'the second BUGGY phase received nothing while every binding was kept',
    applies: (b) => b.evidence.phases.every((p) => SIDES.every((s) => MOMENTS.every((m) => p.binding[s]![m]))),
    apply: (b) => {
      const e = clone(b.evidence);
      e.phases.filter((p) => p.closeOrder === 'buggy')[1]!.udpReceived = 0;
      return e;
    },
  },
  ...LABELS.map((label): Perturbation<SequenceEvidence> => ({
    kind: 'agents-disagree',
    name: `the app of ${label} received more datagrams than the server sent`,
    applies: (b) => (phase(b.evidence, label).udpSent ?? 0) > 0,
    apply: (b) =>
      changed(b, label, (p) => {
        p.udpReceived = p.udpSent! * 2;
      }),
  })),
];

export const dockerDesktopUdp: Subject<SequenceEvidence> = {
  lab: LAB,
  bases,
  judge: (e) => udpBindingSequenceScenario.judge(e, params),
  perturbations: [...ssFailures, ...lossUnseen, ...crashes, ...stories],
  knownDefects: {
    // The judge never checks that an app received no more datagrams than the server sent.
    ...Object.assign(
      {},
      ...['PROPER_1', 'PROPER_2', 'BUGGY_1'].map((label) =>
        knownDefect(
          LAB,
          ['binding-lost'],
          `the app of ${label} received more datagrams than the server sent`,
          'udp-binding-sequence judge: udpReceived > udpSent accepted',
        ),
      ),
    ),
  },
};
