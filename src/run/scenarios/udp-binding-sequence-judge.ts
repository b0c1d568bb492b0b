/**
 * docker-desktop-udp: the verdict of a PROPER/BUGGY sequence. Outcome first: the failure is datagrams sent to the
 * published port and not delivered to the app in a phase after a BUGGY close; the mechanism is a forwarder's UDP
 * binding disappearing. The captures must agree with the app's counts. Docker Desktop's own forwarder is not run here:
 * where the lab stands in for it and the stand-ins kept working, the verdict is INCONCLUSIVE (emulation-gap).
 */
import { verdict, type InconclusiveKind, type Verdict, type VerdictValue } from '../verdict.js';
import type { ScenarioMeasure } from './types.js';

export type Moment = 'pre' | 'during' | 'post';

export interface PhaseEvidence {
  label: string;
  closeOrder: 'proper' | 'buggy';
  udpSent: number | null;
  udpReceived: number | null;
  tcpConnected: boolean | null;
  /** Whether docker-proxy holds a UDP socket on the published port, per side, per moment; null: ss failed there. */
  binding: Record<string, Record<Moment, boolean | null>>;
  /** The session's datagrams toward the published port, read back from the captures: on the VM's bridge (to the container), on the host's switch (desktop). */
  captured?: { onBridge: number; onSwitch: number | null };
  snapshots: string[];
}

export interface SequenceEvidence {
  kernel: string;
  emulated: string;
  notEmulated: string;
  /** Docker Desktop's own forwarder is stood in for (docker-desktop-wsl2 host): the lab cannot say NOT_REPRODUCED for it. */
  standIn?: boolean;
  captureProblems?: string[];
  /** Snapshots whose command failed: never read as "no binding". */
  snapshotProblems?: string[];
  phases: PhaseEvidence[];
  pcaps: Array<{ file: string; captured: number | null; droppedByKernel: number | null }>;
}

export const BINDING_FAILURE = 'UDP datagrams sent to the published port are no longer delivered to the container after a BUGGY close (the binding is lost)';
const MECHANISM = "a forwarder's UDP socket on the published port (docker-proxy's binding) disappears";

/**
 * What must hold before the sequence is judged, by the lab file's rules or by judgeSequence: every phase measured,
 * every snapshot answered, the captures read and live, a phase after a BUGGY close in which the server sent, and the
 * captures agreeing with the apps and with each other. A failing one is the verdict (INCONCLUSIVE with its kind).
 */
