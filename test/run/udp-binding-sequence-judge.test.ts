import test from 'ava';
import { udpBindingSequenceScenario as s } from '../../src/run/scenarios/udp-binding-sequence.js';

const p = s.params.parse({ host: 'desktop', app: 'app' });
const up = { pre: true, during: true, post: true };
const phase = (label: string, closeOrder: 'proper' | 'buggy', udpReceived: number, post = true) => ({
  label, closeOrder, udpSent: 60, udpReceived, tcpConnected: true, snapshots: [],
  binding: { desktop: { ...up }, 'desktop-vm': { ...up, post } },
});

test('binding lost after BUGGY_1 and BUGGY_2 receives nothing: REPRODUCED', (t) => {
  const v = s.judge({ phases: [phase('PROPER_1', 'proper', 60), phase('PROPER_2', 'proper', 60), phase('BUGGY_1', 'buggy', 55, false), { ...phase('BUGGY_2', 'buggy', 0, false), binding: { desktop: up, 'desktop-vm': { pre: false, during: false, post: false } } }] }, p);
  t.is(v.verdict, 'REPRODUCED');
  t.regex(v.reason, /desktop-vm disappeared after BUGGY_1/);
});

test('bindings kept and every phase receives: NOT_REPRODUCED', (t) => {
  t.is(s.judge({ phases: [phase('PROPER_1', 'proper', 60), phase('PROPER_2', 'proper', 60), phase('BUGGY_1', 'buggy', 55), phase('BUGGY_2', 'buggy', 55)] }, p).verdict, 'NOT_REPRODUCED');
});

test('binding lost but BUGGY_2 still receives: NOT_REPRODUCED (the report needs both)', (t) => {
  t.is(s.judge({ phases: [phase('PROPER_1', 'proper', 60), phase('PROPER_2', 'proper', 60), phase('BUGGY_1', 'buggy', 55, false), phase('BUGGY_2', 'buggy', 40)] }, p).verdict, 'NOT_REPRODUCED');
});

test('a PROPER phase receiving nothing: INCONCLUSIVE (the path is broken)', (t) => {
  t.is(s.judge({ phases: [phase('PROPER_1', 'proper', 0), phase('PROPER_2', 'proper', 60), phase('BUGGY_1', 'buggy', 55), phase('BUGGY_2', 'buggy', 0)] }, p).verdict, 'INCONCLUSIVE');
});
