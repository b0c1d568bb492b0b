/** npa-conntrack-race: verdicts of recorded runs on 6.18, the capture read again, and the judge's answer to failed or conflicting evidence. */
import test from 'ava';
import { conntrackCleanupRaceScenario as s, wireFlow, type RaceEvidence as Evidence } from '../../src/run/scenarios/conntrack-cleanup-race.js';
import { readSegments } from '../../src/run/pcap.js';
import { recorded, recordedFile } from './recorded.js';

const p = s.params.parse({ client: 'client', server: 'server' });
const miss = recorded<Evidence>('npa-conntrack-race', 'consecutive-miss');
const immediate = recorded<Evidence>('npa-conntrack-race', 'immediate-delete');
const missed = recorded<Evidence>('npa-conntrack-race', 'immediate-delete-window-missed');
const judge = (e: Evidence) => s.judge(e, p);
const TUPLE = '10.40.1.1:40000>10.40.2.2:9100';

test('recorded verdicts are what the judge gives today', (t) => {
  for (const r of [miss, immediate]) t.is(judge(r.evidence).verdict, r.verdict);
});

test('the wire counts in evidence.json are what the recorded captures hold', async (t) => {
  for (const [variant, r] of [
    ['immediate-delete', immediate],
    ['consecutive-miss', miss],
  ] as const) {
    const read = await readSegments(recordedFile('npa-conntrack-race', variant, 'pcap/server-eth0.pcap'), 'tcp port 9100');
    if (!read.ok) return t.fail(read.problem);
    for (const [tuple, flow] of Object.entries(r.evidence.onWire!)) t.deepEqual(wireFlow(read.segments, tuple), flow, `${variant} ${tuple}`);
  }
});

test('immediate-delete: live reused flows deleted from an old snapshot, their replies denied, the connections failed: REPRODUCED', (t) => {
  const v = judge(immediate.evidence);
  t.is(v.verdict, 'REPRODUCED');
  t.is(v.outcome?.seen, true);
  t.is(v.mechanism?.seen, true);
  t.regex(v.reason, /deleted 5 entries of live, reused flows/);
  t.regex(v.reason, /5 pings unanswered on the wire\); wave 2: 0\/5 connections ok/);
});

test('consecutive-miss: tuples reused inside the walk, nothing deleted or denied, every echo on the wire: NOT_REPRODUCED', (t) => {
  const v = judge(miss.evidence);
  t.is(v.verdict, 'NOT_REPRODUCED');
  t.is(v.outcome?.seen, false);
  t.regex(v.reason, /no live entry was deleted and no reply was denied/);
});

test('a live entry deleted and denied while every connection completed is NOT_REPRODUCED, and says so', (t) => {
  const e = miss.evidence;
  const v = judge({ ...e, liveFlowsDeleted: [{ tuple: TUPLE, cycle: 1, t: 0 }], deniedFlows: [{ flow: '10.40.1.1:40001>10.40.2.2:9100', packets: 2 }] });
  t.is(v.verdict, 'NOT_REPRODUCED');
  t.regex(v.reason, /deleted 1 live entries and 2 reply packets were denied, but every wave-2 connection completed/);
});

test('failed connections that were not denied are INCONCLUSIVE, not REPRODUCED', (t) => {
  const e = immediate.evidence;
  t.is(judge({ ...e, deniedFlows: [] }).verdict, 'INCONCLUSIVE');
});

test('the agents and the capture must agree', (t) => {
  const e = immediate.evidence;
  const echoes = judge({ ...e, onWire: { ...e.onWire!, [TUPLE]: { ...e.onWire![TUPLE]!, echoes: 0 } } });
  t.is(echoes.inconclusive, 'evidence-conflict');
  t.regex(echoes.reason, /counted 2 echoes, the capture shows 0/);
  const answered = judge({ ...e, onWire: { ...e.onWire!, [TUPLE]: { ...e.onWire![TUPLE]!, pings: 2 } } });
  t.is(answered.inconclusive, 'evidence-conflict');
  t.regex(answered.reason, /every ping answered/);
  const noSyn = judge({ ...miss.evidence, onWire: { ...miss.evidence.onWire!, [TUPLE]: { ...miss.evidence.onWire![TUPLE]!, syns: 0 } } });
  t.is(noSyn.inconclusive, 'evidence-conflict');
});

test('a failing conntrack -L is INCONCLUSIVE, never "expired" or "missing"', (t) => {
  const agent = judge({ ...miss.evidence, agentConntrackFailures: 1 });
  t.is(agent.verdict, 'INCONCLUSIVE');
  t.regex(agent.reason, /conntrack -L failed 1 time\(s\) in the policy agent/);
  t.is(judge({ ...miss.evidence, conntrackListFailures: 3 }).verdict, 'INCONCLUSIVE');
  const { agentConntrackFailures: _a, ...unrecorded } = miss.evidence;
  t.is(judge(unrecorded as Evidence).verdict, 'INCONCLUSIVE', 'evidence from before the failures were counted');
  t.is(judge({ ...miss.evidence, timing: { ...miss.evidence.timing, wave1EntriesExpiredAt: null } }).verdict, 'INCONCLUSIVE');
});

