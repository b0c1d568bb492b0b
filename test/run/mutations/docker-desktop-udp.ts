/**
 * docker-desktop-udp (udp-binding-sequence): the recorded sequence (INCONCLUSIVE: the report's forwarder is not
 * emulated) and a synthetic decided base (test/fixtures/mutations/docker-desktop-udp/binding-lost, the outcome the
 * report describes written into the recording), perturbed. The verdict rests on the apps' and the server's UDP counts per
 * phase, the captures' counts of each phase's datagrams (on the VM's bridge, on the host's switch), and `ss -tulpn`
 * snapshots (is docker-proxy bound?). A snapshot whose command failed is recorded as unknown (null) with its problem.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { udpBindingSequenceScenario, type SequenceEvidence } from '../../../src/run/scenarios/udp-binding-sequence.js';
import { parse } from 'yaml';
import { codedRules, judgeCoded } from '../../../src/run/declarative/coded.js';
import { captureLiveness } from '../../../src/run/pcap.js';
import { recorded, recordedFile } from '../recorded.js';
import type { Base, Perturbation, Subject } from './harness.js';
import { captureProblem, clone, foreignPcap, missingPcap } from './faults.js';

const LAB = 'docker-desktop-udp';
const repository = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const labFile = parse(fs.readFileSync(path.join(repository, 'labs', LAB, 'lab.yaml'), 'utf8')) as { scenario: { params: object; verdict: unknown } };
const params = udpBindingSequenceScenario.params.parse(labFile.scenario.params);
const rules = codedRules(udpBindingSequenceScenario, labFile.scenario.verdict)!;
const fixtures = path.join(repository, 'test', 'fixtures', 'mutations', LAB);

function synthetic(variant: string): Base<SequenceEvidence> {
  const saved = JSON.parse(fs.readFileSync(path.join(fixtures, variant, 'evidence.json'), 'utf8')) as {
    verdict: Base<SequenceEvidence>['stored'];
    synthetic: string;
    evidence: SequenceEvidence;
  };
  return { variant, evidence: saved.evidence, stored: saved.verdict, synthetic: saved.synthetic };
}

const sequence = recorded<SequenceEvidence>(LAB, 'sequence');
const bases: Array<Base<SequenceEvidence>> = [{ variant: 'sequence', evidence: sequence.evidence, stored: sequence.verdict }, synthetic('binding-lost')];

type Phase = SequenceEvidence['phases'][number];
const MOMENTS = ['pre', 'during', 'post'] as const;
const LABELS = sequence.evidence.phases.map((p) => p.label);
const SIDES = Object.keys(sequence.evidence.phases[0]!.binding);
const VM = 'desktop-vm';
const FIRST_BUGGY = sequence.evidence.phases.find((p) => p.closeOrder === 'buggy')!.label;

const phase = (e: SequenceEvidence, label: string) => e.phases.find((p) => p.label === label)!;
const changed = (b: Base<SequenceEvidence>, label: string, change: (p: Phase) => void): SequenceEvidence => {
  const e = clone(b.evidence);
  change(phase(e, label));
  return e;
};

/** What run() records when a snapshot's command fails: its problem, and for ss an unknown binding (never "not bound"). */
function snapshotFailed(
  b: Base<SequenceEvidence>,
  node: string,
  file: string,
  argv: string,
  binding?: { label: string; side: string; moment: (typeof MOMENTS)[number] },
) {
  const e = clone(b.evidence);
  e.snapshotProblems = [...(e.snapshotProblems ?? []), `${node}: ${argv} exited with 1 (snapshots/${file}.txt)`];
  if (binding) phase(e, binding.label).binding[binding.side]![binding.moment] = null;
  return e;
}

const ssFailures: Array<Perturbation<SequenceEvidence>> = LABELS.flatMap((label) =>
  MOMENTS.flatMap((moment) =>
    SIDES.map((side): Perturbation<SequenceEvidence> => ({
      // A loss rests on the snapshot before the first BUGGY phase, on the side that lost the binding; the others describe.
      kind: label === FIRST_BUGGY && moment === 'pre' && side === VM ? 'snapshot-failed' : 'side-evidence-failed',
      name: `ss -tulpn failed on ${side} ${moment} ${label}`,
      applies: (b) => phase(b.evidence, label).binding[side]![moment] !== null,
      apply: (b) => snapshotFailed(b, side, `${label}-${moment}-${side}-ss`, 'ss -tulpn', { label, side, moment }),
    })),
  ),
);

/** conntrack -L and iptables -S on the VM: recorded for the reader, the verdict does not rest on them. */
const otherSnapshots: Array<Perturbation<SequenceEvidence>> = LABELS.flatMap((label) =>
  MOMENTS.flatMap((moment) =>
    [
      ['conntrack-udp', 'conntrack -L -p udp'],
      ['nat-DOCKER', 'iptables -t nat -S DOCKER'],
    ].map(([what, argv]): Perturbation<SequenceEvidence> => ({
      kind: 'side-evidence-failed',
      name: `${argv} failed on ${VM} ${moment} ${label}`,
      applies: () => true,
      apply: (b) => snapshotFailed(b, VM, `${label}-${moment}-${VM}-${what}`, argv!),
    })),
  ),
);

