/**
 * taskcluster-reset's verdict rules (labs/taskcluster-reset/lab.yaml) against late-segments' coded judge: every
 * recorded run, and each with broken evidence, must get the same verdict and kind both ways. One difference is known and
 * asserted: where the failure is seen without this lab's mechanism (INCONCLUSIVE both ways) the judge's outcome facet
 * says "seen", the rules' "unknown" (their outcome follows their verdict).
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { lateSegmentsScenario } from '../../src/run/scenarios/late-segments.js';
import { classifyRsts, clientSummarySchema, type LateEvidence, type ServerSummary } from '../../src/run/scenarios/late-segments-judge.js';
import { codedRules, judgeCoded } from '../../src/run/declarative/coded.js';
import { readSegments } from '../../src/run/pcap.js';
import { parseSummary } from '../../src/run/summary.js';
import type { Verdict } from '../../src/run/verdict.js';
import { recorded, recordedFile } from './recorded.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const LAB = 'taskcluster-reset';
const labFile = parse(fs.readFileSync(path.join(root, 'labs', LAB, 'lab.yaml'), 'utf8')) as { scenario: { params: object; verdict: unknown } };
const params = lateSegmentsScenario.params.parse(labFile.scenario.params);
const rules = codedRules(lateSegmentsScenario, labFile.scenario.verdict)!;
const VARIANTS = fs
  .readdirSync(path.join(root, 'test', 'fixtures', 'runs', LAB))
  .filter((v) => fs.existsSync(path.join(root, 'test', 'fixtures', 'runs', LAB, v, 'evidence.json')));

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
  const rsts = classifyRsts(
    server.injected.map((i) => i.seq),
    await segments(variant, 'pcap/client-eth0.pcap', connection),
    await segments(variant, 'pcap/client-docker0.pcap', 'tcp and port 8080'),
    await segments(variant, 'pcap/server-eth0.pcap', connection),
    '10.30.2.2.8080',
  );
  return { ...e, rst: { ...rsts, seenByServerAgent: server.rstsSeen } };
}

const client = (error: string | null, completed = false, bytes = completed ? 16777216 : 5) =>
  parseSummary('client', clientSummarySchema, {
    event: 'summary',
    t: 0,
    bytesReceived: bytes,
    expectedBytes: 16777216,
    completed,
    error,
    stoppedAt: completed ? null : 5,
  });
type Change = (e: LateEvidence) => LateEvidence;
const rst =
  (r: Partial<NonNullable<LateEvidence['rst']>>): Change =>
  (e) => ({ ...e, rst: { ...e.rst!, ...r } });
const MUTATIONS: Record<string, Change> = {
  'capture unreadable': (e) => ({ ...e, captureProblems: ['capture x cannot be read'] }),
  'client summary missing': (e) => ({ ...e, client: parseSummary('client', clientSummarySchema, undefined) }),
  'agent and capture disagree': (e) => rst({ seenByServerAgent: e.rst!.atServer + 1 })(e),
  'nothing injected': (e) => ({ ...e, injected: { ...e.injected, sent: 0 } }),
  'late segments not seen': (e) => ({ ...e, injected: { ...e.injected, seenOnClientUplink: 0 } }),
  'completed, host RST': (e) => rst({ fromClientHostAfterInjection: ['R from host'], reachedServer: 0 })({ ...e, client: client(null, true) }),
  'completed with no bytes': (e) => ({ ...e, client: client(null, true, 0) }),
  'reset with host RST and a RST to the container': (e) => rst({ fromClientHostAfterInjection: ['R'], toContainer: 1 })({ ...e, client: client('ECONNRESET') }),
  'reset with no RST to the container': (e) => rst({ fromClientHostAfterInjection: ['R'], toContainer: 0 })({ ...e, client: client('ECONNRESET') }),
  'reset without host RST': (e) => rst({ fromClientHostAfterInjection: [], toContainer: 1 })({ ...e, client: client('ECONNRESET') }),
  'timeout, nothing held': (e) => ({ ...e, client: client('timeout'), injected: { ...e.injected, forwardedToContainer: e.injected.seenOnClientUplink } }),
  'timeout, segments held': (e) => ({
    ...e,
    client: client('timeout'),
    injected: { ...e.injected, forwardedToContainer: Math.max(0, e.injected.seenOnClientUplink - 2) },
  }),
  'closed early': (e) => ({ ...e, client: client(null) }),
};
/** INCONCLUSIVE where the judge saw the failure but not this lab's mechanism: its outcome facet says seen. */
const FAILURE_WITHOUT_MECHANISM = new Set(['reset without host RST', 'timeout, nothing held', 'closed early']);

const brief = (v: Verdict) => ({ verdict: v.verdict, kind: v.inconclusive, outcome: v.outcome?.seen, mechanism: v.mechanism?.seen });

function compare(t: import('ava').ExecutionContext, e: LateEvidence, what: string, outcomeDiffers = false): Verdict {
  const coded = lateSegmentsScenario.judge(e, params);
  const { measures: _m, ...ruled } = judgeCoded(lateSegmentsScenario, rules, e, params);
  const expected = brief(coded);
  if (outcomeDiffers) {
    t.is(coded.outcome?.seen, true, `${what}: the judge saw the failure`);
    t.is(ruled.outcome?.seen, null, `${what}: the rules' outcome follows their INCONCLUSIVE`);
    expected.outcome = null;
  }
  t.deepEqual(brief(ruled), expected, `${what}: rules ${ruled.verdict} (${ruled.reason}); judge ${coded.verdict} (${coded.reason})`);
  return ruled;
}

test('every recorded taskcluster-reset run, and each with broken evidence: the rules give the judge verdict and kind', async (t) => {
  t.true(VARIANTS.length >= 5);
  const seen = new Set<string>();
  for (const variant of VARIANTS) {
    const e = await reread(variant);
    t.is(compare(t, e, variant).verdict, recorded<LateEvidence>(LAB, variant).verdict, `${variant}: the verdict recorded when it ran`);
    for (const [name, change] of Object.entries(MUTATIONS)) seen.add(compare(t, change(e), `${variant}, ${name}`, FAILURE_WITHOUT_MECHANISM.has(name)).verdict);
  }
  t.deepEqual([...seen].sort(), ['INCONCLUSIVE', 'NOT_REPRODUCED', 'REPRODUCED']);
});
