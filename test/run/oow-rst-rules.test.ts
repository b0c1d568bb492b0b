/**
 * docker-1090's verdict rules (labs/docker-1090/lab.yaml, scenario.verdict) against oow-rst's coded judge: every
 * recorded run and every broken evidence the judge's own tests use must get the same verdict, kind and facets both
 * ways. Where they differ the rules are wrong, never the judge.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { oowRstScenario } from '../../src/run/scenarios/oow-rst.js';
import type { OowEvidence } from '../../src/run/scenarios/oow-rst-judge.js';
import { serverSummarySchema } from '../../src/run/scenarios/oow-rst-judge.js';
import { codedRules, judgeCoded } from '../../src/run/declarative/coded.js';
import { parseSummary } from '../../src/run/summary.js';
import type { Verdict, VerdictValue } from '../../src/run/verdict.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const runs = path.join(root, 'test', 'fixtures', 'runs');
const labFile = parse(fs.readFileSync(path.join(root, 'labs', 'docker-1090', 'lab.yaml'), 'utf8')) as { scenario: { params: object; verdict: unknown } };
const params = oowRstScenario.params.parse(labFile.scenario.params);
const rules = codedRules(oowRstScenario, labFile.scenario.verdict)!;

const RECORDINGS = fs
  .readdirSync(runs)
  .filter((lab) => lab.startsWith('docker-1090'))
  .flatMap((lab) =>
    fs
      .readdirSync(path.join(runs, lab))
      .filter((v) => fs.existsSync(path.join(runs, lab, v, 'evidence.json')))
      .map((variant) => ({ lab, variant })),
  );
const load = (lab: string, variant: string) =>
  JSON.parse(fs.readFileSync(path.join(runs, lab, variant, 'evidence.json'), 'utf8')) as { verdict: VerdictValue; evidence: OowEvidence };

type Change = (e: OowEvidence) => OowEvidence;
const withClient =
  (c: Partial<Extract<OowEvidence['client'], { ok: true }>['value']>): Change =>
  (e) =>
    e.client.ok ? { ...e, client: { ok: true, value: { ...e.client.value, ...c } } } : e;
const withPath =
  (p: Partial<NonNullable<OowEvidence['clientHostPath']>>): Change =>
  (e) => ({ ...e, clientHostPath: { ...e.clientHostPath!, ...p } });

/** The broken or edge evidence the judge's own tests use, and a few more: each must be judged the same both ways. */
const MUTATIONS: Record<string, Change> = {
  'capture unreadable': (e) => ({ ...e, captureProblems: ['capture pcap/server-eth0.pcap cannot be read: truncated dump file'] }),
  'client summary missing': (e) => ({ ...e, client: parseSummary('client', serverSummarySchema, undefined) as OowEvidence['client'] }),
  'agent and capture disagree on the RST': (e) => ({ ...e, rstAtServer: { ...e.rstAtServer, fromPcap: e.rstAtServer.fromAgent ? 0 : 1 } }),
  'forged segment not seen': withPath({ forgedSeenOnUplink: false }),
  'never established': (e) => (e.server.ok ? { ...e, server: { ok: true, value: { ...e.server.value, established: false } } } : e),
  'reset with no RST in the captures': (e) => ({
    ...withPath({ rstsToClient: [] })(e),
    server: e.server.ok ? { ok: true, value: { ...e.server.value, connectionEnd: 'fin' } } : e.server,
  }),
  'timeout with nothing held': (e) =>
    withPath({ serverDataSegmentsNotForwardedToContainer: [] })(withClient({ outcome: 'timeout', error: 'no echo within 1.5s' })(e)),
  'timeout with a segment held': (e) =>
    withPath({ serverDataSegmentsNotForwardedToContainer: ['IP 10.10.2.2.9000 > 10.10.1.2.40000: Flags [P.], seq 5:12, ack 9, length 7'] })(
      withClient({ outcome: 'timeout', error: 'no echo within 1.5s' })(e),
    ),
  'client error': withClient({ outcome: 'error', error: 'EHOSTUNREACH' }),
  'client stopped': withClient({ outcome: 'stopped' }),
  'intact but one echo missing': (e) => (e.client.ok ? withClient({ outcome: 'intact', echoed: e.client.value.sent - 1 })(e) : e),
  'intact, one segment delivered after the forged one': withPath({ serverDataDeliveredAfterForged: 1 }),
  'intact, nothing echoed after the forge': (e) => (e.server.ok ? { ...e, server: { ok: true, value: { ...e.server.value, bytesEchoedAfterForge: 0 } } } : e),
  'RST accepted': (e) => ({
    ...e,
    rstAtServer: { ...e.rstAtServer, atServer: (e.rstAtServer.atServer ?? []).map((r) => ({ ...r, serverExpected: r.seq, fate: 'accepted' as const })) },
  }),
};

