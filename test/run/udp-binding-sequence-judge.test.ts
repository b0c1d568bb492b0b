/** docker-desktop-udp: the verdict of a recorded run on 6.18, the capture counts behind it, and the emulation's limits. */
import fs from 'node:fs';
import test from 'ava';
import {
  forwarderBinding,
  sessionFilter,
  udpBindingSequenceScenario as s,
  type SequenceEvidence as Evidence,
} from '../../src/run/scenarios/udp-binding-sequence.js';
import type { PhaseEvidence } from '../../src/run/scenarios/udp-binding-sequence-judge.js';
import { readLines } from '../../src/run/pcap.js';
import { recorded, recordedFile } from './recorded.js';

const p = s.params.parse({ host: 'desktop', app: 'app' });
const run = recorded<Evidence>('docker-desktop-udp', 'sequence');
const judge = (e: Evidence) => s.judge(e, p);
const withPhases = (change: (ph: PhaseEvidence) => PhaseEvidence): Evidence => ({ ...run.evidence, phases: run.evidence.phases.map(change) });

/** BUGGY_1 loses docker-proxy's binding on the VM; BUGGY_2's datagrams then reach neither the bridge nor the app. */
const lostAfterBuggy1 = (ph: PhaseEvidence): PhaseEvidence => {
  if (!ph.label.startsWith('BUGGY')) return ph;
  const vm = { pre: ph.label === 'BUGGY_1', during: ph.label === 'BUGGY_1', post: false };
  const second = ph.label === 'BUGGY_2';
  return {
    ...ph,
    udpReceived: second ? 0 : ph.udpReceived,
    captured: second ? { onBridge: 0, onSwitch: ph.captured!.onSwitch } : ph.captured,
    binding: { ...ph.binding, 'desktop-vm': vm },
  };
};

test('stand-ins kept the binding and UDP flowed in every phase: INCONCLUSIVE emulation-gap, not NOT_REPRODUCED', (t) => {
  const v = judge(run.evidence);
  t.is(v.verdict, 'INCONCLUSIVE');
  t.is(v.inconclusive, 'emulation-gap');
  t.is(v.verdict, run.verdict);
  t.is(v.outcome?.seen, false);
  t.regex(v.reason, /cannot observe the report's mechanism/);
  t.regex(v.reason, /BUGGY_2 53\/62 \(62 on the bridge\)/);
  t.regex(v.reason, /not emulated: Docker Desktop's own Windows-side forwarding/);
});

test('on a plain Docker host (no stand-in) the same evidence is NOT_REPRODUCED', (t) => {
  const v = judge({ ...run.evidence, standIn: false });
  t.is(v.verdict, 'NOT_REPRODUCED');
  t.regex(v.reason, /every phase after the first BUGGY close received UDP/);
});

test("docker-proxy's binding lost after BUGGY_1 and BUGGY_2's datagrams sent but not delivered is REPRODUCED", (t) => {
  const v = judge(withPhases(lostAfterBuggy1));
  t.is(v.verdict, 'REPRODUCED');
  t.is(v.outcome?.seen, true);
  t.is(v.mechanism?.seen, true);
  t.regex(v.reason, /binding disappeared on desktop-vm after BUGGY_1/);
  t.regex(v.reason, /BUGGY_2: 62 sent, 62 crossed the switch, 0 reached the container/);
});

test('nothing sent in BUGGY_2 is INCONCLUSIVE, not REPRODUCED', (t) => {
  const v = judge(withPhases((ph) => (ph.label === 'BUGGY_2' ? { ...lostAfterBuggy1(ph), udpSent: 0 } : lostAfterBuggy1(ph))));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.regex(v.reason, /server sent no UDP in BUGGY_2/);
});

test('a binding lost while UDP still arrives is not the failure; datagrams lost with every binding kept are INCONCLUSIVE', (t) => {
  const lostOnly = withPhases((ph) =>
    ph.label === 'BUGGY_1' ? { ...ph, binding: { ...ph.binding, 'desktop-vm': { pre: true, during: true, post: false } } } : ph,
  );
  const plain = judge({ ...lostOnly, standIn: false });
  t.is(plain.verdict, 'NOT_REPRODUCED');
  t.is(plain.mechanism?.seen, true);
  t.regex(plain.reason, /the binding was lost on desktop-vm after BUGGY_1, yet UDP still arrived/);
  const silent = judge(withPhases((ph) => (ph.label === 'BUGGY_2' ? { ...ph, udpReceived: 0, captured: { onBridge: 0, onSwitch: 0 } } : ph)));
  t.is(silent.verdict, 'INCONCLUSIVE');
  t.regex(silent.reason, /yet every forwarder kept its binding/);
});

test('a failed ss is INCONCLUSIVE, never "binding gone"', (t) => {
  const failed = withPhases((ph) => (ph.label === 'BUGGY_1' ? { ...ph, binding: { ...ph.binding, desktop: { pre: true, during: true, post: null } } } : ph));
  const v = judge({ ...failed, snapshotProblems: ['desktop: ss -tulpn exited with 1'] });
  t.is(v.verdict, 'INCONCLUSIVE');
  t.regex(v.reason, /a snapshot failed, so the bindings are not known: desktop: ss -tulpn exited with 1/);
  t.is(judge(failed).verdict, 'INCONCLUSIVE', 'a null binding alone');
});

test('the app counting more than the bridge capture shows, or nothing while datagrams reached it, is a conflict', (t) => {
  const more = judge(withPhases((ph) => (ph.label === 'PROPER_1' ? { ...ph, udpReceived: ph.captured!.onBridge + 1 } : ph)));
  t.is(more.inconclusive, 'evidence-conflict');
  const none = judge(withPhases((ph) => (ph.label === 'BUGGY_2' ? { ...ph, udpReceived: 0 } : ph)));
  t.is(none.inconclusive, 'evidence-conflict');
  t.regex(none.reason, /BUGGY_2: the app received 0, the bridge capture shows 62/);
});

test('missing counts or captures are INCONCLUSIVE', (t) => {
  t.regex(judge(withPhases((ph) => (ph.label === 'BUGGY_1' ? { ...ph, udpReceived: null } : ph))).reason, /no UDP counts for BUGGY_1/);
  t.regex(judge(withPhases(({ captured: _c, ...ph }) => ph)).reason, /no capture counts/);
  t.is(judge({ ...run.evidence, captureProblems: ['capture cannot be read'] }).verdict, 'INCONCLUSIVE');
});

test("the session filter counts each phase's datagrams in the recorded capture, as evidence.json holds them", async (t) => {
  const file = recordedFile('docker-desktop-udp', 'sequence', 'pcap/desktop-vm-docker0.pcap');
  for (const [i, ph] of run.evidence.phases.entries()) {
    const r = await readLines(file, `udp and dst port 54603 and ${sessionFilter(i + 1)}`);
    if (!r.ok) return t.fail(r.problem);
    t.is(r.lines.length, ph.captured!.onBridge, ph.label);
    t.true(r.lines.length > 0);
  }
});

test("the binding that counts is docker-proxy's, as ss shows it in the recorded snapshots", (t) => {
  const lines = fs.readFileSync(recordedFile('docker-desktop-udp', 'sequence', 'snapshots/BUGGY_2-post-desktop-vm-ss.txt'), 'utf8').split('\n');
  t.true(lines.some((l) => forwarderBinding(l, 54603)));
  const other = lines.find((l) => forwarderBinding(l, 54603))!.replace('"docker-proxy"', '"python3"');
  t.false(forwarderBinding(other, 54603), 'another process on the port is not the forwarder');
});
