/**
 * A run's verdicts held against what the lab file expects for the kernel the run saw. Computed
 * after the variants ran (by the command and report layer), never inside a scenario or a judge.
 *
 * The check, exactly:
 * - The kernel is the run's `kernelVersion` (the distribution's upstream version, 5.10.223 for Debian's
 *   5.10.0-32-amd64) when it is known, else its `uname -r`. The entry whose range holds it is the expectation.
 *   On a run whose nodes ran different kernels (`nodeKernels`), a plain range must hold every node's kernel, and a
 *   range by node ({ client: "<6.1" }) holds that node's; on one kernel, every node's kernel is the run's.
 * - No entry holds it, the kernel has no version ("unknown"), or the entry says `unknown`: the variant is
 *   `unchecked` (matchesExpected null). Nothing was held against it.
 * - An entry expecting REPRODUCED or NOT_REPRODUCED: `matches` when the verdict is that one, else `differs`.
 * - An entry expecting INCONCLUSIVE names its kind (only `emulation-gap`, see EXPECTABLE_INCONCLUSIVE): `matches`
 *   only an INCONCLUSIVE of that same kind from a variant that did not fail. An INCONCLUSIVE of another kind
 *   (`error`, `evidence-missing`, `evidence-conflict`; an INCONCLUSIVE saved without a kind counts as
 *   `evidence-missing`), a variant that failed (its `error` is set) or a decided verdict `differs`.
 *
 * `lab run --check` passes when every variant `matches`. With --allow-unchecked an `unchecked` variant passes too,
 * unless its verdict is INCONCLUSIVE: a run that could not decide never passes a check that nothing expected.
 * A variant that `differs` always fails it. verdict.json and `--json` give every variant `expected` (the entry, or
 * null), `check` (matches | differs | unchecked) and `matchesExpected` (true | false | null, the same in another form).
 */
import {
  expectationFor,
  kernelSelectorText,
  type ExpectableInconclusive,
  type Expectation,
  type ExpectedVerdictName,
  type KernelSelector,
  type RunKernels,
} from '../lab/expect.js';
import type { InconclusiveKind, VerdictValue } from './verdict.js';

/** What `--json` and verdict.json give as a variant's `expected`: the entry that covers the run's kernel. */
export interface ExpectedVerdict {
  verdict: ExpectedVerdictName;
  /** The kind of INCONCLUSIVE expected, when the verdict expected is INCONCLUSIVE. */
  inconclusive?: ExpectableInconclusive;
  /** The range of the entry that covers the kernel, e.g. ">=6.1", or its ranges by node ({ client: "<6.1" }). */
  kernel: KernelSelector;
  why: string;
  source: string;
  measured?: string;
  /** The engines the entry covers, when it names them (docker: in the lab file). */
  docker?: string;
}

/** What is needed of the lab: its variants' expectations (a ResolvedLab, or lab.json of a saved run). */
export interface LabExpectations {
  variants: ReadonlyArray<{ name: string; expect: readonly Expectation[] }>;
}

export type CheckResult = 'matches' | 'differs' | 'unchecked';

export interface ExpectationCheck {
  expected: ExpectedVerdict | null;
  /** true when it matches, false when it differs, null when unchecked (checkOf names them). */
  matchesExpected: boolean | null;
}

/** What a variant's result offers to be checked: its verdict, the kind of an INCONCLUSIVE, whether it failed. */
export interface CheckedOutcome {
  verdict: VerdictValue;
  inconclusive?: InconclusiveKind;
  error?: string;
}

/** The kernel expectations are matched on: the distribution's version when the run read it, else `uname -r`. */
export function kernelToMatch(run: { kernel: string; kernelVersion?: string }): string {
  return run.kernelVersion ?? run.kernel;
}

/** Each node's kernel as the run read it, when its nodes ran different kernels (RunResult.nodeKernels). */
export type NodeKernels = Record<string, { kernel: string; kernelVersion?: string }>;

/** The kernels expectations are matched on: the run's, and each node's when they differ. */
export function runKernels(run: { kernel: string; kernelVersion?: string; nodeKernels?: NodeKernels }): RunKernels {
  const nodes = run.nodeKernels && Object.fromEntries(Object.entries(run.nodeKernels).map(([node, k]) => [node, kernelToMatch(k)]));
  return { run: kernelToMatch(run), ...(nodes ? { nodes } : {}) };
}

/** How a check names the kernels it matched on: "6.1.176", or "client 6.1.176, router 5.10.223". */
export function kernelsToMatchText(run: { kernel: string; kernelVersion?: string; nodeKernels?: NodeKernels }): string {
  const { run: one, nodes } = runKernels(run);
  return nodes
    ? Object.entries(nodes)
        .map(([node, k]) => `${node} ${k}`)
        .join(', ')
    : one;
}

