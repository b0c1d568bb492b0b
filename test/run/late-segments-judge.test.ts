/** taskcluster-reset: verdicts from evidence recorded in real runs, RST counts read back from their captures, and which RSTs count. */
import test from 'ava';
import { lateSegmentsScenario } from '../../src/run/scenarios/late-segments.js';
import { classifyRsts, clientSummarySchema, type LateEvidence, type ServerSummary } from '../../src/run/scenarios/late-segments-judge.js';
import type { OowEvidence } from '../../src/run/scenarios/oow-rst-judge.js';
import { readSegments } from '../../src/run/pcap.js';
import { parseSummary } from '../../src/run/summary.js';
import { recorded, recordedFile } from './recorded.js';

const params = lateSegmentsScenario.params.parse({ client: 'app', server: 'server' });
const LAB = 'taskcluster-reset';

async function segments(variant: string, file: string, filter: string) {
  const r = await readSegments(recordedFile(LAB, variant, file), filter);
  if (!r.ok) throw new Error(r.problem);
  return r.segments;
}

/** The recorded evidence with its RST counts computed again from the recorded captures, as run() does. */
async function reread(variant: string): Promise<LateEvidence> {
  const e = recorded<LateEvidence>(LAB, variant).evidence;
  const server = (e.server as { value: ServerSummary }).value;
  const [ip, port] = server.peer!.split(':');
  const connection = `tcp and host ${ip} and port ${port} and port 8080`;
  const uplink = await segments(variant, 'pcap/client-eth0.pcap', connection);
  const bridge = await segments(variant, 'pcap/client-docker0.pcap', 'tcp and port 8080');
  const atServer = await segments(variant, 'pcap/server-eth0.pcap', connection);
  const rsts = classifyRsts(
    server.injected.map((i) => i.seq),
    uplink,
    bridge,
    atServer,
    '10.30.2.2.8080',
  );
  return { ...e, rst: { ...rsts, seenByServerAgent: server.rstsSeen } };
}

const summary = (error: string | null, completed = false) =>
  parseSummary('client', clientSummarySchema, {
    event: 'summary',
    t: 0,
    bytesReceived: completed ? 16777216 : 5,
    expectedBytes: 16777216,
    completed,
    error,
    stoppedAt: completed ? null : 5,
  });

test('6.18: late segments forwarded to the container, no RST, the download completes: NOT_REPRODUCED, outcome not seen', async (t) => {
  for (const variant of ['baseline', 'drop-invalid', 'be-liberal']) {
    const v = lateSegmentsScenario.judge(await reread(variant), params);
    t.is(v.verdict, 'NOT_REPRODUCED', variant);
    t.regex(v.reason, /4\/4 late segments reached the container/);
    t.regex(v.reason, /completed with the right sha256/);
    t.is(v.outcome?.seen, false);
    t.is(v.mechanism?.seen, false);
  }
});

test('5.10: the host answers a late segment with a RST and the download fails with ECONNRESET: REPRODUCED, counts read back agree', async (t) => {
  const e = await reread('baseline-5.10');
  t.deepEqual(e.rst, recorded<LateEvidence>(LAB, 'baseline-5.10').evidence.rst, 'the captures give the recorded counts');
  t.is(e.rst!.seenByServerAgent, e.rst!.atServer);
  const v = lateSegmentsScenario.judge(e, params);
  t.is(v.verdict, 'REPRODUCED');
  t.is(v.outcome?.seen, true);
  t.is(v.mechanism?.seen, true);
  t.regex(v.reason, /\(ECONNRESET\): the client host answered late segments with 1 RST\(s\), 1 reached the server/);
  const dropped = lateSegmentsScenario.judge(await reread('drop-invalid-5.10'), params);
  t.is(dropped.verdict, 'NOT_REPRODUCED', 'INVALID late segments dropped, the download completes');
  t.regex(dropped.reason, /2\/4 late segments reached the container, conntrack invalid \+2/);
});

