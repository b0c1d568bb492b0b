/**
 * docker-1090: verdicts from evidence recorded in real runs (6.18 netns, 5.10 under QEMU), every clause of every reason
 * checked against the evidence that must show it, and the judge's answer to broken evidence.
 */
import test from 'ava';
import { oowRstScenario, waitsOf } from '../../src/run/scenarios/oow-rst.js';
import type { OowEvidence } from '../../src/run/scenarios/oow-rst-judge.js';
import { MIN_DELIVERED_AFTER_FORGED, serverSummarySchema } from '../../src/run/scenarios/oow-rst-judge.js';
import { seqAfter } from '../../src/run/scenarios/oow-rst-path.js';
import { parseSummary } from '../../src/run/summary.js';
import { recorded } from './recorded.js';

const params = oowRstScenario.params.parse({ client: 'app', server: 'server' });
const VARIANTS = ['baseline', 'upstream-trigger', 'behind-in-flight', 'ahead-far', 'drop-invalid', 'be-liberal', 'no-nat', 'ahead-far-drop-invalid'];
const RECORDINGS = [
  ...['docker-1090-6.18', 'docker-1090-5.10'].flatMap((lab) => VARIANTS.map((variant) => ({ lab, variant }))),
  // 6.1: the RST answered the server's pure ACK of the client's line (tcpdump prints no seq for it).
  { lab: 'docker-1090-6.1', variant: 'baseline' },
];

const judge = (variant: string, change: (e: OowEvidence) => OowEvidence = (e) => e, lab = 'docker-1090-6.18') =>
  oowRstScenario.judge(change(recorded<OowEvidence>(lab, variant).evidence), params);

type Claim = [RegExp, (e: OowEvidence, m: RegExpMatchArray) => boolean];
const n = (m: RegExpMatchArray, i: number) => Number(m[i]);
const ok = <T>(p: { ok: true; value: T } | { ok: false }) => (p.ok ? p.value : undefined);