export function sequencePreconditions(evidence: SequenceEvidence): Verdict | undefined {
  const phases = evidence.phases;
  if (!phases?.length) return verdict('INCONCLUSIVE', 'no phase ran', ['phases']);
  const unmeasured = phases.filter((p) => p.udpReceived === null || p.udpSent === null);
  if (unmeasured.length > 0) {
    const labels = unmeasured.map((p) => p.label).join(', ');
    return verdict('INCONCLUSIVE', `the app or server reported no UDP counts for ${labels}`, ['phases.udpReceived', 'phases.udpSent']);
  }
  const failedSnapshots = evidence.snapshotProblems ?? [];
  const unknownBinding = phases.flatMap((p) =>
    Object.entries(p.binding).flatMap(([side, m]) => (Object.values(m).includes(null) ? [`${p.label} on ${side}`] : [])),
  );
  if (failedSnapshots.length > 0 || unknownBinding.length > 0) {
    const what = failedSnapshots.length ? failedSnapshots.join('; ') : `ss gave no answer for ${unknownBinding.join(', ')}`;
    return verdict('INCONCLUSIVE', `a snapshot failed, so the bindings are not known: ${what}`, ['snapshotProblems', 'phases.binding']);
  }
  if ((evidence.captureProblems ?? []).length > 0) return verdict('INCONCLUSIVE', evidence.captureProblems!.join('; '), ['captureProblems']);
  const uncaptured = phases.filter((p) => !p.captured).map((p) => p.label);
  if (uncaptured.length > 0) return verdict('INCONCLUSIVE', `no capture counts for ${uncaptured.join(', ')}`, ['phases.captured']);

  const counts = countsOf(phases);
  const firstBuggy = phases.findIndex((p) => p.closeOrder === 'buggy');
  const after = firstBuggy < 0 ? [] : phases.slice(firstBuggy + 1);
  if (after.length === 0) return verdict('INCONCLUSIVE', 'the sequence needs a phase after a BUGGY close', ['phases']);
  const silent = after.filter((p) => !p.udpSent);
  if (silent.length > 0) {
    const labels = silent.map((p) => p.label).join(', ');
    return verdict('INCONCLUSIVE', `the server sent no UDP in ${labels}, so nothing shows whether the binding still carried traffic (${counts})`, [
      'phases.udpSent',
    ]);
  }
  // Datagrams that reach the container after its UDP socket closed are counted on the bridge and not by the app: the
  // capture may show more, never fewer; and an app that got nothing must not have had datagrams delivered to it.
  const conflicts = phases.filter((p) => p.udpReceived! > p.captured!.onBridge || (p.udpReceived === 0 && p.captured!.onBridge > 0));
  if (conflicts.length > 0) {
    const what = conflicts.map((p) => `${p.label}: the app received ${p.udpReceived}, the bridge capture shows ${p.captured!.onBridge}`).join('; ');
    return verdict('INCONCLUSIVE', `agent and capture disagree: ${what}`, ['phases.udpReceived', 'phases.captured'], 'evidence-conflict');
  }
  // Every datagram that reached the VM's bridge crossed the host's switch first.
  const skipped = phases.filter((p) => p.captured!.onSwitch !== null && p.captured!.onBridge > p.captured!.onSwitch);
  if (skipped.length > 0) {
    const what = skipped.map((p) => `${p.label}: ${p.captured!.onBridge} on the bridge, ${p.captured!.onSwitch} on the switch before it`).join('; ');
    return verdict('INCONCLUSIVE', `the captures disagree: ${what}`, ['phases.captured'], 'evidence-conflict');
  }
  return undefined;
}

const countsOf = (phases: PhaseEvidence[]) => phases.map((p) => `${p.label} ${p.udpReceived}/${p.udpSent} (${p.captured!.onBridge} on the bridge)`).join(', ');
const afterFirstBuggy = (phases: PhaseEvidence[]) => phases.slice(phases.findIndex((p) => p.closeOrder === 'buggy') + 1);
const lostBindings = (phases: PhaseEvidence[]) =>
  phases.flatMap((p) => Object.keys(p.binding).flatMap((s) => (p.binding[s]!.pre && !p.binding[s]!.post ? [`${s} after ${p.label}`] : [])));

/** The numbers docker-desktop-udp's rules may compare, by name, with what each counts. */
export const SEQUENCE_MEASURES = {
  properPhasesReceivingNothing: 'PROPER phases in which the app received no UDP (the forwarding path not shown to work)',
  phasesAfterBuggyReceivingNothing: 'phases after the first BUGGY close in which the server sent UDP and the app received none',
  udpReceivedAfterBuggy: 'datagrams the app received in the phases after the first BUGGY close',
  bindingsLost: 'sides and phases where docker-proxy held the UDP binding before the phase and not after it',
  standIn: "1 when Docker Desktop's own forwarder is stood in for (docker-proxy and Docker's DNAT rules), 0 on a plain Docker host",
} as const;

/** The measures, from evidence the preconditions accepted (else each is missing with the preconditions' reason). */
export function sequenceMeasures(evidence: SequenceEvidence): Record<keyof typeof SEQUENCE_MEASURES, ScenarioMeasure> {
  const failed = sequencePreconditions(evidence);
  if (failed) {
    const missing = { value: null, missing: failed.reason };
    return {
      properPhasesReceivingNothing: missing,
      phasesAfterBuggyReceivingNothing: missing,
      udpReceivedAfterBuggy: missing,
      bindingsLost: missing,
      standIn: missing,
    };
  }
  const phases = evidence.phases;
  const after = afterFirstBuggy(phases);
  return {
    properPhasesReceivingNothing: { value: phases.filter((p) => p.closeOrder === 'proper' && !p.udpReceived).length },
    phasesAfterBuggyReceivingNothing: { value: after.filter((p) => p.udpReceived === 0).length },
    udpReceivedAfterBuggy: { value: after.reduce((n, p) => n + p.udpReceived!, 0) },
    bindingsLost: { value: lostBindings(phases).length },
    standIn: { value: evidence.standIn === false ? 0 : 1 },
  };
}

