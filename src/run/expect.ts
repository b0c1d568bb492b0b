/**
 * A run's verdicts held against what the lab file expects for the kernel the run saw. Computed
 * after the variants ran (by the command and report layer), never inside a scenario or a judge.
 */
import { expectationFor, type Expectation, type ExpectedVerdictName } from '../lab/expect.js';
import type { VerdictValue } from './verdict.js';

/** What `--json` and verdict.json give as a variant's `expected`: the entry that covers the run's kernel. */
export interface ExpectedVerdict {
  verdict: ExpectedVerdictName;
  /** The range of the entry that covers the kernel, e.g. ">=6.1". */
  kernel: string;
  why: string;
  source: string;
  measured?: string;
}

/** What is needed of the lab: its variants' expectations (a ResolvedLab, or lab.json of a saved run). */
export interface LabExpectations {
  variants: ReadonlyArray<{ name: string; expect: readonly Expectation[] }>;
}

export interface ExpectationCheck {
  expected: ExpectedVerdict | null;
  /** null when there is no expectation or it is "unknown". */
  matchesExpected: boolean | null;
}

export function checkExpectation(lab: LabExpectations, variant: string, kernel: string, verdict: VerdictValue): ExpectationCheck {
  const entries = lab.variants.find((v) => v.name === variant)?.expect ?? [];
  const entry = expectationFor(entries, kernel);
  if (!entry) return { expected: null, matchesExpected: null };
  const { why, source, measured } = entry;
  const expected: ExpectedVerdict = { verdict: entry.verdict, kernel: entry.kernel, why, source, ...(measured ? { measured } : {}) };
  return { expected, matchesExpected: entry.verdict === 'unknown' ? null : entry.verdict === verdict };
}

/** The run with every variant's expectation check added (a copy; the run itself is left as it was). */
export function withExpectations<R extends { kernel: string; variants: Array<{ name: string; verdict: VerdictValue }> }>(
  lab: LabExpectations,
  run: R,
): R & { variants: Array<R['variants'][number] & ExpectationCheck> } {
  return { ...run, variants: run.variants.map((v) => ({ ...v, ...checkExpectation(lab, v.name, run.kernel, v.verdict) })) };
}

/** One line for a variant: the difference spelled out, or what was expected, or that nothing was. */
export function expectationLine(check: ExpectationCheck, verdict: VerdictValue, kernel: string): string {
  const { expected, matchesExpected } = check;
  if (!expected) return `no expectation for ${kernel}`;
  if (matchesExpected === false) return `DIFFERS from expected ${expected.verdict} on ${expected.kernel}: ${expected.why}`;
  if (expected.verdict === 'unknown') return `expected unknown on ${expected.kernel}: ${expected.why}`;
  return `as expected on ${expected.kernel} (${verdict})`;
}

/**
 * `lab run --check` passes when no verdict differs from its expectation and every INCONCLUSIVE is one the lab file
 * expects (a lab that says it cannot observe a report's mechanism); any other INCONCLUSIVE fails it.
 */
export function checkPasses(variants: Array<{ verdict: VerdictValue } & ExpectationCheck>): boolean {
  return variants.every((v) => (v.verdict === 'INCONCLUSIVE' ? v.matchesExpected === true : v.matchesExpected !== false));
}
