/**
 * A coded scenario judged by its lab file's verdict rules: the scenario's preconditions first (agents reported,
 * captures read, agent and capture agree: a failing one is the verdict), then the same rule engine as declared labs
 * over the numbers the scenario computes. The judge's own words replace a facet's generated detail when it agrees.
 */
import { LabError } from '../../errors.js';
import { formatPath } from '../../lab/problems.js';
import { parseCodedVerdict } from '../../lab/declared/parse.js';
import { CODED_MEASURE } from '../../lab/declared/measures/index.js';
import { measureId, type Measured } from './measure.js';
import { judgeRules } from './rules.js';
import type { VerdictRules } from '../../lab/declared/spec.js';
import type { getScenario } from '../scenarios/registry.js';

type AnyScenario = ReturnType<typeof getScenario>;
import type { Verdict } from '../verdict.js';

/** The lab file's rules for a coded scenario, checked against the measures it declares; undefined when it has none. */
export function codedRules(scenario: AnyScenario, raw: unknown): VerdictRules | undefined {
  if (raw === undefined) return undefined;
  if (!scenario.rules) throw new LabError(`scenario ${scenario.kind} computes no measures, so its lab file cannot carry verdict rules`);
  const { rules, problems } = parseCodedVerdict(raw, Object.keys(scenario.rules.measures));
  if (!rules) throw new LabError('the verdict rules do not hold', { details: problems.map((p) => `${formatPath(p.path)}: ${p.message}`) });
  return rules;
}

export function judgeCoded(scenario: AnyScenario, rules: VerdictRules, evidence: object, params: unknown): Verdict & { measures: Record<string, Measured> } {
  const hooks = scenario.rules!;
  const computed = hooks.measure(evidence, params);
  const measures: Record<string, Measured> = {};
  for (const [name, m] of Object.entries(computed)) {
    const id = measureId({ kind: CODED_MEASURE, spec: name });
    measures[id] = { label: m.label ?? name, value: m.value, ...(m.value === null ? { missing: m.missing || `${name} was not measured` } : {}) };
  }
  const failed = hooks.preconditions(evidence, params);
  if (failed) return { ...failed, measures };
  const decided = judgeRules(rules, measures);
  const own = hooks.details?.(evidence, params) ?? {};
  const outcome = decided.outcome && own.outcome?.seen === decided.outcome.seen ? { ...decided.outcome, detail: own.outcome.detail } : decided.outcome;
  const mechanism =
    decided.mechanism && own.mechanism?.seen === decided.mechanism.seen ? { ...decided.mechanism, detail: own.mechanism.detail } : decided.mechanism;
  // The rules' words say why this verdict; the judge's, when its facets agree, what the evidence shows.
  const story = [outcome !== decided.outcome && outcome?.detail, mechanism !== decided.mechanism && mechanism?.detail].filter(Boolean);
  const reason = story.length ? `${decided.reason} (${story.join('; ')})` : decided.reason;
  return { ...decided, reason, ...(outcome ? { outcome } : {}), ...(mechanism ? { mechanism } : {}), measures };
}