/**
 * The verdict the lab's rules replaced (labs/docker-desktop-udp/lab.yaml), kept to judge every recording both ways
 * (test/run/udp-binding-sequence-rules.test.ts) and for its facets' words.
 */
export function judgeSequence(evidence: SequenceEvidence): Verdict {
  const failedFirst = sequencePreconditions(evidence);
  if (failedFirst) return failedFirst;
  const phases = evidence.phases;
  const counts = countsOf(phases);
  const proper = phases.filter((p) => p.closeOrder === 'proper');
  if (proper.length === 0 || proper.some((p) => !p.udpReceived)) {
    const got = proper.map((p) => `${p.label} ${p.udpReceived}`).join(', ') || 'none ran';
    return verdict('INCONCLUSIVE', `no PROPER phase shows UDP arriving (${got}), so the forwarding path itself is not shown to work`, ['phases.udpReceived']);
  }
  const after = afterFirstBuggy(phases);

  const lost = lostBindings(phases);
  const failed = after.filter((p) => p.udpReceived === 0);
  const emulation = `emulated: ${evidence.emulated}; not emulated: ${evidence.notEmulated}`;
  const decide = (value: VerdictValue, reason: string, decidedBy: string[], kind?: InconclusiveKind): Verdict => ({
    ...verdict(value, reason, decidedBy, kind),
    outcome: {
      failure: BINDING_FAILURE,
      seen: failed.length > 0,
      detail: failed.length
        ? `${failed.map((p) => p.label).join(', ')} received nothing of ${failed.map((p) => p.udpSent).join(', ')} sent`
        : `every phase after the first BUGGY close received UDP (${counts})`,
    },
    mechanism: {
      name: MECHANISM,
      seen: lost.length > 0,
      detail: lost.length ? `lost on ${lost.join(', ')}` : "every side kept docker-proxy's binding in every snapshot",
    },
  });
  if (failed.length > 0) {
    const where = failed
      .map((p) => `${p.label}: ${p.udpSent} sent, ${p.captured!.onSwitch ?? 'not captured'} crossed the switch, 0 reached the container`)
      .join('; ');
    if (lost.length === 0) {
      return decide(
        'INCONCLUSIVE',
        `datagrams were sent but not delivered (${where}), yet every forwarder kept its binding: the loss is not the report's mechanism`,
        ['phases.udpReceived', 'phases.binding'],
        'evidence-missing',
      );
    }
    const whose = evidence.standIn ? " (docker-proxy, the lab's stand-in, and Docker's own parts)" : '';
    return decide('REPRODUCED', `docker-proxy's UDP binding disappeared on ${lost.join(', ')}${whose} and ${where}; PROPER phases received (${counts})`, [
      'phases.binding',
      'phases.udpSent',
      'phases.udpReceived',
      'phases.captured',
    ]);
  }
  const kept = lost.length ? `the binding was lost on ${lost.join(', ')}, yet UDP still arrived` : "every side kept docker-proxy's binding through every phase";
  if (evidence.standIn !== false) {
    return decide(
      'INCONCLUSIVE',
      "the lab cannot observe the report's mechanism: it lives in Docker Desktop's own forwarder, which is not emulated here. " +
        `What the emulation showed: ${kept}; UDP received per phase: ${counts}. ${emulation}`,
      ['phases.binding', 'phases.udpReceived', 'standIn'],
      'emulation-gap',
    );
  }
  return decide('NOT_REPRODUCED', `on a plain Docker host every part is real: ${kept}, and every phase after the first BUGGY close received UDP (${counts})`, [
    'phases.udpSent',
    'phases.udpReceived',
    'phases.captured',
    'phases.binding',
  ]);
}
