/**
 * Every measure kind a verdict rule may count, one module each, in the order messages list them. A kind is its module
 * plus one entry here; test/declarative/kinds.test.ts checks that nothing else names it.
 */
import type * as z from 'zod';
import { packets } from './packets.js';
import { agent } from './agent.js';
import { conntrack } from './conntrack.js';
import { snapshot } from './snapshot.js';
import { measure } from './measure.js';
import type { MeasureKind } from '../kind.js';

export const MEASURES = { packets, agent, conntrack, snapshot, measure } as const;

/** The kind a coded scenario's rules count with: the numbers it computes, by name. */
export const CODED_MEASURE = 'measure' satisfies keyof typeof MEASURES;

export type MeasureKindName = keyof typeof MEASURES;
export type MeasureSpec<K extends MeasureKindName> = z.output<ReturnType<(typeof MEASURES)[K]['schema']>>;

/** The kind of a measure, its spec's type erased: a kind's functions take the spec its own schema made. */
export function measureKindOf(kind: MeasureKindName): MeasureKind<z.ZodType<unknown>> {
  return MEASURES[kind] as unknown as MeasureKind<z.ZodType<unknown>>;
}
