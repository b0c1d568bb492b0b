/**
 * The JSON schema of a declared scenario's steps and verdict rules, for editors (scripts/write-schema.ts puts it into
 * schema/lab.schema.json), made from the same zod schemas as `lab validate` through the step and measure registries.
 * Any value inside a step or a measure may be a ${placeholder}, substituted before the zod schemas check it.
 */
import * as z from 'zod';
import { COMPARATORS, declaredSchemas, STEP_NAME } from './spec.js';
import { STEPS } from './steps/index.js';
import { schemaKit } from './kit.js';
import type { StepKind } from './kind.js';

type Json = Record<string, unknown>;

const PLACEHOLDER_DEF: Json = { type: 'string', pattern: '\\$\\{[A-Za-z][A-Za-z0-9_.-]*\\}', description: 'a ${placeholder}, substituted before the check' };
const PLACEHOLDER: Json = { $ref: '#/$defs/declaredPlaceholder' };

/** `steps` and `verdict` of a declared scenario, and the definitions they refer to (under `#/$defs/`). */
export function declaredJsonSchemas(): { steps: Json; verdict: Json; defs: Record<string, Json> } {
  const { steps, measures } = declaredSchemas();
  const stepSchemas = Object.entries(STEPS).map(([kind, k]) => {
    const detailed = (k as StepKind).editorSchema?.(schemaKit());
    return oneKey(kind, spec(detailed ?? steps[kind as keyof typeof steps]), {
      when: {
        type: 'object',
        additionalProperties: { type: ['string', 'number', 'boolean'] },
        description: 'the step runs only for variants whose params have these values, e.g. { proto: udp }',
      },
    });
  });
  const step: Json = { anyOf: stepSchemas };
  const phase: Json = {
    type: 'object',
    properties: { phase: { type: 'string', pattern: STEP_NAME.source }, steps: { type: 'array', minItems: 1, items: step } },
    required: ['phase', 'steps'],
    additionalProperties: false,
  };
  const measureDefs = Object.fromEntries(Object.entries(measures).map(([kind, schema]) => [`declaredMeasure-${kind}`, spec(schema)]));
  const measureOf = Object.keys(measures).map((kind) => [kind, { $ref: `#/$defs/declaredMeasure-${kind}` }] as const);
  const than: Json = { anyOf: [{ type: 'number' }, PLACEHOLDER, ...measureOf.map(([kind, s]) => oneKey(kind, s))] };
  const comparisons = Object.fromEntries(Object.keys(COMPARATORS).map((op) => [op, than]));
  const condition: Json = {
    anyOf: measureOf.map(([kind, s]) => ({
      ...oneKey(kind, s, { ...comparisons, as: { type: 'string', maxLength: 200, description: 'what is counted, in words' } }),
      minProperties: 2,
    })),
  };
  const ref = (name: string) => ({ $ref: `#/$defs/${name}` });
  const rules = { type: 'array', minItems: 1, items: ref('declaredRule') };
  const group = (key: string) => ({
    type: 'object',
    properties: { [key]: { type: 'array', minItems: 2, items: ref('declaredRule') } },
    required: [key],
    additionalProperties: false,
  });
  const text = { type: 'string', minLength: 1, maxLength: 200 };
  return {
    steps: { type: 'array', minItems: 1, items: { anyOf: [step, phase] } },
    verdict: {
      type: 'object',
      properties: {
        reproduced: rules,
        notReproduced: {
          type: 'object',
          properties: { when: rules, healthy: { type: 'array', minItems: 1, items: ref('declaredCondition') } },
          required: ['when', 'healthy'],
          additionalProperties: false,
        },
        failure: text,
        mechanism: { type: 'object', properties: { name: text, when: rules }, required: ['name', 'when'], additionalProperties: false },
      },
      required: ['reproduced', 'notReproduced'],
    },
    defs: {
      declaredPlaceholder: PLACEHOLDER_DEF,
      ...measureDefs,
      declaredCondition: condition,
      declaredRule: { anyOf: [ref('declaredCondition'), group('anyOf'), group('allOf')] },
    },
  };
}

function oneKey(kind: string, value: Json, others: Record<string, Json> = {}): Json {
  return { type: 'object', properties: { [kind]: value, ...others }, required: [kind], additionalProperties: false };
}

/** A kind's schema as JSON, every value in it also allowed to be a placeholder. */
function spec(schema: z.ZodType): Json {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
  delete json.$schema;
  return placeholders(json);
}

/** A mapping takes placeholders in its values, a union in its alternatives; anything else may be one. */
function placeholders(node: Json, wrap = true): Json {
  const out: Json = { ...node };
  if (isJson(out.properties)) out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k, placeholders(v as Json)]));
  if (isJson(out.items)) out.items = placeholders(out.items);
  if (isJson(out.additionalProperties)) out.additionalProperties = placeholders(out.additionalProperties);
  if (Array.isArray(out.anyOf)) out.anyOf = out.anyOf.map((v: Json) => placeholders(v, false));
  if (!wrap || out.type === 'object' || Array.isArray(out.anyOf)) return out;
  return { anyOf: [out, PLACEHOLDER] };
}

function isJson(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