export function checkExpectation(
  lab: LabExpectations,
  variant: string,
  kernel: string | RunKernels,
  outcome: CheckedOutcome,
  engine?: string,
): ExpectationCheck {
  const entries = lab.variants.find((v) => v.name === variant)?.expect ?? [];
  const entry = expectationFor(entries, kernel, engine);
  if (!entry) return { expected: null, matchesExpected: null };
  const { why, source, measured, inconclusive, docker } = entry;
  const expected: ExpectedVerdict = {
    verdict: entry.verdict,
    ...(inconclusive ? { inconclusive } : {}),
    kernel: entry.kernel,
    why,
    source,
    ...(measured ? { measured } : {}),
    ...(docker !== undefined ? { docker } : {}),
  };
  if (entry.verdict === 'unknown') return { expected, matchesExpected: null };
  return { expected, matchesExpected: outcomeMatches(expected, outcome) };
}

function outcomeMatches(expected: ExpectedVerdict, outcome: CheckedOutcome): boolean {
  if (expected.verdict !== outcome.verdict) return false;
  if (outcome.verdict !== 'INCONCLUSIVE') return true;
  // An expectation without a kind (a lab.json saved before kinds existed) matches no INCONCLUSIVE.
  return expected.inconclusive !== undefined && outcome.error === undefined && (outcome.inconclusive ?? 'evidence-missing') === expected.inconclusive;
}

/** The run with every variant's expectation check added (a copy; the run itself is left as it was). */
export function withExpectations<
  R extends { kernel: string; kernelVersion?: string; nodeKernels?: NodeKernels; engine?: string; variants: Array<{ name: string } & CheckedOutcome> },
>(lab: LabExpectations, run: R): R & { variants: Array<R['variants'][number] & ExpectationCheck> } {
  const kernel = runKernels(run);
  return { ...run, variants: run.variants.map((v) => ({ ...v, ...checkExpectation(lab, v.name, kernel, v, run.engine) })) };
}

/** `matches`, `differs` or `unchecked` (also a variant never checked at all). */
export function checkOf(v: { matchesExpected?: boolean | null }): CheckResult {
  return v.matchesExpected === true ? 'matches' : v.matchesExpected === false ? 'differs' : 'unchecked';
}

/** "INCONCLUSIVE (emulation-gap)" for an expected INCONCLUSIVE, else the verdict expected. */
export function expectedVerdictText(expected: ExpectedVerdict): string {
  return expected.inconclusive ? `${expected.verdict} (${expected.inconclusive})` : expected.verdict;
}

/** One line for a variant: the difference spelled out, or what was expected, or that it is unchecked and why. */
export function expectationLine(check: ExpectationCheck, verdict: VerdictValue, kernel: string): string {
  const { expected } = check;
  const result = checkOf(check);
  if (!expected) return `unchecked: no expectation for ${kernel}`;
  const kernels = kernelSelectorText(expected.kernel);
  const on = expected.docker === undefined ? kernels : `${kernels} with Docker ${expected.docker}`;
  if (result === 'differs') return `DIFFERS from expected ${expectedVerdictText(expected)} on ${on}: ${expected.why}`;
  if (result === 'unchecked') return `unchecked: expected unknown on ${on}: ${expected.why}`;
  return `as expected on ${on} (${verdict})`;
}

/** Whether `lab run --check` passes (the rules are in this file's header). */
export function checkPasses(
  variants: ReadonlyArray<{ verdict: VerdictValue } & Pick<ExpectationCheck, 'matchesExpected'>>,
  options: { allowUnchecked?: boolean } = {},
): boolean {
  return variants.every((v) => {
    const check = checkOf(v);
    return check === 'matches' || (check === 'unchecked' && options.allowUnchecked === true && v.verdict !== 'INCONCLUSIVE');
  });
}

/** Why --check failed, one line per variant that failed it; empty when it passes. */
export function checkFailures(
  variants: ReadonlyArray<{ name: string; verdict: VerdictValue } & ExpectationCheck>,
  options: { allowUnchecked?: boolean } = {},
): string[] {
  return variants
    .filter((v) => !checkPasses([v], options))
    .map((v) =>
      checkOf(v) === 'differs'
        ? `${v.name}: ${v.verdict} differs from its expectation`
        : v.verdict === 'INCONCLUSIVE'
          ? `${v.name}: INCONCLUSIVE, and nothing expected it`
          : `${v.name}: unchecked (no expectation for this kernel); --allow-unchecked accepts it`,
    );
}