const CAPTURES = [
  { file: 'desktop-vm-docker0', count: 'onBridge' },
  { file: 'desktop-eth0', count: 'onSwitch' },
] as const;

const captures: Array<Perturbation<SequenceEvidence>> = CAPTURES.flatMap(({ file, count }): Array<Perturbation<SequenceEvidence>> => {
  const recordedPcap = recordedFile(LAB, 'sequence', `pcap/${file}.pcap`);
  const problem = async (make: (dir: string) => string, b: Base<SequenceEvidence>, dir: string) => ({
    ...b.evidence,
    captureProblems: [...(b.evidence.captureProblems ?? []), await captureProblem(make(dir))],
  });
  return [
    {
      kind: 'capture-empty',
      // An empty pcap has no datagram of any session: every phase's count from it is 0.
      name: `${file}.pcap emptied`,
      applies: (b) => b.evidence.phases.some((p) => (p.captured?.[count] ?? 0) > 0),
      apply: (b) => ({
        ...b.evidence,
        phases: b.evidence.phases.map((p) => ({ ...p, captured: { ...p.captured!, [count]: 0 } })),
        pcaps: b.evidence.pcaps.map((p) => (p.file.endsWith(`/${file}.pcap`) ? { ...p, captured: 0 } : p)),
      }),
    },
    {
      kind: 'capture-dropped',
      name: `${file}.pcap missing`,
      applies: () => fs.existsSync(recordedPcap),
      apply: (b, s) => problem((d) => missingPcap(d, file), b, s.dir),
    },
    {
      kind: 'capture-dropped',
      name: `${file}.pcap not a pcap`,
      applies: () => fs.existsSync(recordedPcap),
      apply: (b, s) => problem((d) => foreignPcap(d, file), b, s.dir),
    },
    ...[
      { what: 'tcpdump printed no statistics (killed, not stopped)', stats: { captured: null, droppedByKernel: null } },
      { what: 'tcpdump counted more packets than the file holds', stats: { captured: 100000, droppedByKernel: 0 } },
    ].map(({ what, stats }): Perturbation<SequenceEvidence> => ({
      // What run()'s reader records for a capture that does not prove it was live (run/pcap.ts captureLiveness).
      kind: 'capture-unproven',
      name: `${file}: ${what}`,
      applies: () => fs.existsSync(recordedPcap),
      apply: async (b) => {
        const live = await captureLiveness(recordedPcap, stats);
        if (live.ok) throw new Error(`internal: ${file} was expected not to prove it was live`);
        return { ...b.evidence, captureProblems: [...(b.evidence.captureProblems ?? []), live.problem] };
      },
    })),
  ];
});

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

const secondBuggy = (e: SequenceEvidence) => e.phases.filter((p) => p.closeOrder === 'buggy')[1]!;

const stories: Array<Perturbation<SequenceEvidence>> = [
  {
    kind: 'mechanism-without-failure',
    name: `docker-proxy's binding lost on ${VM} after ${FIRST_BUGGY}, yet the next BUGGY phase received (and the bridge carried) every datagram sent`,
    applies: () => true,
    apply: (b) => {
      const e = clone(b.evidence);
      phase(e, FIRST_BUGGY).binding[VM]!.post = false;
      const next = secondBuggy(e);
      next.udpReceived = next.udpSent;
      next.captured = { ...next.captured!, onBridge: next.udpSent! };
      return e;
    },
  },
  {
    kind: 'failure-without-mechanism',
    name: 'the second BUGGY phase received nothing (none on the bridge) while every binding was kept',
    applies: (b) => b.evidence.phases.every((p) => SIDES.every((s) => MOMENTS.every((m) => p.binding[s]![m] === true))),
    apply: (b) => {
      const e = clone(b.evidence);
      const next = secondBuggy(e);
      next.udpReceived = 0;
      next.captured = { ...next.captured!, onBridge: 0 };
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
  {
    kind: 'agent-capture-disagree',
    name: 'the second BUGGY phase: the app received nothing, the bridge capture shows every datagram delivered to the container',
    applies: (b) => secondBuggy(b.evidence).udpReceived === 0,
    apply: (b) => {
      const e = clone(b.evidence);
      const next = secondBuggy(e);
      next.captured = { ...next.captured!, onBridge: next.udpSent! };
      return e;
    },
  },
];

export const dockerDesktopUdp: Subject<SequenceEvidence> = {
  lab: LAB,
  bases,
  // What a run does: the lab file's rules after the scenario's preconditions.
  judge: (e) => judgeCoded(udpBindingSequenceScenario, rules, e, params),
  perturbations: [...ssFailures, ...otherSnapshots, ...captures, ...crashes, ...stories],
  knownDefects: {},
};
