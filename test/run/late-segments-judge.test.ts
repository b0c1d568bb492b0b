import test from 'ava';
import { lateSegmentsScenario as s } from '../../src/run/scenarios/late-segments.js';

const p = s.params.parse({ client: 'app', server: 'server' });
const base = {
  client: { bytesReceived: 100, expectedBytes: 100, completed: true, error: null, stoppedAt: null },
  injected: { sent: 4, seenOnClientUplink: 4, forwardedToContainer: 4 },
  rst: { fromClientHostAtServer: 0, seenByServerAgent: 0 },
  conntrack: { invalidDelta: 0 },
};

test('late segments, no RST, download complete: NOT_REPRODUCED', (t) => t.is(s.judge(base, p).verdict, 'NOT_REPRODUCED'));

test('a RST from the client host: REPRODUCED, with where the download stopped', (t) => {
  const v = s.judge({ ...base, client: { ...base.client, completed: false, bytesReceived: 50, stoppedAt: 50, error: 'ECONNRESET' }, rst: { fromClientHostAtServer: 2, seenByServerAgent: 2 }, conntrack: { invalidDelta: 2 } }, p);
  t.is(v.verdict, 'REPRODUCED');
  t.regex(v.reason, /stopped at byte 50/);
});

test('nothing injected or nothing arrived: INCONCLUSIVE', (t) => {
  t.is(s.judge({ ...base, injected: { sent: 0, seenOnClientUplink: 0, forwardedToContainer: 0 } }, p).verdict, 'INCONCLUSIVE');
  t.is(s.judge({ ...base, injected: { sent: 4, seenOnClientUplink: 0, forwardedToContainer: 0 } }, p).verdict, 'INCONCLUSIVE');
});

test('agent and capture disagree, or the download failed without RST: INCONCLUSIVE', (t) => {
  t.is(s.judge({ ...base, rst: { fromClientHostAtServer: 0, seenByServerAgent: 1 } }, p).verdict, 'INCONCLUSIVE');
  t.is(s.judge({ ...base, client: { ...base.client, completed: false, error: 'timeout', stoppedAt: 10 } }, p).verdict, 'INCONCLUSIVE');
});
