/** Turns zod issues into problems a person reads: the path, what was found, what was expected. */
import type { z } from 'zod';
import { describeValue, valueAt, type Path, type Problem } from './problems.js';

type Issue = z.core.$ZodIssue;

export function problemsFromZod(schema: z.ZodType, issues: readonly Issue[], data: unknown, base: Path = []): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    const rel = issue.path as Array<string | number>;
    const path = [...base, ...rel];
    const found = valueAt(data, rel);
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          const allowed = allowedKeys(schema, rel);
          out.push({ path: [...path, key], message: `unknown key "${key}"${allowed.length ? ` (expected one of: ${allowed.join(', ')})` : ''}` });
        }
        break;
      case 'invalid_union': {
        const branches = issue.errors.filter((b) => b.length > 0);
        const best = branches.sort((a, b) => a.length - b.length)[0];
        if (best) out.push(...problemsFromZod(schema, best.map((i) => ({ ...i, path: [...issue.path, ...i.path] })) as Issue[], data, base));
        else out.push({ path, message: `found ${describeValue(found)}, which matches none of the allowed forms` });
        break;
      }
      case 'invalid_type':
        out.push({ path, message: found === undefined ? `missing (expected ${issue.expected})` : `found ${describeValue(found)}, expected ${issue.expected}` });
        break;
      case 'invalid_value': {
        const values = issue.values.map((v) => JSON.stringify(v)).join(', ');
        out.push({ path, message: `${found === undefined ? 'missing' : `found ${describeValue(found)}`}, expected one of: ${values}` });
        break;
      }
      case 'invalid_format': {
        const expected = issue.format === 'regex' ? issue.message : issue.format === 'url' ? 'a URL' : `a ${issue.format}`;
        out.push({ path, message: `found ${describeValue(found)}, expected ${expected}` });
        break;
      }
      case 'invalid_key':
        out.push({ path, message: `found key ${JSON.stringify(String(path.at(-1)))}, expected ${issue.issues.map((i) => i.message).join('; ')}` });
        break;
      case 'too_small':
      case 'too_big': {
        const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
        const op = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
        const what =
          issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint'
            ? `a number ${op} ${bound}`
            : issue.origin === 'string'
              ? `a text of length ${op} ${bound}`
              : `${op} ${bound} items`;
        out.push({ path, message: `found ${describeValue(found)}, expected ${what}` });
        break;
      }
      default:
        out.push({ path, message: `found ${describeValue(found)}, expected ${issue.message}` });
    }
  }
  return out;
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
  items?: z.ZodType[];
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

function unwrap(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  if (def.innerType) return unwrap(def.innerType);
  if (def.type === 'pipe' && def.in) return unwrap(def.in);
  if (def.type === 'union' && def.options) return def.options.flatMap(unwrap);
  return [schema];
}

/** The keys an object at `path` may have, found by walking the schema. */
export function allowedKeys(schema: z.ZodType, path: Path): string[] {
  let current = unwrap(schema);
  for (const key of path) {
    current = current.flatMap((s) => {
      const def = defOf(s);
      if (def.type === 'object' && def.shape && typeof key === 'string' && def.shape[key]) return unwrap(def.shape[key]);
      if (def.type === 'record' && def.valueType) return unwrap(def.valueType);
      if (def.type === 'array' && def.element) return unwrap(def.element);
      if (def.type === 'tuple' && def.items && typeof key === 'number' && def.items[key]) return unwrap(def.items[key]);
      return [];
    });
  }
  const keys = new Set<string>();
  for (const s of current) {
    const def = defOf(s);
    if (def.type === 'object' && def.shape) for (const k of Object.keys(def.shape)) keys.add(k);
  }
  return [...keys];
}
