/** docker-desktop-udp: the verdict of a recorded run on 6.18, and what the judge does with the emulation's limits. */
import fs from 'node:fs';
import test from 'ava';
import { forwarderBinding, udpBindingSequenceScenario as s, type SequenceEvidence as Evidence } from '../../src/run/scenarios/udp-binding-sequence.js';
import { recorded, recordedFile } from './recorded.js';

const p = s.params.parse({ host: 'desktop', app: 'app' });

const run = recorded<Evidence>('docker-desktop-udp', 'sequence');

test("bindings kept and UDP flowing in every phase is not NOT_REPRODUCED: the report's forwarder is not emulated", (t) => {
  const v = s.judge(run.evidence, p);
  t.is(v.verdict, 'INCONCLUSIVE');
  t.is(v.verdict, run.verdict);
  t.regex(v.reason, /cannot observe the report's mechanism/);
  t.regex(v.reason, /kept docker-proxy's binding through every phase/);
  t.regex(v.reason, /not emulated: Docker Desktop's own Windows-side forwarding/);
});

test('docker-proxy losing its binding after BUGGY_1 and BUGGY_2 receiving nothing is REPRODUCED', (t) => {
  const phases = run.evidence.phases.map((ph) => {
    if (!ph.label.startsWith('BUGGY')) return ph;
    const lost = { pre: ph.label === 'BUGGY_1', during: ph.label === 'BUGGY_1', post: false };
    return { ...ph, udpReceived: ph.label === 'BUGGY_2' ? 0 : ph.udpReceived, binding: { ...ph.binding, 'desktop-vm': lost } };
  });
  const v = s.judge({ ...run.evidence, phases }, p);
  t.is(v.verdict, 'REPRODUCED');
  t.regex(v.reason, /docker-proxy's UDP binding on desktop-vm disappeared after BUGGY_1/);
});

test('a phase without UDP counts is INCONCLUSIVE', (t) => {
  const phases = run.evidence.phases.map((ph, i) => (i === 2 ? { ...ph, udpReceived: null } : ph));
  t.regex(s.judge({ ...run.evidence, phases }, p).reason, /no UDP counts for BUGGY_1/);
});

test("the binding that counts is docker-proxy's, as ss shows it in the recorded snapshots", (t) => {
  const lines = fs.readFileSync(recordedFile('docker-desktop-udp', 'sequence', 'snapshots/BUGGY_2-post-desktop-vm-ss.txt'), 'utf8').split('\n');
  t.true(lines.some((l) => forwarderBinding(l, 54603)));
  const other = lines.find((l) => forwarderBinding(l, 54603))!.replace('"docker-proxy"', '"python3"');
  t.false(forwarderBinding(other, 54603), 'another process on the port is not the forwarder');
});
