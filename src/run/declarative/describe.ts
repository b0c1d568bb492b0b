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
  return [
    ...Object.entries(params).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
    '  steps:',
    ...raw.steps.flatMap((s) => step(s, '    ')),
    '  verdict:',
    ...asYaml(raw.verdict),
  ];
}

/**
 * `lab show` of a coded scenario whose lab file carries verdict rules: the rules as written, after the scenario's
 * preconditions, and the measures they may name with what each counts.
 */
export function describeCodedRules(verdict: unknown, measures: Record<string, string>): string[] {
  return [
    "  verdict (after the scenario's preconditions, checked in code: any failing one is INCONCLUSIVE):",
    ...asYaml(verdict),
    '  measures:',
    ...Object.entries(measures).map(([name, what]) => `    ${name}: ${what}`),
  ];
}

function asYaml(v: unknown): string[] {
  return stringify(v, { lineWidth: 0 })
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`);
}
