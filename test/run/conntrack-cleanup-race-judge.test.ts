import test from 'ava';
import { conntrackCleanupRaceScenario as s } from '../../src/run/scenarios/conntrack-cleanup-race.js';

const p = s.params.parse({ client: 'client', server: 'server' });
const flow = '10.40.1.1:40000>10.40.2.2:9100';
const base = {
  timing: { staleEntriesAtTrigger: 5, wave2ConnectedFrom: 10.1, wave2ConnectedUntil: 10.12, triggerSnapshotAt: 10, firstDeletionOfTriggerCycle: 10.4 },
  wave1: { attempts: 5, ok: 5 },
  wave2: { attempts: 5, ok: 5, failed: [] },
  liveFlowsDeleted: [] as Array<{ tuple: string }>,
  deniedFlows: [] as Array<{ flow: string; packets: number }>,
};

test('live entry deleted and its replies denied: REPRODUCED', (t) => {
  t.is(s.judge({ ...base, wave2: { attempts: 5, ok: 4, failed: [{ tuple: flow, error: 'timeout' }] }, liveFlowsDeleted: [{ tuple: flow }], deniedFlows: [{ flow, packets: 11 }] }, p).verdict, 'REPRODUCED');
});

test('race window hit, nothing deleted or denied: NOT_REPRODUCED', (t) => t.is(s.judge(base, p).verdict, 'NOT_REPRODUCED'));

test('window missed or nothing stale: INCONCLUSIVE', (t) => {
  t.is(s.judge({ ...base, timing: { ...base.timing, staleEntriesAtTrigger: 0 } }, p).verdict, 'INCONCLUSIVE');
  t.is(s.judge({ ...base, timing: { ...base.timing, wave2ConnectedUntil: 10.5 } }, p).verdict, 'INCONCLUSIVE');
  t.is(s.judge({ ...base, wave1: { attempts: 5, ok: 3 } }, p).verdict, 'INCONCLUSIVE');
});

test('denials that match no deleted live flow: INCONCLUSIVE', (t) => {
  t.is(s.judge({ ...base, deniedFlows: [{ flow, packets: 3 }] }, p).verdict, 'INCONCLUSIVE');
});
