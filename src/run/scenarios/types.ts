/**
 * A scenario drives one variant of a lab (starts agents, captures, snapshots) and judges the
 * evidence it collected. The lab file picks a scenario by kind and gives its parameters.
 */
import type { z } from 'zod';
import type { ResolvedLab, ResolvedVariant } from '../../lab/model.js';
import type { ScenarioContext } from '../context.js';
import type { MechanismFacet, OutcomeFacet, Verdict } from '../verdict.js';

/** A number a coded scenario computes from its evidence for a lab file's verdict rules; null with the reason when missing. */
export interface ScenarioMeasure {
  value: number | null;
  missing?: string;
  label?: string;
}

/** What run-lab stores for any scenario; each scenario declares its own, more precise type. */
export type Evidence = Record<string, unknown>;

export interface NodeRef {
  /** Path of the parameter inside scenario.params, for error messages. */
  param: string;
  node: string;
}

export interface Scenario<P = Record<string, unknown>, E extends object = Evidence> {
  kind: string;
  summary: string;
  params: z.ZodType<P>;
  /** Node names the parameters refer to, checked against the topology at validation. */
  nodeRefs(params: P): NodeRef[];
  /** Extra checks against the resolved topology (e.g. "client must be a container"). */
  check?(params: P, lab: ResolvedLab): string[];
  run(ctx: ScenarioContext, params: P, variant: ResolvedVariant): Promise<E>;
  /** Pure: the verdict follows from the evidence alone. */
  judge(evidence: E, params: P): Verdict;
  /**
   * For verdict rules in the lab file (scenario.verdict): the measures the rules may name, each with what it counts;
   * the numbers from one run's evidence; and the integrity checks that run first (a failing one is the verdict,
   * INCONCLUSIVE with its kind). `details` gives the judge's own words for the facets.
   */
  rules?: {
    measures: Record<string, string>;
    measure(evidence: E, params: P): Record<string, ScenarioMeasure>;
    preconditions(evidence: E, params: P): Verdict | undefined;
    details?(evidence: E, params: P): { outcome?: OutcomeFacet; mechanism?: MechanismFacet };
  };
}

/** The node references of parameters that name nodes directly: `nodeRefs: (p) => refsTo(p, 'client', 'server')`. */
export function refsTo<P>(params: P, ...keys: Array<keyof P & string>): NodeRef[] {
  return keys.map((key) => ({ param: key, node: String(params[key]) }));
}
