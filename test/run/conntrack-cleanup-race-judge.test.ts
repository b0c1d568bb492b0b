/** npa-conntrack-race: verdicts of a recorded run on 6.18, and the judge's answer to missing summaries. */
import test from 'ava';
import { conntrackCleanupRaceScenario as s, type RaceEvidence as Evidence } from '../../src/run/scenarios/conntrack-cleanup-race.js';
import { recorded } from './recorded.js';

const p = s.params.parse({ client: 'client', server: 'server' });
const miss = recorded<Evidence>('npa-conntrack-race', 'consecutive-miss');
const immediate = recorded<Evidence>('npa-conntrack-race', 'immediate-delete');
const missed = recorded<Evidence>('npa-conntrack-race', 'immediate-delete-window-missed');

test('recorded verdicts are what the judge gives today', (t) => {
  for (const r of [miss, immediate, missed]) t.is(s.judge(r.evidence, p).verdict, r.verdict);
});

test('immediate-delete: live reused flows deleted from an old snapshot, their replies denied: REPRODUCED', (t) => {
  const v = s.judge(immediate.evidence, p);
  t.is(v.verdict, 'REPRODUCED');
  t.regex(v.reason, /deleted 5 entries of live, reused flows/);
});

test('immediate-delete whose second wave came after the walk started deleting is INCONCLUSIVE', (t) => {
  t.regex(s.judge(missed.evidence, p).reason, /race window was not hit cleanly/);
});

test('consecutive-miss: tuples reused inside the walk, nothing deleted or denied: NOT_REPRODUCED', (t) => {
  const v = s.judge(miss.evidence, p);
  t.is(v.verdict, 'NOT_REPRODUCED');
  t.regex(v.reason, /no live entry was deleted and no reply was denied/);
});

test('a missing policy-agent summary is INCONCLUSIVE, not "no deletions"', (t) => {
  const v = s.judge({ ...immediate.evidence, summaryProblems: ['the policy agent produced no summary'] }, p);
  t.is(v.verdict, 'INCONCLUSIVE');
  t.regex(v.reason, /policy agent produced no summary/);
  const { summaryProblems: _dropped, ...without } = miss.evidence;
  t.is(s.judge(without as Evidence, p).verdict, 'INCONCLUSIVE', 'evidence from before summaries were checked');
});