test('an unreadable or missing capture is INCONCLUSIVE', (t) => {
  t.is(judge({ ...miss.evidence, captureProblems: ['capture cannot be read'] }).verdict, 'INCONCLUSIVE');
  const { onWire: _w, ...uncaptured } = miss.evidence;
  t.regex(judge(uncaptured as Evidence).reason, /not captured/);
});

test('immediate-delete whose second wave came after the walk started deleting is INCONCLUSIVE', (t) => {
  const counted = { ...missed.evidence, agentConntrackFailures: 0, conntrackListFailures: 0 };
  t.regex(judge(counted).reason, /race window was not hit cleanly/);
});

test('a missing policy-agent summary is INCONCLUSIVE, not "no deletions"', (t) => {
  const v = judge({ ...immediate.evidence, summaryProblems: ['the policy agent produced no summary'] });
  t.is(v.verdict, 'INCONCLUSIVE');
  t.regex(v.reason, /policy agent produced no summary/);
  const { summaryProblems: _dropped, ...without } = miss.evidence;
  t.is(judge(without as Evidence).verdict, 'INCONCLUSIVE', 'evidence from before summaries were checked');
});

test("the cleanup touching wave 1's entries before the trigger cycle is INCONCLUSIVE, naming the cycles", (t) => {
  const timing = { ...immediate.evidence.timing, triggerCycle: 5 };
  const early = [
    { tuple: TUPLE, cycle: 3, action: 'missed' as const },
    { tuple: '10.40.1.1:40001>10.40.2.2:9100', cycle: 4, action: 'deleted' as const },
  ];
  const clean = judge({ ...immediate.evidence, timing, wave1EntriesBeforeTrigger: early });
  t.is(clean.verdict, 'INCONCLUSIVE');
  t.is(clean.inconclusive, 'evidence-missing');
  t.deepEqual(clean.decidedBy, ['wave1EntriesBeforeTrigger']);
  t.regex(
    clean.reason,
    /^wave 1 ran cleanly, but the cleanup already missed 10\.40\.1\.1:40000>10\.40\.2\.2:9100 in cycle 3, deleted 10\.40\.1\.1:40001>10\.40\.2\.2:9100 in cycle 4, before trigger cycle 5/,
  );
  t.regex(clean.reason, /was not the first to find wave 1's entries missing/);
  const wave1 = { attempts: 5, ok: 4, failed: [{ tuple: '10.40.1.1:40001>10.40.2.2:9100', error: 'timeout', t: 1 }] };
  const broken = judge({ ...immediate.evidence, timing, wave1, wave1EntriesBeforeTrigger: early.slice(1) });
  t.is(broken.verdict, 'INCONCLUSIVE');
  t.regex(
    broken.reason,
    /^wave 1 did not run cleanly \(4\/5 ok: 10\.40\.1\.1:40001>10\.40\.2\.2:9100 timeout\); the cleanup already deleted .* in cycle 4, before trigger cycle 5/,
  );
  t.regex(broken.reason, /no clean map state to race$/);
  const noTrigger = judge({ ...immediate.evidence, timing: { ...timing, triggerCycle: null }, wave1EntriesBeforeTrigger: early.slice(0, 1) });
  t.regex(noTrigger.reason, /missed .* in cycle 3, before any trigger cycle/);
});

test('no cycle seeing wave 1 stale (wave 2 never released) is INCONCLUSIVE, not NOT_REPRODUCED', (t) => {
  for (const r of [immediate, miss]) {
    const timing = { ...r.evidence.timing, wave1ReleasedAfterCycle: 2, triggerCycle: null, triggerSnapshotAt: null, staleEntriesAtTrigger: null };
    const v = judge({ ...r.evidence, timing, wave1EntriesBeforeTrigger: [], wave2: { attempts: 0, ok: 0, failed: [] } });
    t.is(v.verdict, 'INCONCLUSIVE');
    t.deepEqual(v.decidedBy, ['timing.triggerCycle']);
    t.regex(
      v.reason,
      /no cleanup cycle after wave 1 \(released after cycle 2\) had a snapshot lacking one of wave 1's tuples its map held, so wave 2 was not released/,
    );
  }
});

test('a trigger cycle with no stale entries is INCONCLUSIVE', (t) => {
  const v = judge({ ...miss.evidence, timing: { ...miss.evidence.timing, staleEntriesAtTrigger: 0 } });
  t.is(v.verdict, 'INCONCLUSIVE');
  t.regex(v.reason, /map held no stale entries/);
});
