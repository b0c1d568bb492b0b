/** docker-1090: verdicts from evidence recorded in real runs on 6.18, and the judge's answer to broken evidence. */
import test from 'ava';
import { oowRstScenario, waitsOf } from '../../src/run/scenarios/oow-rst.js';
import type { OowEvidence } from '../../src/run/scenarios/oow-rst-judge.js';
import { MIN_DELIVERED_AFTER_FORGED, serverSummarySchema } from '../../src/run/scenarios/oow-rst-judge.js';
import { parseSummary } from '../../src/run/summary.js';
import { recorded } from './recorded.js';

const params = oowRstScenario.params.parse({ client: 'app', server: 'server' });
const judge = (variant: string, change: (e: OowEvidence) => OowEvidence = (e) => e) =>
  oowRstScenario.judge(change(recorded<OowEvidence>('docker-1090', variant).evidence), params);

test('baseline: the RST answered a later, legitimate segment after the forged one moved the window', (t) => {
  const v = judge('baseline');
  t.is(v.verdict, 'REPRODUCED');
  t.regex(v.reason, /forged segment was de-NATed and forwarded to the container, which answered with a duplicate ACK/);
  t.regex(v.reason, /the RST answered a later, legitimate server segment that was INVALID and not forwarded/);
});

test('upstream-trigger: the segment far behind is de-NATed, the container answers with a duplicate ACK, the connection survives', (t) => {
  const v = judge('upstream-trigger');
  t.is(v.verdict, 'NOT_REPRODUCED');
  t.regex(v.reason, /de-NATed and forwarded to the container, which answered with a duplicate ACK with a D-SACK of the forged bytes/);
  t.regex(v.reason, /client 25\/25 echoes/);
});

test('ahead-far: the RST answered the forged segment itself', (t) => {
  const v = judge('ahead-far');
  t.is(v.verdict, 'REPRODUCED');
  t.regex(v.reason, /the RST answered the forged segment itself: it was INVALID, skipped the de-NAT/);
});

test('drop-invalid: no RST but a stalled connection is REPRODUCED, "stall, not reset"', (t) => {
  const v = judge('drop-invalid');
  t.is(v.verdict, 'REPRODUCED');
  t.regex(v.reason, /^stall, not reset/);
  t.regex(v.reason, /client timed out \(client \d+\/\d+ echoes\)/);
});

test('workarounds that keep the connection alive, and the no-NAT control, are NOT_REPRODUCED', (t) => {
  for (const variant of ['be-liberal', 'no-nat', 'ahead-far-drop-invalid']) t.is(judge(variant).verdict, 'NOT_REPRODUCED', variant);
  t.regex(judge('ahead-far-drop-invalid').reason, /the forged segment was not forwarded to the container; no RST/);
});

test('every recorded verdict is what the judge gives today', (t) => {
  for (const variant of ['baseline', 'upstream-trigger', 'ahead-far', 'drop-invalid', 'be-liberal', 'no-nat', 'ahead-far-drop-invalid']) {
    const r = recorded<OowEvidence>('docker-1090', variant);
    t.is(oowRstScenario.judge(r.evidence, params).verdict, r.verdict, variant);
  }
});

test('an unreadable capture is INCONCLUSIVE, never "0 RSTs"', (t) => {
  const v = judge('be-liberal', (e) => ({ ...e, captureProblems: ['capture pcap/server-eth0.pcap cannot be read: truncated dump file'] }));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.regex(v.reason, /cannot be read/);
});

test('a server summary that does not parse is INCONCLUSIVE and names the field', (t) => {
  const raw = recorded<OowEvidence>('docker-1090', 'be-liberal').evidence.server;
  if (!raw.ok) return t.fail('the recorded summary parses');
  const broken = parseSummary('server', serverSummarySchema, { event: 'summary', t: 0, ...raw.value, forged: { ...raw.value.forged, seq: 'x' } });
  const v = judge('be-liberal', (e) => ({ ...e, server: broken }));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.regex(v.reason, /field forged\.seq/);
});

test('a missing client summary is INCONCLUSIVE', (t) => {
  const v = judge('be-liberal', (e) => ({ ...e, client: parseSummary('client', serverSummarySchema, undefined) as OowEvidence['client'] }));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.regex(v.reason, /the client agent produced no summary/);
});

test('"intact" without data delivered after the forged segment is not proof: INCONCLUSIVE', (t) => {
  const v = judge('be-liberal', (e) => ({ ...e, clientHostPath: { ...e.clientHostPath!, serverDataDeliveredAfterForged: 0 } }));
  t.is(v.verdict, 'INCONCLUSIVE');
});

test('agent and capture disagreeing about the RST is INCONCLUSIVE', (t) => {
  const v = judge('baseline', (e) => ({ ...e, rstAtServer: { ...e.rstAtServer, fromPcap: 0 } }));
  t.is(v.verdict, 'INCONCLUSIVE');
});

test('a talk that ends one server segment after the forged one is too short to say "survived": INCONCLUSIVE, not NOT_REPRODUCED', (t) => {
  const v = judge('be-liberal', (e) => ({ ...e, clientHostPath: { ...e.clientHostPath!, serverDataDeliveredAfterForged: MIN_DELIVERED_AFTER_FORGED - 1 } }));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.regex(v.reason, /1 server data segments delivered after it \(2 needed\)/);
  const enough = judge('be-liberal', (e) => ({ ...e, clientHostPath: { ...e.clientHostPath!, serverDataDeliveredAfterForged: MIN_DELIVERED_AFTER_FORGED } }));
  t.is(enough.verdict, 'NOT_REPRODUCED');
});

test("the lab's waits scale with the nodes' slowdown, except the number of echoes", (t) => {
  const w = waitsOf(params, 6);
  t.deepEqual(w, {
    slowdown: 6,
    forgeAfterS: params.forgeAfterS * 6,
    talkForS: params.talkForS * 6,
    stallAfterS: params.stallAfterS * 6,
    lingerS: params.lingerS * 6,
    echoesAfterForge: params.echoesAfterForge,
  });
});

test("a stall's reason says how often the server resent the held segment, when the capture shows it", (t) => {
  const v = judge('drop-invalid', (e) => ({ ...e, clientHostPath: { ...e.clientHostPath!, mostRetriedHeldSegment: { times: 5, overMs: 1669 } } }));
  t.is(v.verdict, 'REPRODUCED');
  t.regex(v.reason, /one of them sent 5 times over 1669 ms: the server's retransmissions/);
});

test('a client timeout while every server segment reached the container is slow, not a stall: INCONCLUSIVE', (t) => {
  const v = judge('be-liberal', (e) => ({
    ...e,
    client: e.client.ok ? { ok: true, value: { ...e.client.value, outcome: 'timeout', error: 'no echo within 1.5s' } } : e.client,
  }));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.regex(v.reason, /every server data segment on the client host's uplink reached the container: slow, not stalled/);
});
