/** taskcluster-reset: verdicts from evidence recorded in real runs on 6.18, and which RSTs count. */
import test from 'ava';
import { lateSegmentsScenario } from '../../src/run/scenarios/late-segments.js';
import { classifyRsts, clientSummarySchema, type LateEvidence } from '../../src/run/scenarios/late-segments-judge.js';
import type { OowEvidence } from '../../src/run/scenarios/oow-rst-judge.js';
import { readSegments } from '../../src/run/pcap.js';
import { parseSummary } from '../../src/run/summary.js';
import { recorded, recordedFile } from './recorded.js';

const params = lateSegmentsScenario.params.parse({ client: 'app', server: 'server' });
const judge = (variant: string, change: (e: LateEvidence) => LateEvidence = (e) => e) =>
  lateSegmentsScenario.judge(change(recorded<LateEvidence>('taskcluster-reset', variant).evidence), params);

test('6.18: late segments are forwarded to the container, no RST, the download completes: NOT_REPRODUCED', (t) => {
  for (const variant of ['baseline', 'drop-invalid', 'be-liberal']) {
    const v = judge(variant);
    t.is(v.verdict, 'NOT_REPRODUCED', variant);
    t.regex(v.reason, /4\/4 late segments reached the container/);
    t.is(v.verdict, recorded<LateEvidence>('taskcluster-reset', variant).verdict);
  }
});

test('a RST from the client host after an injected segment is REPRODUCED; one from the container is not counted', (t) => {
  const host = judge('baseline', (e) => ({ ...e, rst: { ...e.rst!, fromClientHostAfterInjection: ['R from host'], reachedServer: 1 } }));
  t.is(host.verdict, 'REPRODUCED');
  const container = judge('baseline', (e) => ({ ...e, rst: { ...e.rst!, fromContainer: 2 } }));
  t.is(container.verdict, 'NOT_REPRODUCED');
  t.regex(container.reason, /2 from the container, 0 before the first injection, not counted/);
});

test('a download that timed out without a RST is REPRODUCED as a stall; one that failed otherwise is INCONCLUSIVE', (t) => {
  const stalled = parseSummary('client', clientSummarySchema, {
    event: 'summary',
    t: 0,
    bytesReceived: 5,
    expectedBytes: 16777216,
    completed: false,
    error: 'timeout',
    stoppedAt: 5,
  });
  t.is(judge('baseline', (e) => ({ ...e, client: stalled })).verdict, 'REPRODUCED');
  const reset = parseSummary('client', clientSummarySchema, {
    event: 'summary',
    t: 0,
    bytesReceived: 5,
    expectedBytes: 16777216,
    completed: false,
    error: 'ECONNRESET',
    stoppedAt: 5,
  });
  t.is(judge('baseline', (e) => ({ ...e, client: reset })).verdict, 'INCONCLUSIVE');
});

test('missing summaries and unreadable captures are INCONCLUSIVE', (t) => {
  t.regex(judge('baseline', (e) => ({ ...e, client: parseSummary('client', clientSummarySchema, undefined) })).reason, /produced no summary/);
  t.is(judge('baseline', (e) => ({ ...e, captureProblems: ['capture x cannot be read'] })).verdict, 'INCONCLUSIVE');
  const broken = parseSummary('client', clientSummarySchema, {
    event: 'summary',
    t: 0,
    bytesReceived: 'lots',
    expectedBytes: 1,
    completed: true,
    error: null,
    stoppedAt: null,
  });
  t.regex(judge('baseline', (e) => ({ ...e, client: broken })).reason, /field bytesReceived/);
});

// The RST rules on recorded segments: docker-1090's baseline capture holds a RST from the client host after a forged segment.
test('classifyRsts: a host RST counts only after the first injected segment', async (t) => {
  const e = recorded<OowEvidence>('docker-1090', 'baseline').evidence;
  if (!e.server.ok || !e.server.value.forged) return t.fail('recorded summary parses');
  const [ip, port] = e.server.value.peer!.split(':');
  const read = async (file: string, filter: string) => {
    const r = await readSegments(recordedFile('docker-1090', 'baseline', file), filter);
    if (!r.ok) throw new Error(r.problem);
    return r.segments;
  };
  const uplink = await read('pcap/client-eth0.pcap', `tcp and host ${ip} and port ${port}`);
  const bridge = await read('pcap/client-docker0.pcap', 'tcp port 9000');
  const atServer = await read('pcap/server-eth0.pcap', `tcp and host ${ip} and port ${port}`);
  const after = classifyRsts([e.server.value.forged.seq], uplink, bridge, atServer, '10.10.2.2.9000');
  t.is(after.fromClientHostAfterInjection.length, 1);
  t.is(after.reachedServer, 1);
  t.is(after.fromContainer, 0);
  const never = classifyRsts([12345], uplink, bridge, atServer, '10.10.2.2.9000');
  t.is(never.fromClientHostAfterInjection.length, 0);
  t.is(never.beforeFirstInjection, 1);
});
