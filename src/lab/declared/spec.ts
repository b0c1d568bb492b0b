/**
 * A declared scenario: steps (agents from the generic library, waits, commands, snapshots,
 * captures), optionally grouped in phases, and verdict rules over the evidence they collect.
 * These schemas check a scenario after its ${placeholders} are substituted (see substitute.ts).
 */
import type * as z from 'zod';
import { STEPS, type StepKindName, type StepSpec } from './steps/index.js';
import { MEASURES, type MeasureKindName, type MeasureSpec } from './measures/index.js';
import { schemaKit } from './kit.js';
import { agentArgSchemas } from './generic-agents.js';

export const DECLARED_KIND = 'declared';

export { STEP_NAME, FILTER_TEXT } from './kit.js';
export { GENERIC_AGENTS, type GenericAgentKind } from './generic-agents.js';

export const STEP_KINDS = Object.keys(STEPS) as StepKind[];
export type StepKind = StepKindName;
export const MEASURE_KINDS = Object.keys(MEASURES) as MeasureKind[];
export type MeasureKind = MeasureKindName;

type Built<T extends Record<string, { schema(kit: ReturnType<typeof schemaKit>): z.ZodType }>> = { [K in keyof T]: ReturnType<T[K]['schema']> };
export type DeclaredSchemas = { agentArgs: ReturnType<typeof agentArgSchemas>; steps: Built<typeof STEPS>; measures: Built<typeof MEASURES> };
let built: DeclaredSchemas | undefined;
/** Built on first use: zod schemas take a noticeable share of a short command's start, and most labs declare nothing. */
export function declaredSchemas(): DeclaredSchemas {
  return (built ??= {
    agentArgs: agentArgSchemas(),
    steps: buildAll(STEPS) as Built<typeof STEPS>,
    measures: buildAll(MEASURES) as Built<typeof MEASURES>,
  });
}

function buildAll(kinds: Record<string, { schema(kit: ReturnType<typeof schemaKit>): z.ZodType }>): Record<string, z.ZodType> {
  const kit = schemaKit();
  return Object.fromEntries(Object.entries(kinds).map(([kind, k]) => [kind, k.schema(kit)]));
}

export type Step = {
  [K in StepKind]: { kind: K; spec: StepSpec<K>; when?: Record<string, string | number | boolean>; skip?: true };
}[StepKind];
export interface Phase {
  phase: string;
  steps: Step[];
}
export type Measure = { [K in MeasureKind]: { kind: K; spec: MeasureSpec<K>; as?: string } }[MeasureKind];

export const COMPARATORS = { atLeast: '>=', atMost: '<=', equals: '=', below: '<', above: '>' } as const;
export type Comparator = keyof typeof COMPARATORS;
export interface Condition {
  measure: Measure;
  op: Comparator;
  than: number | Measure;
}

/**
 * Holds when any of its rules holds: `{ anyOf: [rule, ...] }`; `{ allOf: [rule, ...] }` when every one does (an
 * alternative of several conditions). In reproduced, notReproduced.when and mechanism.when, never in healthy.
 */
export interface AnyOf {
  anyOf: Rule[];
}
export interface AllOf {
  allOf: Rule[];
}
export type Rule = Condition | AnyOf | AllOf;

/** The alternatives of anyOf or the parts of allOf; undefined for a plain condition. */
export function ruleParts(r: Rule): { key: 'anyOf' | 'allOf'; parts: Rule[] } | undefined {
  if ('anyOf' in r) return { key: 'anyOf', parts: r.anyOf };
  if ('allOf' in r) return { key: 'allOf', parts: r.allOf };
  return undefined;
}

/** The plain conditions of a list of rules, anyOf and allOf flattened. */
export function plainConditions(rules: Rule[]): Condition[] {
  return rules.flatMap((r) => {
    const group = ruleParts(r);
    return group ? plainConditions(group.parts) : [r as Condition];
  });
}

/** Every plain condition with its path into the lab file, below `base`. */
export function conditionsAt(rules: Rule[], base: ReadonlyArray<string | number>): Array<[Condition, Array<string | number>]> {
  return rules.flatMap((r, i) => {
    const group = ruleParts(r);
    return group ? conditionsAt(group.parts, [...base, i, group.key]) : [[r as Condition, [...base, i]] as [Condition, Array<string | number>]];
  });
}

export interface VerdictRules {
  reproduced: Rule[];
  notReproduced: Rule[];
  /** Positive evidence that the application's traffic flowed: NOT_REPRODUCED needs it; each condition requires a count above 0. */
  healthy: Condition[];
  /** The application's failure in the lab's words ("replies never reach the client"): the verdict's outcome facet. */
  failure?: string;
  /** The mechanism behind the failure and the conditions that show it: corroboration, never the verdict. */
  mechanism?: { name: string; when: Rule[] };
  /** Cases the lab says it cannot decide: when every condition holds, INCONCLUSIVE of that kind, before the other rules. */
  inconclusive?: StatedInconclusive[];
}

/** The kinds of INCONCLUSIVE a lab file may state (an error is never stated: it is what happened to a run). */
export const STATED_INCONCLUSIVE_KINDS = ['emulation-gap', 'evidence-missing', 'evidence-conflict'] as const;
export interface StatedInconclusive {
  kind: (typeof STATED_INCONCLUSIVE_KINDS)[number];
  /** Why the lab cannot decide then, in words ("Docker Desktop's own forwarder is not run here"). */
  because: string;
  when: Rule[];
}

/** Comparisons a healthy condition may use against a number, and the smallest number each accepts: all require a count above 0. */
export const HEALTHY_MINIMUM: Partial<Record<Comparator, { min: number; strict: boolean }>> = {
  atLeast: { min: 0, strict: true },
  equals: { min: 0, strict: true },
  above: { min: 0, strict: false },
};

export interface DeclaredScenario {
  steps: Array<Step | Phase>;
  verdict: VerdictRules;
}
