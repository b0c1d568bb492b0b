/**
 * Declared rules, outcome first: the lab file's failure and mechanism in the verdict's facets, healthy evidence that
 * must be above 0, and phase windows placed in each node's clock.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { root } from '../helpers/cli.js';
import { judgeRules, UNNAMED_FAILURE } from '../../src/run/declarative/rules.js';
import { measureAll, measureId, nodeWindow, type Measured } from '../../src/run/declarative/measure.js';
import { plainConditions, type Condition, type Measure, type VerdictRules } from '../../src/lab/declared/spec.js';
import type { Recorded } from '../../src/run/declarative/steps.js';

const received: Measure = { kind: 'agent', spec: { name: 'client', counter: 'received' }, as: 'replies reached the client' };
const sent: Measure = { kind: 'agent', spec: { name: 'client', counter: 'sent' } };
const wrong: Measure = { kind: 'packets', spec: { capture: 'bridge', filter: 'udp and not src host 10.15.1.2' }, as: 'replies left from another address' };
const cond = (measure: Measure, op: Condition['op'], than: number | Measure): Condition => ({ measure, op, than });
const base: VerdictRules = {
  reproduced: [cond(received, 'below', sent)],
  notReproduced: [cond(received, 'equals', sent)],
  healthy: [cond(received, 'equals', sent)],
};
const named: VerdictRules = {
  ...base,
  failure: 'replies never reach the client',
  mechanism: { name: 'replies leave from docker0', when: [cond(wrong, 'atLeast', 1)] },
};
const numbers = (w: number | null, r: number, s: number): Record<string, Measured> => ({
  [measureId(wrong)]: w === null ? { label: '', value: null, missing: 'capture bridge has no pcap file' } : { label: '', value: w },
  [measureId(received)]: { label: '', value: r },
  [measureId(sent)]: { label: '', value: s },
});

test("the lab file's failure names the outcome facet; REPRODUCED sees it, NOT_REPRODUCED does not", (t) => {
  const failed = judgeRules(named, numbers(5, 0, 5));
  t.is(failed.verdict, 'REPRODUCED');
  t.deepEqual(failed.outcome, { failure: 'replies never reach the client', seen: true, detail: failed.reason });
  t.deepEqual(failed.mechanism, { name: 'replies leave from docker0', seen: true, detail: '5 replies left from another address' });
  const fine = judgeRules(named, numbers(0, 5, 5));
  t.is(fine.verdict, 'NOT_REPRODUCED');
  t.is(fine.outcome?.seen, false);
  t.is(fine.mechanism?.seen, false);
  t.is(judgeRules(base, numbers(0, 5, 5)).outcome?.failure, UNNAMED_FAILURE);
});

test('a mechanism seen without the failure is NOT_REPRODUCED, and the reason says so', (t) => {
  const v = judgeRules(named, numbers(2, 5, 5));
  t.is(v.verdict, 'NOT_REPRODUCED');
  t.regex(v.reason, /; the mechanism \(replies leave from docker0\) was seen without the failure: 2 replies left from another address$/);
});

test('a mechanism whose evidence is missing is unknown, and does not decide the verdict', (t) => {
  const v = judgeRules(named, numbers(null, 0, 5));
  t.is(v.verdict, 'REPRODUCED');
  t.is(v.mechanism?.seen, null);
  t.regex(v.mechanism!.detail, /capture bridge has no pcap file/);
});

test('healthy evidence of 0 never shows traffic flowed, even when the comparison holds (0 received of 0 sent)', (t) => {
  const v = judgeRules(base, numbers(0, 0, 0));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.regex(v.reason, /for NOT_REPRODUCED 0 replies reached the client \(client sent: 0\), needed more than 0/);
  t.is(v.outcome?.seen, null);
});

test('both rules holding is an evidence conflict', (t) => {
  const loose: VerdictRules = { ...base, reproduced: [cond(received, 'atLeast', 1)] };
  t.is(judgeRules(loose, numbers(0, 5, 5)).inconclusive, 'evidence-conflict');
});

const phase = { name: 'after', start: 1000, end: 1010 };
const rec = (clocks: Recorded['clocks']): Recorded => ({ phases: [phase], agents: {}, captures: {}, snapshots: {}, commands: [], conntrack: {}, clocks });

test("a phase window moves by the node's clock offset, unless the offset is within half the round trip or 50 ms", (t) => {
  t.deepEqual(nodeWindow(rec({ vm: { offset: 3.5, roundTrip: 0.2 } }), 'vm', phase), { name: 'after', start: 1003.5, end: 1013.5 });
  t.deepEqual(nodeWindow(rec({ ns: { offset: 0.001, roundTrip: 0.004 } }), 'ns', phase), phase);
  t.deepEqual(nodeWindow(rec({ ns: { offset: 0.0136, roundTrip: 0.004 } }), 'ns', phase), phase, 'a netns reading skewed by a loaded machine');
  t.deepEqual(nodeWindow(rec({ vm: { offset: -0.5, roundTrip: 1.2 } }), 'vm', phase), phase, 'within half the round trip');
  t.deepEqual(nodeWindow(rec({ vm: { problem: 'the clock of vm could not be read' } }), 'vm', phase), { missing: 'the clock of vm could not be read' });
  t.regex((nodeWindow(rec({}), 'vm', phase) as { missing: string }).missing, /clock of vm was not read/);
  t.deepEqual(nodeWindow(rec(undefined), 'vm', phase), phase, 'runs recorded before clocks were read');
});

test("recorded udp-stale-dnat: shifting the gateway's clock moves its events out of the phase", async (t) => {
  const dir = path.join(root, 'test', 'fixtures', 'declarative', 'runs', 'udp-stale-dnat');
  const saved = JSON.parse(fs.readFileSync(path.join(dir, 'keep-entry', 'evidence.json'), 'utf8'));
  const recorded = saved.evidence.recorded as Recorded;
  // The lab's own condition: datagrams still went to the old backend after the move.
  const toNew = plainConditions((saved.evidence.rules as VerdictRules).reproduced).find(
    (c) => c.measure.kind === 'packets' && c.measure.spec.capture === 'to-old',
  )!.measure;
  const r: VerdictRules = { reproduced: [cond(toNew, 'atLeast', 1)], notReproduced: [cond(toNew, 'equals', 0)], healthy: [cond(toNew, 'atLeast', 1)] };
  const count = async (clocks: Recorded['clocks']) => (await measureAll(r, { ...recorded, clocks }, dir))[measureId(toNew)]!;
  const node = recorded.captures['to-old']!.node;
  const inPhase = await count({ [node]: { offset: 0, roundTrip: 0.01 } });
  t.true(inPhase.value! > 0, `${inPhase.value} datagrams in phase after`);
  const later = await count({ [node]: { offset: 3600, roundTrip: 0.01 } });
  t.is(later.value, 0, "the same packets, stamped by a clock an hour ahead, are before the node's window");
  t.regex((await count({ [node]: { problem: `the clock of ${node} could not be read` } })).missing!, /could not be read/);
});
