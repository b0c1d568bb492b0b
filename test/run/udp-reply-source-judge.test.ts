import test from 'ava';
import { udpReplySourceScenario as s } from '../../src/run/scenarios/udp-reply-source.js';

const udp = s.params.parse({ server: 'host', client: 'app' });
const tcp = s.params.parse({ server: 'host', client: 'app', mode: 'tcp' });
const base = { target: '10.15.1.2', client: { sent: 5, received: 5, replySources: ['10.15.1.2'], errors: [] }, onBridge: { replies: 5, replySources: ['10.15.1.2'], wrongSourceReplies: 0, icmpPortUnreachableFromClient: 0 } };

test('wrong source captured and replies missing: REPRODUCED', (t) => {
  const v = s.judge({ ...base, client: { ...base.client, received: 0 }, onBridge: { replies: 5, replySources: ['172.17.0.1'], wrongSourceReplies: 5, icmpPortUnreachableFromClient: 5 } }, udp);
  t.is(v.verdict, 'REPRODUCED');
  t.regex(v.reason, /from 172\.17\.0\.1 instead of 10\.15\.1\.2/);
});

test('right source and every reply: NOT_REPRODUCED', (t) => t.is(s.judge(base, udp).verdict, 'NOT_REPRODUCED'));

test('wrong source but every reply received: INCONCLUSIVE (the stories disagree)', (t) => {
  t.is(s.judge({ ...base, onBridge: { ...base.onBridge, replySources: ['172.17.0.1'], wrongSourceReplies: 5 } }, udp).verdict, 'INCONCLUSIVE');
});

test('no reply on the bridge at all: INCONCLUSIVE', (t) => {
  t.is(s.judge({ ...base, client: { ...base.client, received: 0 }, onBridge: { ...base.onBridge, replies: 0, replySources: [] } }, udp).verdict, 'INCONCLUSIVE');
});

test('TCP: every reply is NOT_REPRODUCED, a missing one is INCONCLUSIVE', (t) => {
  t.is(s.judge(base, tcp).verdict, 'NOT_REPRODUCED');
  t.is(s.judge({ ...base, client: { ...base.client, received: 3 } }, tcp).verdict, 'INCONCLUSIVE');
});

test('no client summary: INCONCLUSIVE', (t) => t.is(s.judge({ ...base, client: null }, udp).verdict, 'INCONCLUSIVE'));