const brief = (v: Verdict) => ({ verdict: v.verdict, kind: v.inconclusive, outcome: v.outcome?.seen, mechanism: v.mechanism?.seen });

function compare(t: import('ava').ExecutionContext, e: OowEvidence, what: string): Verdict {
  const coded = oowRstScenario.judge(e, params);
  const { measures: _measures, ...ruled } = judgeCoded(oowRstScenario, rules, e, params);
  const b = brief(ruled);
  // Runs recorded before the host's RSTs were matched: the rules cannot say whether the mechanism was seen.
  const hostRstsKnown = Boolean(e.clientHostPath?.hostRsts);
  if (!hostRstsKnown && ruled.mechanism?.seen === null) b.mechanism = coded.mechanism?.seen;
  t.deepEqual(b, brief(coded), `${what}: rules say ${ruled.verdict} (${ruled.reason}), the judge ${coded.verdict} (${coded.reason})`);
  return ruled;
}

test('every recorded docker-1090 run: the rules give the judge verdict, kind and facets', (t) => {
  t.true(RECORDINGS.length >= 20, `${RECORDINGS.length} recordings`);
  for (const { lab, variant } of RECORDINGS) {
    const saved = load(lab, variant);
    const ruled = compare(t, saved.evidence, `${lab}/${variant}`);
    t.is(ruled.verdict, saved.verdict, `${lab}/${variant}: the verdict recorded when it ran`);
  }
});

test('every broken evidence, on every recorded run: the rules and the judge agree', (t) => {
  const seen = new Set<string>();
  for (const { lab, variant } of RECORDINGS) {
    const e = load(lab, variant).evidence;
    for (const [name, change] of Object.entries(MUTATIONS)) seen.add(compare(t, change(e), `${lab}/${variant}, ${name}`).verdict);
  }
  t.deepEqual([...seen].sort(), ['INCONCLUSIVE', 'NOT_REPRODUCED', 'REPRODUCED'], 'the mutations reach every verdict');
});

test("REPRODUCED needs the application's failure: the mechanism alone on an intact connection is NOT_REPRODUCED, and says so", (t) => {
  const e = load('docker-1090-5.10', 'behind-in-flight').evidence;
  const { measures, ...v } = judgeCoded(oowRstScenario, rules, e, params);
  t.is(v.verdict, 'NOT_REPRODUCED');
  t.true(v.mechanism?.seen);
  t.regex(v.reason, /the mechanism .* was seen without the failure/);
  t.is(measures['measure:"hostRsts"']?.value, 1);
  t.is(measures['measure:"clientIntact"']?.value, 1);
});

test("a precondition that fails is the verdict, with its kind, and the rules' measures are still recorded", (t) => {
  const e = MUTATIONS['agent and capture disagree on the RST']!(load('docker-1090-6.18', 'baseline').evidence);
  const { measures, ...v } = judgeCoded(oowRstScenario, rules, e, params);
  t.is(v.verdict, 'INCONCLUSIVE');
  t.is(v.inconclusive, 'evidence-conflict');
  t.regex(v.reason, /the server agent counted 1 RST\(s\) after the forged segment but the server-link capture shows 0/);
  t.is(measures['measure:"clientReset"']?.value, 1);
});

test("the judge's own words become the facets' detail when the rules agree with it", (t) => {
  const e = load('docker-1090-6.18', 'drop-invalid').evidence;
  const { measures: _m, ...v } = judgeCoded(oowRstScenario, rules, e, params);
  t.is(v.verdict, 'REPRODUCED');
  t.regex(v.reason, /client timed out waiting for an echo \(1 = yes\)/);
  t.regex(v.outcome!.detail, /stall, not reset: the client timed out/);
  t.regex(v.reason, /^1 client timed out waiting for an echo \(1 = yes\) \(stall, not reset: the client timed out/);
  t.regex(v.mechanism!.detail, /real server segment\(s\) were held back on the client host/);
});

test('lab show prints the rules of a coded lab, the preconditions before them, and every measure the scenario computes', async (t) => {
  const { lab } = await import('../helpers/cli.js');
  const shown = await lab(['show', 'docker-1090']);
  t.is(shown.code, 0, shown.stderr);
  t.regex(shown.stdout, /verdict \(after the scenario's preconditions, checked in code: any failing one is INCONCLUSIVE\):/);
  t.regex(shown.stdout, /reproduced:\n\s+- anyOf:\n\s+- measure: clientReset\n\s+equals: 1/);
  for (const name of Object.keys(oowRstScenario.rules!.measures)) t.regex(shown.stdout, new RegExp(`^    ${name}: `, 'm'), name);
});