/** What each clause a reason can contain claims, as a check on the evidence. A clause with no check here fails the test. */
const CLAIMS: Claim[] = [
  [/client (\d+)\/(\d+) echoes/, (e, m) => ok(e.client)?.echoed === n(m, 1) && ok(e.client)?.sent === n(m, 2)],
  [/the client got (\w+)/, (e, m) => ok(e.client)?.outcome === 'reset' && ok(e.client)?.error === m[1]],
  [/the client timed out/, (e) => ok(e.client)?.outcome === 'timeout'],
  [/every echo came back/, (e) => ok(e.client)?.outcome === 'intact' && ok(e.client)?.echoed === ok(e.client)?.sent],
  [/a RST from the server's end reached the container/, (e) => (e.clientHostPath?.rstsToClient ?? []).length > 0],
  [/the server's own socket was reset/, (e) => ok(e.server)?.connectionEnd === 'reset'],
  [/(\d+) bytes echoed after the forged segment/, (e, m) => ok(e.server)?.bytesEchoedAfterForge === n(m, 1)],
  [/(\d+) server data segments delivered after it/, (e, m) => e.clientHostPath?.serverDataDeliveredAfterForged === n(m, 1)],
  [/(\d+) server segment\(s\) never reached the container/, (e, m) => e.clientHostPath?.serverDataSegmentsNotForwardedToContainer?.length === n(m, 1)],
  [/(\d+) real server segment\(s\) were held back/, (e, m) => e.clientHostPath?.serverDataSegmentsNotForwardedToContainer?.length === n(m, 1)],
  [
    /sent (\d+) times over (\d+) ms/,
    (e, m) => e.clientHostPath?.mostRetriedHeldSegment?.times === n(m, 1) && e.clientHostPath.mostRetriedHeldSegment.overMs === n(m, 2),
  ],
  [/conntrack invalid \+(\d+)/, (e, m) => e.conntrack.invalidDelta === n(m, 1)],
  [/the forged segment was de-NATed and reached the container/, (e) => e.clientHostPath?.forgedForwardedToContainer === true],
  [
    /the forged segment never reached the container|it never reached the container \(no de-NAT\)/,
    (e) => e.clientHostPath?.forgedForwardedToContainer === false,
  ],
  [/the forged segment reached the client/, (e) => e.clientHostPath?.forgedForwardedToContainer === null],
  [
    /the forged segment was INVALID/,
    (e) => e.clientHostPath?.forgedForwardedToContainer === false && e.clientHostPath.hostRsts?.[0]?.answered?.isForgedSegment === true,
  ],
  [/answered with a duplicate ACK/, (e) => e.clientHostPath?.clientAnswerToForged?.duplicateAck === true],
  [/with a D-SACK of the forged bytes/, (e) => e.clientHostPath?.clientAnswerToForged?.dsackOfForged === true],
  [
    // Only when the captures show the forged segment accepted and a later legitimate one not forwarded, and the counter moved.
    /moved its window/,
    (e) =>
      e.clientHostPath?.forgedForwardedToContainer === true && Boolean(e.clientHostPath.laterRealSegmentNotForwarded) && (e.conntrack.invalidDelta ?? 0) > 0,
  ],
  [
    /the server's real segment (\d+):(\d+) after it did not reach the container/,
    (e, m) => e.clientHostPath?.laterRealSegmentNotForwarded?.includes(`seq ${m[1]}:${m[2]},`) === true,
  ],
  [
    /answered it with a RST \(seq (\d+), the forged segment's ack\)/,
    (e, m) => {
      const rst = e.clientHostPath?.hostRsts?.[0];
      return rst?.seq === n(m, 1) && rst.answered?.isForgedSegment === true && ok(e.server)?.forged?.ack === n(m, 1);
    },
  ],
  [
    /answered the server's real segment (\d+):(\d+) with a RST \(seq (\d+), that segment's ack\)/,
    (e, m) => {
      const rst = e.clientHostPath?.hostRsts?.[0];
      return rst?.seq === n(m, 3) && rst.answered?.isForgedSegment === false && rst.answered.line.includes(`seq ${m[1]}:${m[2]}, ack ${m[3]},`);
    },
  ],
  [
    /answered the server's real pure ACK \(ack (\d+)\) with a RST \(seq (\d+), that segment's ack\)/,
    (e, m) => {
      const rst = e.clientHostPath?.hostRsts?.[0];
      return (
        m[1] === m[2] && rst?.seq === n(m, 2) && rst.answered?.isForgedSegment === false && /Flags \[\.\], ack (\d+),/.exec(rst.answered.line)?.[1] === m[1]
      );
    },
  ],
  [
    /the server's real pure ACK \(ack (\d+)\) after it did not reach the container/,
    (e, m) => /Flags \[\.\], ack (\d+),/.exec(e.clientHostPath?.laterRealSegmentNotForwarded ?? '')?.[1] === m[1],
  ],
  [/a segment that never reached the container/, (e) => e.clientHostPath?.hostRsts?.[0]?.answered?.forwardedToContainer === false],
  [
    /the server accepted it: (\d+) was the next sequence number it expected/,
    (e, m) => e.rstAtServer.atServer?.some((r) => r.seq === n(m, 1) && r.serverExpected === n(m, 1) && r.fate === 'accepted') === true,
  ],
  [
    /its sequence number (\d+) was below (\d+), the next one the server expected/,
    (e, m) => e.rstAtServer.atServer?.some((r) => r.seq === n(m, 1) && r.serverExpected === n(m, 2) && seqAfter(n(m, 2), n(m, 1))) === true,
  ],
  [/the client host emitted a RST/, (e) => (e.clientHostPath?.hostRsts ?? []).length > 0],
  [/no RST from the client host/, (e) => (e.clientHostPath?.hostRsts ?? []).length === 0],
  [/no NAT on the path/, (e) => e.clientHostPath?.forgedForwardedToContainer === null],
  [/every real server data segment reached the container/, (e) => e.clientHostPath?.serverDataSegmentsNotForwardedToContainer?.length === 0],
];

for (const { lab, variant } of RECORDINGS) {
  test(`${lab} ${variant}: the recorded verdict, and every clause of its reason shown by its evidence`, (t) => {
    const r = recorded<OowEvidence>(lab, variant);
    const v = oowRstScenario.judge(r.evidence, params);
    t.is(v.verdict, r.verdict, v.reason);
    t.is(v.verdict === 'REPRODUCED', v.outcome?.seen === true, 'REPRODUCED exactly when the application saw the failure');
    if (v.verdict === 'NOT_REPRODUCED') t.is(v.outcome?.seen, false);
    let unchecked = v.reason;
    for (const [claim, holds] of CLAIMS) {
      for (const m of v.reason.matchAll(new RegExp(claim.source, 'g'))) t.true(holds(r.evidence, m), `"${m[0]}" is not shown by the evidence`);
      unchecked = unchecked.replace(new RegExp(claim.source, 'g'), '');
    }
    t.notRegex(unchecked, /\d/, `every number in the reason comes from a checked clause: ${unchecked}`);
  });
}

test('6.18 baseline: reset, and the RST answered a later, legitimate segment after the forged one moved the window', (t) => {
  const v = judge('baseline');
  t.is(v.verdict, 'REPRODUCED');
  t.regex(v.reason, /^the connection was reset: the client got ECONNRESET/);
  t.regex(v.reason, /moved its window and judged the real one INVALID/);
  t.regex(v.reason, /the server accepted it/);
});

test('5.10 behind-in-flight: a RST the server ignored is NOT_REPRODUCED, and the reason says why', (t) => {
  const v = judge('behind-in-flight', undefined, 'docker-1090-5.10');
  t.is(v.verdict, 'NOT_REPRODUCED');
  t.is(v.mechanism?.seen, true);
  t.regex(v.reason, /^the client host emitted a RST, but its sequence number \d+ was below \d+, the next one the server expected: outside the server's window/);
  t.regex(v.reason, /the connection survived/);
});

test('"moved its window" is said only when the evidence shows it', (t) => {
  const v = judge('baseline', (e) => ({ ...e, clientHostPath: { ...e.clientHostPath!, laterRealSegmentNotForwarded: null } }));
  t.is(v.verdict, 'REPRODUCED');
  t.notRegex(v.reason, /moved its window/);
  const noCounter = judge('baseline', (e) => ({ ...e, conntrack: { ...e.conntrack, invalidDelta: 0 } }));
  t.notRegex(noCounter.reason, /moved its window/);
});

test('a client host RST while the client got every echo: the RST fate decides the reason, and an accepted one contradicts the outcome', (t) => {
  const e = recorded<OowEvidence>('docker-1090-5.10', 'behind-in-flight').evidence;
  const accepted = oowRstScenario.judge(
    { ...e, rstAtServer: { ...e.rstAtServer, atServer: e.rstAtServer.atServer!.map((r) => ({ ...r, serverExpected: r.seq, fate: 'accepted' as const })) } },
    params,
  );
  t.is(accepted.verdict, 'INCONCLUSIVE');
  t.is(accepted.inconclusive, 'evidence-conflict');
});

test('a reset the client reports with no RST anywhere in the captures is INCONCLUSIVE, not REPRODUCED', (t) => {
  const v = judge('baseline', (e) => ({
    ...e,
    server: e.server.ok ? { ok: true, value: { ...e.server.value, connectionEnd: 'fin' } } : e.server,
    clientHostPath: { ...e.clientHostPath!, rstsToClient: [] },
  }));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.is(v.inconclusive, 'evidence-conflict');
});

test('an unreadable capture is INCONCLUSIVE, never "0 RSTs"', (t) => {
  const v = judge('be-liberal', (e) => ({ ...e, captureProblems: ['capture pcap/server-eth0.pcap cannot be read: truncated dump file'] }));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.regex(v.reason, /cannot be read/);
});

test('a server summary that does not parse is INCONCLUSIVE and names the field', (t) => {
  const raw = recorded<OowEvidence>('docker-1090-6.18', 'be-liberal').evidence.server;
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

test('agent and capture disagreeing about the RST is INCONCLUSIVE', (t) => {
  const v = judge('baseline', (e) => ({ ...e, rstAtServer: { ...e.rstAtServer, fromPcap: 0 } }));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.is(v.inconclusive, 'evidence-conflict');
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
    settleS: 0.5 * 6,
    talkForS: params.talkForS * 6,
    stallAfterS: params.stallAfterS * 6,
    lingerS: params.lingerS * 6,
    echoesAfterForge: params.echoesAfterForge,
  });
});

test('a client timeout while every server segment reached the container is slow, not a stall: INCONCLUSIVE', (t) => {
  const v = judge('be-liberal', (e) => ({
    ...e,
    client: e.client.ok ? { ok: true, value: { ...e.client.value, outcome: 'timeout', error: 'no echo within 1.5s' } } : e.client,
  }));
  t.is(v.verdict, 'INCONCLUSIVE');
  t.regex(v.reason, /every server data segment on the client host's uplink reached the container: slow, not stalled/);
});
