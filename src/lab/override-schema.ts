/**
 * The shape of an override: the setting's own schema with every field optional and no defaults, objects merged
 * key by key, lists and values replaced. Derived from the node's and link's schemas, so an override can set only
 * what the node or link itself can; the merged result is checked again by those schemas (validate-overrides.ts).
 */
import * as z from 'zod';

export function overrideOf(schema: z.ZodType): z.ZodType {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional) return overrideOf(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodObject) {
    const shape = Object.fromEntries(Object.entries(schema.shape as Record<string, z.ZodType>).map(([key, field]) => [key, overrideOf(field).optional()]));
    const object = z.strictObject(shape);
    return schema.description ? object.describe(schema.description) : object;
  }
  if (schema instanceof z.ZodRecord) return z.record(schema.keyType as z.ZodString, overrideOf(schema.valueType as z.ZodType));
  return schema;
}
