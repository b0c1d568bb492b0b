/** moby-15127: verdicts of recorded runs on 6.18 (TCP's bridge evidence read again from its capture), and broken or conflicting evidence. */
import test from 'ava';
import { readBridge, udpReplySourceScenario as s, type ReplyEvidence as Evidence } from '../../src/run/scenarios/udp-reply-source.js';
import { CaptureReader } from '../../src/run/pcap.js';
import { recorded, recordedFile } from './recorded.js';

const params = (mode: string) => s.params.parse({ server: 'host', client: 'app', mode });
const judge = (e: Evidence, mode: string) => s.judge(e, params(mode));
const evidence = (mode: string) => recorded<Evidence>('moby-15127', mode).evidence;

/** The TCP recording predates reading its capture: read it as run() does now. */
async function tcpEvidence(): Promise<Evidence> {
  const reader = new CaptureReader();
  const file = recordedFile('moby-15127', 'tcp', 'pcap/host-docker0.pcap');
  const onBridge = await readBridge(reader, file, { proto: 'tcp', port: 56789, client: '172.17.0.2', target: '10.15.1.2' });
  return { ...evidence('tcp'), onBridge, captureProblems: reader.problems };
}

test('recorded verdicts: recvfrom-any REPRODUCED with the failure seen, the fixes NOT_REPRODUCED', async (t) => {
  for (const mode of ['recvfrom-any', 'bind-address', 'pktinfo'])
    t.is(judge(evidence(mode), mode).verdict, recorded<Evidence>('moby-15127', mode).verdict, mode);
  const any = judge(evidence('recvfrom-any'), 'recvfrom-any');
  t.is(any.verdict, 'REPRODUCED');
  t.is(any.outcome?.seen, true);
  t.regex(any.reason, /0\/5 replies reached the client: 5 of 5 replies left the host from 172\.17\.0\.1 instead of 10\.15\.1\.2/);
  const pktinfo = judge(evidence('pktinfo'), 'pktinfo');
  t.is(pktinfo.verdict, 'NOT_REPRODUCED');
  t.is(pktinfo.outcome?.seen, false);
  const tcp = judge(await tcpEvidence(), 'tcp');
  t.is(tcp.verdict, 'NOT_REPRODUCED');
  t.regex(tcp.reason, /over TCP, 5\/5 replies reached the client, every one from 10\.15\.1\.2/);
});

test('TCP reads its capture: no reply on the bridge, or fewer than the client counts, is INCONCLUSIVE', async (t) => {
  const e = await tcpEvidence();
  t.is(e.onBridge.replies, 5);
  t.is(judge(evidence('tcp'), 'tcp').verdict, 'INCONCLUSIVE', 'the old recording without replies on the bridge');
  const fewer = judge({ ...e, onBridge: { ...e.onBridge, replies: 4 } }, 'tcp');
  t.is(fewer.verdict, 'INCONCLUSIVE');
  t.is(fewer.inconclusive, 'evidence-conflict');
  const broken = { ...e, captureProblems: ['capture pcap/host-docker0.pcap cannot be read: truncated dump file'] };
  t.is(judge(broken, 'tcp').verdict, 'INCONCLUSIVE');
});

test('the client counting replies the capture does not show from the right address is a conflict', (t) => {
  const e = evidence('recvfrom-any');
  const v = judge({ ...e, client: { ...e.client!, received: 3 } }, 'recvfrom-any');
  t.is(v.verdict, 'INCONCLUSIVE');
  t.is(v.inconclusive, 'evidence-conflict');
  t.regex(v.reason, /capture shows 0 replies from 10\.15\.1\.2 toward the client, the client counts 3/);
});

test('replies lost without a wrong source are INCONCLUSIVE, not REPRODUCED', (t) => {
  const e = evidence('bind-address');
  const v = judge({ ...e, client: { ...e.client!, received: 4 }, onBridge: { ...e.onBridge, replies: 4 } }, 'bind-address');
  t.is(v.verdict, 'INCONCLUSIVE');
  t.is(v.outcome?.seen, true);
  t.is(v.mechanism?.seen, false);
});

test('an unreadable capture, no reply on the bridge, or no client summary is INCONCLUSIVE', (t) => {
  const e = evidence('bind-address');
  t.is(judge({ ...e, captureProblems: ['capture cannot be read: truncated dump file'] }, 'bind-address').verdict, 'INCONCLUSIVE');
  t.is(judge({ ...e, onBridge: { ...e.onBridge, replies: 0 } }, 'bind-address').verdict, 'INCONCLUSIVE');
  t.is(judge({ ...e, client: null }, 'bind-address').verdict, 'INCONCLUSIVE');
});
