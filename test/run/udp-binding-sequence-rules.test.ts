/**
 * docker-desktop-udp's verdict rules (labs/docker-desktop-udp/lab.yaml) against udp-binding-sequence's coded judge:
 * the recorded sequence, the synthetic decided base of the mutation tests, and each with changed evidence, must get the
 * same verdict and kind both ways: INCONCLUSIVE emulation-gap included, which the rules now state in the lab file.
 * Where the judge's outcome facet says "not seen" on an INCONCLUSIVE, the rules' says "unknown" (it follows their verdict).
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { udpBindingSequenceScenario as s, type SequenceEvidence } from '../../src/run/scenarios/udp-binding-sequence.js';
import { codedRules, judgeCoded } from '../../src/run/declarative/coded.js';
import type { Verdict, VerdictValue } from '../../src/run/verdict.js';
import { recorded } from './recorded.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const LAB = 'docker-desktop-udp';
const labFile = parse(fs.readFileSync(path.join(root, 'labs', LAB, 'lab.yaml'), 'utf8')) as { scenario: { params: object; verdict: unknown } };
const params = s.params.parse(labFile.scenario.params);
const rules = codedRules(s, labFile.scenario.verdict)!;

const synthetic = JSON.parse(fs.readFileSync(path.join(root, 'test', 'fixtures', 'mutations', LAB, 'binding-lost', 'evidence.json'), 'utf8')) as {
  verdict: VerdictValue;
  evidence: SequenceEvidence;
};
const BASES: Record<string, { evidence: SequenceEvidence; stored: VerdictValue }> = {
  'sequence (recorded)': { evidence: recorded<SequenceEvidence>(LAB, 'sequence').evidence, stored: recorded<SequenceEvidence>(LAB, 'sequence').verdict },
  'binding-lost (synthetic)': { evidence: synthetic.evidence, stored: synthetic.verdict },
};

type Change = (e: SequenceEvidence) => void;
const last = (e: SequenceEvidence) => e.phases.at(-1)!;
const MUTATIONS: Record<string, Change> = {
  'a plain Docker host (no stand-in)': (e) => void (e.standIn = false),
  'the last phase received nothing, every binding kept': (e) => {
    last(e).udpReceived = 0;
    last(e).captured = { ...last(e).captured!, onBridge: 0 };
  },
  'the last phase received nothing, the binding lost before it': (e) => {
    last(e).udpReceived = 0;
    last(e).captured = { ...last(e).captured!, onBridge: 0 };
    last(e).binding['desktop-vm']!.pre = false;
    e.phases.at(-2)!.binding['desktop-vm']!.post = false;
  },
  'the last phase received nothing on a plain host, the binding lost': (e) => {
    e.standIn = false;
    last(e).udpReceived = 0;
    last(e).captured = { ...last(e).captured!, onBridge: 0 };
    e.phases.at(-2)!.binding['desktop-vm']!.post = false;
  },
  'the binding lost, yet every phase received': (e) => {
    for (const p of e.phases) p.udpReceived = p.udpReceived || p.udpSent;
    for (const p of e.phases) p.captured = { ...p.captured!, onBridge: Math.max(p.captured!.onBridge, p.udpReceived!) };
    e.phases[2]!.binding['desktop-vm']!.post = false;
  },
  'a PROPER phase received nothing': (e) => {
    e.phases[0]!.udpReceived = 0;
    e.phases[0]!.captured = { ...e.phases[0]!.captured!, onBridge: 0 };
  },
  'ss failed': (e) => void (e.phases[1]!.binding['desktop']!.pre = null),
  'the switch capture emptied': (e) => void e.phases.forEach((p) => (p.captured = { ...p.captured!, onSwitch: 0 })),
  'a capture not proven live': (e) => void (e.captureProblems = ['desktop-eth0.pcap holds 0 packet(s) but tcpdump reported 277 captured']),
  'the server sent nothing in the last phase': (e) => void (last(e).udpSent = 0),
};

const brief = (v: Verdict) => ({ verdict: v.verdict, kind: v.inconclusive, mechanism: v.mechanism?.seen });

function compare(t: import('ava').ExecutionContext, e: SequenceEvidence, what: string): Verdict {
  const coded = s.judge(e, params);
  const { measures: _m, ...ruled } = judgeCoded(s, rules, e, params);
  const expected = brief(coded);
  const actual = brief(ruled);
  // Preconditions give no facets, and the judge none where no PROPER phase received: the mechanisms are compared where both say one.
  if (!ruled.mechanism || !coded.mechanism) expected.mechanism = actual.mechanism = undefined;
  t.deepEqual(actual, expected, `${what}: rules ${ruled.verdict} (${ruled.reason}); judge ${coded.verdict} (${coded.reason})`);
  if (ruled.verdict === 'NOT_REPRODUCED') t.is(ruled.outcome?.seen, false, what);
  if (ruled.verdict === 'REPRODUCED') t.is(ruled.outcome?.seen, true, what);
  return ruled;
}

test('docker-desktop-udp: every base and each with changed evidence, the rules give the judge verdict and kind', (t) => {
  const seen = new Set<string>();
  for (const [name, base] of Object.entries(BASES)) {
    t.is(compare(t, base.evidence, name).verdict, base.stored, `${name}: the verdict stored with it`);
    for (const [change, apply] of Object.entries(MUTATIONS)) {
      const e = structuredClone(base.evidence);
      apply(e);
      const v = compare(t, e, `${name}, ${change}`);
      seen.add(`${v.verdict}${v.inconclusive ? ` ${v.inconclusive}` : ''}`);
    }
  }
  t.deepEqual([...seen].sort(), [
    'INCONCLUSIVE emulation-gap',
    'INCONCLUSIVE evidence-conflict',
    'INCONCLUSIVE evidence-missing',
    'NOT_REPRODUCED',
    'REPRODUCED',
  ]);
});

test("docker-desktop-udp: the recorded sequence is INCONCLUSIVE emulation-gap by the lab file's own rule, which the reason quotes", (t) => {
  const v = judgeCoded(s, rules, BASES['sequence (recorded)']!.evidence, params);
  t.is(v.verdict, 'INCONCLUSIVE');
  t.is(v.inconclusive, 'emulation-gap');
  t.regex(
    v.reason,
    /^the report's forwarder is Docker Desktop's closed-source Windows-side one, not run here \(docker\/for-win#14823, dockur\/windows#1245\); its open-source stand-ins kept delivering: 1 Docker Desktop's forwarder stood in for/,
  );
});
