/**
 * npa-conntrack-race's verdict rules (labs/npa-conntrack-race/lab.yaml) against conntrack-cleanup-race's coded judge:
 * every recorded run, and each with broken evidence, gets the same verdict and kind both ways. Known and asserted: where
 * both say INCONCLUSIVE past the preconditions (failed connections not denied; connections neither ok nor failed), the
 * judge's outcome facet still says seen or not seen, the rules' says unknown (their outcome follows their verdict).
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { conntrackCleanupRaceScenario as s, type RaceEvidence } from '../../src/run/scenarios/conntrack-cleanup-race.js';
import { codedRules, judgeCoded } from '../../src/run/declarative/coded.js';
import type { Verdict } from '../../src/run/verdict.js';
import { recorded } from './recorded.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const LAB = 'npa-conntrack-race';
const labFile = parse(fs.readFileSync(path.join(root, 'labs', LAB, 'lab.yaml'), 'utf8')) as { scenario: { params: object; verdict: unknown } };
const params = s.params.parse(labFile.scenario.params);
const rules = codedRules(s, labFile.scenario.verdict)!;
const VARIANTS = fs
  .readdirSync(path.join(root, 'test', 'fixtures', 'runs', LAB))
  .filter((v) => fs.existsSync(path.join(root, 'test', 'fixtures', 'runs', LAB, v, 'evidence.json')));

type Change = (e: RaceEvidence) => RaceEvidence;
const first = (e: RaceEvidence) => Object.keys(e.onWire ?? {})[0] ?? '10.40.1.1:40000>10.40.2.2:9100';
const MUTATIONS: Record<string, Change> = {
  'summary missing': (e) => ({ ...e, summaryProblems: ['the policy agent produced no summary'] }),
  'conntrack -L failed': (e) => ({ ...e, agentConntrackFailures: 1 }),
  'wave 1 never expired': (e) => ({ ...e, timing: { ...e.timing, wave1EntriesExpiredAt: null } }),
  'capture unreadable': (e) => ({ ...e, captureProblems: ['capture cannot be read'] }),
  'echoes disagree': (e) => (e.onWire ? { ...e, onWire: { ...e.onWire, [first(e)]: { ...e.onWire[first(e)]!, echoes: 99 } } } : e),
  'failed, not denied': (e) => ({ ...e, deniedFlows: [] }),
  'live entry deleted and denied, every connection completed': (e) => ({
    ...e,
    wave2: { ...e.wave2, ok: e.wave2.attempts, failed: [] },
    liveFlowsDeleted: [{ tuple: first(e), cycle: 1, t: 0 }],
    deniedFlows: [{ flow: '10.40.1.1:40001>10.40.2.2:9100', packets: 2 }],
  }),
  'one connection neither ok nor failed': (e) => ({ ...e, wave2: { ...e.wave2, ok: Math.max(0, e.wave2.attempts - 1), failed: [] } }),
  'no wave-2 attempt': (e) => ({ ...e, wave2: { ...e.wave2, attempts: 0, ok: 0, failed: [] } }),
};
const brief = (v: Verdict) => ({ verdict: v.verdict, kind: v.inconclusive, outcome: v.outcome?.seen, mechanism: v.mechanism?.seen });

function compare(t: import('ava').ExecutionContext, e: RaceEvidence, what: string): Verdict {
  const coded = s.judge(e, params);
  const { measures: _m, ...ruled } = judgeCoded(s, rules, e, params);
  const expected = brief(coded);
  // Past the preconditions, an INCONCLUSIVE judge may still say whether the failure was seen; the rules' outcome follows their verdict.
  if (coded.verdict === 'INCONCLUSIVE' && coded.outcome && coded.outcome.seen !== null) {
    t.is(ruled.outcome?.seen, null, `${what}: the rules' outcome follows their INCONCLUSIVE`);
    expected.outcome = null;
  }
  t.deepEqual(brief(ruled), expected, `${what}: rules ${ruled.verdict} (${ruled.reason}); judge ${coded.verdict} (${coded.reason})`);
  return ruled;
}

test('every recorded npa-conntrack-race run, and each with broken evidence: the rules give the judge verdict and kind', (t) => {
  t.true(VARIANTS.length >= 3);
  const seen = new Set<string>();
  for (const variant of VARIANTS) {
    const saved = recorded<RaceEvidence>(LAB, variant);
    seen.add(compare(t, saved.evidence, variant).verdict);
    for (const [name, change] of Object.entries(MUTATIONS)) seen.add(compare(t, change(saved.evidence), `${variant}, ${name}`).verdict);
  }
  t.deepEqual([...seen].sort(), ['INCONCLUSIVE', 'NOT_REPRODUCED', 'REPRODUCED']);
});
