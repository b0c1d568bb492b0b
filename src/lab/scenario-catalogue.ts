/**
 * What checking a lab file needs to know of scenarios: their kinds, their parameters, the nodes those name.
 * The scenarios live in src/run; whoever loads a lab passes their catalogue in, so src/lab imports nothing from there.
 * (Method syntax on purpose: a scenario's own parameter type stands in for unknown.)
 */
import type { z } from 'zod';
import type { ResolvedLab } from './model.js';

export interface CataloguedScenario {
  params: z.ZodType;
  /** Node names the parameters refer to, checked against the topology. */
  nodeRefs(params: unknown): Array<{ param: string; node: string }>;
  /** Extra checks against the resolved topology (e.g. "client must be a container"). */
  check?(params: unknown, lab: ResolvedLab): string[];
  /** The measures a lab file's verdict rules may name (name: what it counts); absent when the scenario computes none. */
  rules?: { measures: Record<string, string> };
}

export interface ScenarioCatalogue {
  kinds(): string[];
  find(kind: string): CataloguedScenario | undefined;
}
