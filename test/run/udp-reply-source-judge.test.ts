/** moby-15127: verdicts of a recorded run on 6.18, and what the judge does with broken evidence. */
import test from 'ava';
import { udpReplySourceScenario as s, type ReplyEvidence as Evidence } from '../../src/run/scenarios/udp-reply-source.js';
import { recorded } from './recorded.js';

const params = (mode: string) => s.params.parse({ server: 'host', client: 'app', mode });
const judge = (mode: string, change: (e: Evidence) => Evidence = (e) => e) => s.judge(change(recorded<Evidence>('moby-15127', mode).evidence), params(mode));

test('recorded verdicts: recvfrom-any REPRODUCED, the three fixes NOT_REPRODUCED', (t) => {
  for (const mode of ['recvfrom-any', 'bind-address', 'pktinfo', 'tcp']) t.is(judge(mode).verdict, recorded<Evidence>('moby-15127', mode).verdict, mode);
  t.is(judge('recvfrom-any').verdict, 'REPRODUCED');
  t.regex(judge('recvfrom-any').reason, /from 172\.17\.0\.1 instead of 10\.15\.1\.2/);
  t.is(judge('pktinfo').verdict, 'NOT_REPRODUCED');
});

test('an unreadable capture is INCONCLUSIVE for UDP, and does not matter for TCP', (t) => {
  const broken = (e: Evidence) => ({ ...e, captureProblems: ['capture pcap/host-docker0.pcap cannot be read: truncated dump file'] });
  t.is(judge('bind-address', broken).verdict, 'INCONCLUSIVE');
  t.is(judge('tcp', broken).verdict, 'NOT_REPRODUCED');
});

test('no reply on the bridge at all, or no client summary, is INCONCLUSIVE', (t) => {
  t.is(judge('bind-address', (e) => ({ ...e, onBridge: { ...e.onBridge, replies: 0 } })).verdict, 'INCONCLUSIVE');
  t.is(judge('bind-address', (e) => ({ ...e, client: null })).verdict, 'INCONCLUSIVE');
});

test('TCP with a missing reply is INCONCLUSIVE', (t) => {
  t.is(judge('tcp', (e) => ({ ...e, client: { ...e.client!, received: e.client!.sent - 1 } })).verdict, 'INCONCLUSIVE');
});
