/**
 * Verdict rules: pure evaluation on numbers, and the whole measure-then-judge path on evidence
 * recorded by real runs on kernel 6.18 (pcaps read back with tcpdump, agent logs, snapshots).
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { root, tempHome } from '../helpers/cli.js';
import { judgeRules } from '../../src/run/declarative/rules.js';
import { parseCodedVerdict } from '../../src/lab/declared/parse.js';
import { measureAll, measureId, type Measured } from '../../src/run/declarative/measure.js';
import type { Condition, Measure, VerdictRules } from '../../src/lab/declared/spec.js';
import type { Recorded } from '../../src/run/declarative/steps.js';

const received: Measure = { kind: 'agent', spec: { name: 'client', counter: 'received' }, as: 'replies reached the client' };
const sent: Measure = { kind: 'agent', spec: { name: 'client', counter: 'sent' } };
const wrong: Measure = { kind: 'packets', spec: { capture: 'bridge', filter: 'udp and not src host 10.15.1.2' }, as: 'replies left from another address' };
const cond = (measure: Measure, op: Condition['op'], than: number | Measure): Condition => ({ measure, op, than });
const rules: VerdictRules = {
  reproduced: [cond(wrong, 'atLeast', 1), cond(received, 'below', sent)],
  notReproduced: [cond(wrong, 'equals', 0)],
  healthy: [cond(received, 'equals', sent)],
};
const numbers = (w: number | null, r: number | null, s: number | null): Record<string, Measured> => ({
  [measureId(wrong)]: w === null ? { label: '', value: null, missing: 'capture bridge has no pcap file' } : { label: '', value: w },
  [measureId(received)]: r === null ? { label: '', value: null, missing: 'agent client wrote no summary' } : { label: '', value: r },
  [measureId(sent)]: s === null ? { label: '', value: null, missing: 'agent client wrote no summary' } : { label: '', value: s },
});

test('REPRODUCED: the reason is generated from the conditions and their numbers', (t) => {
  const v = judgeRules(rules, numbers(50, 0, 50));
  t.is(v.verdict, 'REPRODUCED');
  t.is(v.reason, '50 replies left from another address; 0 replies reached the client (client sent: 50)');
});

test('NOT_REPRODUCED names the positive evidence that traffic flowed', (t) => {
  const v = judgeRules(rules, numbers(0, 50, 50));
  t.is(v.verdict, 'NOT_REPRODUCED');
  t.is(v.reason, '0 replies left from another address; traffic flowed: 50 replies reached the client (client sent: 50)');
});

test('missing evidence is INCONCLUSIVE, whatever the other numbers say', (t) => {
  const v = judgeRules(rules, numbers(null, 0, 50));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.is(v.reason, 'evidence missing: capture bridge has no pcap file');
  t.is(judgeRules(rules, numbers(0, null, null)).verdict, 'INCONCLUSIVE');
});

test('neither rule holding is INCONCLUSIVE, and says what failed', (t) => {
  const v = judgeRules(rules, numbers(0, 10, 50));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.is(
    v.reason,
    'neither rule holds: for REPRODUCED 0 replies left from another address, needed at least 1; ' +
      'for NOT_REPRODUCED 10 replies reached the client, needed exactly client sent (50)',
  );
});

test('both rules holding is INCONCLUSIVE', (t) => {
  const loose: VerdictRules = {
    reproduced: [cond(received, 'atLeast', 1)],
    notReproduced: [cond(wrong, 'equals', 0)],
    healthy: [cond(received, 'atLeast', 1)],
  };
  const v = judgeRules(loose, numbers(0, 50, 50));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.regex(v.reason, /^both rules hold/);
});

// Runs recorded on kernel 6.18 (netns): each variant's folder holds evidence.json, pcaps, agent logs, snapshots.
const runs = path.join(root, 'test', 'fixtures', 'declarative', 'runs');
for (const labName of fs.existsSync(runs) ? fs.readdirSync(runs) : []) {
  for (const variant of fs.readdirSync(path.join(runs, labName)).filter((v) => fs.existsSync(path.join(runs, labName, v, 'evidence.json')))) {
    test(`recorded ${labName}/${variant}: measured again from its artifacts, the same numbers and verdict`, async (t) => {
      const saved = JSON.parse(fs.readFileSync(path.join(runs, labName, variant, 'evidence.json'), 'utf8'));
      const measures = await measureAll(saved.evidence.rules, saved.evidence.recorded as Recorded, path.join(runs, labName));
      t.deepEqual(measures, saved.evidence.measures);
      const v = judgeRules(saved.evidence.rules, measures);
      t.is(v.verdict, saved.verdict);
      t.is(v.reason, saved.reason);
    });
  }
}

test('recorded run: a missing pcap or one tcpdump cannot read makes the verdict INCONCLUSIVE', async (t) => {
  const dir = path.join(runs, 'udp-stale-dnat');
  const saved = JSON.parse(fs.readFileSync(path.join(dir, 'keep-entry', 'evidence.json'), 'utf8'));
  t.is(saved.verdict, 'REPRODUCED');
  const rec = structuredClone(saved.evidence.recorded) as Recorded;
  rec.captures['to-old']!.file = 'keep-entry/pcap/gone.pcap';
  let v = judgeRules(saved.evidence.rules, await measureAll(saved.evidence.rules, rec, dir));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.is(v.reason, 'evidence missing: capture to-old has no pcap file');

  const home = tempHome();
  fs.mkdirSync(path.join(home, 'keep-entry', 'pcap'), { recursive: true });
  for (const sub of ['agents', 'snapshots']) fs.cpSync(path.join(dir, 'keep-entry', sub), path.join(home, 'keep-entry', sub), { recursive: true });
  fs.copyFileSync(path.join(dir, 'keep-entry', 'pcap', 'to-new.pcap'), path.join(home, 'keep-entry', 'pcap', 'to-new.pcap'));
  fs.writeFileSync(path.join(home, 'keep-entry', 'pcap', 'to-old.pcap'), 'not a pcap');
  v = judgeRules(saved.evidence.rules, await measureAll(saved.evidence.rules, saved.evidence.recorded, home));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.regex(v.reason, /^evidence missing: tcpdump cannot read keep-entry\/pcap\/to-old\.pcap/);
});

test('recorded run: an agent without a summary makes the verdict INCONCLUSIVE', async (t) => {
  const dir = path.join(runs, 'moby-15127-declared');
  const saved = JSON.parse(fs.readFileSync(path.join(dir, 'bind-address', 'evidence.json'), 'utf8'));
  const rec = structuredClone(saved.evidence.recorded) as Recorded;
  rec.agents.client!.summary = null;
  const v = judgeRules(saved.evidence.rules, await measureAll(saved.evidence.rules, rec, dir));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.is(v.reason, 'evidence missing: agent client wrote no summary');
});

test('conntrack counters are compared as changes over the phase; a counter not reported is missing', async (t) => {
  const invalid: Measure = { kind: 'conntrack', spec: { node: 'gw', counter: 'invalid', phase: 'after' } };
  const r: VerdictRules = { reproduced: [cond(invalid, 'atLeast', 1)], notReproduced: [cond(invalid, 'equals', 0)], healthy: [cond(invalid, 'atMost', 1000)] };
  const rec: Recorded = {
    phases: [{ name: 'after', start: 1, end: 2 }],
    agents: {},
    captures: {},
    snapshots: {},
    commands: [],
    conntrack: { gw: { start: { invalid: 1 }, 'after:start': { invalid: 3 }, 'after:end': { invalid: 7 }, end: { invalid: 7 } } },
  };
  const measured = await measureAll(r, rec, root);
  t.is(measured[measureId(invalid)]!.value, 4);
  t.is(judgeRules(r, measured).reason, '4 conntrack invalid (change on gw in phase after)');
  delete rec.conntrack.gw!['after:end'];
  t.is(judgeRules(r, await measureAll(r, rec, root)).reason, 'evidence missing: no conntrack -S invalid on gw at after:start and after:end');
});

test('a wait that ran out of time makes the verdict INCONCLUSIVE, and says what the rules alone would say', async (t) => {
  const { declaredScenario } = await import('../../src/run/declarative/scenario.js');
  const evidence = { rules, measures: numbers(50, 0, 50), recorded: { timeouts: ['agent client on app did not report "summary" within 30000 ms'] } };
  const v = declaredScenario.judge(evidence, {});
  t.is(v.verdict, 'INCONCLUSIVE');
  t.is(
    v.reason,
    'agent client on app did not report "summary" within 30000 ms; the rules alone would say REPRODUCED: ' +
      '50 replies left from another address; 0 replies reached the client (client sent: 50)',
  );
  t.is(declaredScenario.judge({ ...evidence, recorded: {} }, {}).verdict, 'REPRODUCED');
});

test('a case the lab file states it cannot decide is INCONCLUSIVE of its kind before the other rules, and only when all its conditions hold', (t) => {
  const gap: VerdictRules = {
    ...rules,
    inconclusive: [
      { kind: 'emulation-gap', because: 'the forwarder of the report is not run here', when: [cond(wrong, 'equals', 0), cond(received, 'atLeast', 1)] },
    ],
  };
  const v = judgeRules(gap, numbers(0, 50, 50));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.is(v.inconclusive, 'emulation-gap');
  t.is(v.reason, 'the forwarder of the report is not run here: 0 replies left from another address; 50 replies reached the client');
  t.is(judgeRules(gap, numbers(50, 0, 50)).verdict, 'REPRODUCED');
  const missing = judgeRules(gap, numbers(0, null, 50));
  t.is(missing.inconclusive, 'evidence-missing');
});

test('stated inconclusive cases are checked when parsed: the kind, the words and the conditions', (t) => {
  const base = { reproduced: [{ measure: 'a', above: 0 }], notReproduced: { when: [{ measure: 'a', equals: 0 }], healthy: [{ measure: 'b', atLeast: 1 }] } };
  const ok = parseCodedVerdict({ ...base, inconclusive: [{ kind: 'emulation-gap', because: 'not run here', when: [{ measure: 'a', equals: 0 }] }] }, [
    'a',
    'b',
  ]);
  t.deepEqual(ok.problems, []);
  t.is(ok.rules?.inconclusive?.[0]?.kind, 'emulation-gap');
  const bad = parseCodedVerdict({ ...base, inconclusive: [{ kind: 'error', because: '', when: [{ measure: 'c', equals: 0 }], extra: 1 }] }, ['a', 'b']);
  t.deepEqual(
    bad.problems.map((p) => `${p.path.join('.')}: ${p.message.split(':')[0]}`),
    [
      'scenario.verdict.inconclusive.0.extra: unknown key "extra" (expected one of',
      'scenario.verdict.inconclusive.0.kind: expected one of',
      'scenario.verdict.inconclusive.0.because: expected a short text on one line (1 to 200 characters)',
    ],
  );
  t.deepEqual(parseCodedVerdict({ ...base, inconclusive: [] }, ['a', 'b']).problems[0]?.path, ['scenario', 'verdict', 'inconclusive']);
});
