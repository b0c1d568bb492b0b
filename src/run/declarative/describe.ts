/** `lab show` of a declared scenario: its params, then one line per step and per rule, as written. */
import { stringify } from 'yaml';
import { splitDeclared } from '../../lab/declared/validate.js';

export function describeDeclared(scenarioParams: Record<string, unknown>): string[] {
  const { raw, params } = splitDeclared(scenarioParams);
  const flat = (v: unknown) => stringify(v, { collectionStyle: 'flow', lineWidth: 0 }).trim();
  const step = (s: unknown, indent: string): string[] => {
    if (s && typeof s === 'object' && 'phase' in s) {
      const p = s as { phase: string; steps?: unknown[] };
      return [`${indent}phase ${p.phase}:`, ...(p.steps ?? []).flatMap((x) => step(x, `${indent}  `))];
    }
    return [`${indent}- ${flat(s)}`];
  };
  const verdict = raw.verdict as Record<string, unknown>;
  return [
    ...Object.entries(params).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
    '  steps:',
    ...raw.steps.flatMap((s) => step(s, '    ')),
    '  verdict:',
    ...stringify(verdict, { lineWidth: 0 })
      .trimEnd()
      .split('\n')
      .map((l) => `    ${l}`),
  ];
}
