/**
 * Every step kind a lab file may declare, one module each, in the order messages list them. A kind is its module plus
 * one entry here; test/declarative/kinds.test.ts checks that nothing else names it.
 */
import type * as z from 'zod';
import { capture } from './capture.js';
import { agent } from './agent.js';
import { wait } from './wait.js';
import { run } from './run.js';
import { snapshot } from './snapshot.js';
import { stop } from './stop.js';
import { container } from './container.js';
import type { StepKind } from '../kind.js';

export const STEPS = { capture, agent, wait, run, snapshot, stop, container } as const;

export type StepKindName = keyof typeof STEPS;
export type StepSpec<K extends StepKindName> = z.output<ReturnType<(typeof STEPS)[K]['schema']>>;

/** The kind of a step, its spec's type erased: a kind's functions take the spec its own schema made. */
export function stepKindOf(kind: StepKindName): StepKind<z.ZodType<unknown>> {
  return STEPS[kind] as unknown as StepKind<z.ZodType<unknown>>;
}
