/** Agent summaries checked against a schema: a summary that does not parse names the field, and the judge says so. */
import type { z } from 'zod';
import type { AgentEvent } from './agent.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

export function parseSummary<T>(label: string, schema: z.ZodType<T>, raw: AgentEvent | undefined | null): Parsed<T> {
  if (!raw) return { ok: false, problem: `the ${label} agent produced no summary` };
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : '(the whole summary)';
  return { ok: false, problem: `the ${label} agent's summary does not parse: field ${field}: ${issue.message}` };
}