test('a RST from the client host without the failure is NOT_REPRODUCED, and the reason says the download completed', async (t) => {
  const e = await reread('baseline');
  const v = lateSegmentsScenario.judge({ ...e, rst: { ...e.rst!, fromClientHostAfterInjection: ['R from host'], reachedServer: 0 } }, params);
  t.is(v.verdict, 'NOT_REPRODUCED');
  t.regex(v.reason, /answered late segments with 1 RST\(s\).*, but the download completed with the right sha256/);
  t.is(v.mechanism?.seen, true);
  t.is(v.outcome?.seen, false);
});

test('ECONNRESET with the host RST captured and a RST reaching the container is REPRODUCED; without a RST toward the container it is a conflict', async (t) => {
  const e = await reread('baseline');
  const failed = { ...e, client: summary('ECONNRESET'), rst: { ...e.rst!, fromClientHostAfterInjection: ['R from host'], toContainer: 1 } };
  const v = lateSegmentsScenario.judge(failed, params);
  t.is(v.verdict, 'REPRODUCED');
  t.is(v.outcome?.seen, true);
  t.regex(v.reason, /stopped at byte 5 of 16777216 \(ECONNRESET\)/);
  const conflict = lateSegmentsScenario.judge({ ...failed, rst: { ...failed.rst, toContainer: 0 } }, params);
  t.is(conflict.verdict, 'INCONCLUSIVE');
  t.is(conflict.inconclusive, 'evidence-conflict');
  const noHostRst = lateSegmentsScenario.judge({ ...failed, rst: { ...failed.rst, fromClientHostAfterInjection: [] } }, params);
  t.is(noHostRst.verdict, 'INCONCLUSIVE');
  t.regex(noHostRst.reason, /not this lab's mechanism/);
});

test('a time-out is a stall only when late segments were held at the client host', async (t) => {
  const e = await reread('baseline');
  const unheld = lateSegmentsScenario.judge({ ...e, client: summary('timeout') }, params);
  t.is(unheld.verdict, 'INCONCLUSIVE');
  t.regex(unheld.reason, /nothing shows segments held/);
  const held = lateSegmentsScenario.judge({ ...e, client: summary('timeout'), injected: { ...e.injected, forwardedToContainer: 2 } }, params);
  t.is(held.verdict, 'REPRODUCED');
  t.regex(held.reason, /stall, not reset: .* 2 late segment\(s\) reached the client host and were not forwarded/);
});

test("the server agent's RST count must match the capture on the server's link", async (t) => {
  const e = await reread('baseline');
  t.is(e.rst!.atServer, 0);
  const v = lateSegmentsScenario.judge({ ...e, rst: { ...e.rst!, seenByServerAgent: 2 } }, params);
  t.is(v.verdict, 'INCONCLUSIVE');
  t.is(v.inconclusive, 'evidence-conflict');
  t.regex(v.reason, /server agent saw 2 RST\(s\).*capture on the server's link 0/);
  const unrecorded = recorded<LateEvidence>(LAB, 'baseline').evidence;
  t.is(lateSegmentsScenario.judge(unrecorded, params).verdict, 'INCONCLUSIVE', 'evidence without the capture counts');
});

test('missing summaries, unreadable captures and other failures are INCONCLUSIVE', async (t) => {
  const e = await reread('baseline');
  const judge = (x: LateEvidence) => lateSegmentsScenario.judge(x, params);
  t.regex(judge({ ...e, client: parseSummary('client', clientSummarySchema, undefined) }).reason, /produced no summary/);
  t.is(judge({ ...e, captureProblems: ['capture x cannot be read'] }).verdict, 'INCONCLUSIVE');
  t.is(judge({ ...e, client: summary(null) }).verdict, 'INCONCLUSIVE', 'closed early, neither reset nor stall');
  const broken = parseSummary('client', clientSummarySchema, {
    event: 'summary',
    t: 0,
    bytesReceived: 'lots',
    expectedBytes: 1,
    completed: true,
    error: null,
    stoppedAt: null,
  });
  t.regex(judge({ ...e, client: broken }).reason, /field bytesReceived/);
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
  t.is(after.atServer, 1);
  t.is(after.fromContainer, 0);
  const never = classifyRsts([12345], uplink, bridge, atServer, '10.10.2.2.9000');
  t.is(never.fromClientHostAfterInjection.length, 0);
  t.is(never.beforeFirstInjection, 1);
});
