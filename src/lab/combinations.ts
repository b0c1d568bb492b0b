/** Variants written as products of axes (`combinations:`), expanded into plain variants. */
import type { Change, LabFile, Overrides, VariantSpec } from './schema.js';
import { uniteOverrides } from './overrides.js';
import { VARIANT_NAME, nameRules } from './names.js';
import type { Path, Problem } from './problems.js';

export interface ExpandedVariant {
  name: string;
  spec: VariantSpec;
  /** Where the variant is written: variants.<name>, or the combination block it comes from. */
  path: Path;
  /** For a combination: the path of each axis value it is made of. */
  parts?: Path[];
}

/** Every variant of the lab, listed ones first, then each combination's product in axis order. */
export function expandVariants(lab: LabFile): { variants: ExpandedVariant[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const variants: ExpandedVariant[] = Object.entries(lab.variants).map(([name, spec]) => ({ name, spec, path: ['variants', name] }));
  const taken = new Map(variants.map((v) => [v.name, v.path]));
  lab.combinations.forEach((combination, c) => {
    const base = ['combinations', c];
    const axes = Object.entries(combination.axes);
    let product: Array<Array<{ axis: string; value: string }>> = [[]];
    for (const [axis, values] of axes) product = product.flatMap((prefix) => Object.keys(values).map((value) => [...prefix, { axis, value }]));
    const made = new Set<string>();
    for (const picks of product) {
      const name = picks.map((p) => p.value).join('-');
      const parts: Path[] = picks.map((p) => [...base, 'axes', p.axis, p.value]);
      if (!VARIANT_NAME.test(name)) {
        problems.push({ path: base, message: `the combination "${name}" is not a variant name (${nameRules.variant}); shorten the value names` });
        continue;
      }
      const clash = taken.get(name);
      if (clash) {
        problems.push({ path: base, message: `the combination "${name}" is already a variant (${clash.join('.')})` });
        continue;
      }
      const { spec, clashes } = unite(picks.map((p) => ({ ...combination.axes[p.axis]![p.value]!, path: [...base, 'axes', p.axis, p.value] })));
      problems.push(...clashes.map((message) => ({ path: base, message: `combination "${name}": ${message}` })));
      spec.expect = combination.expect[name] ?? [];
      taken.set(name, base);
      made.add(name);
      variants.push({ name, spec, path: base, parts });
    }
    for (const name of Object.keys(combination.expect)) {
      if (made.has(name)) continue;
      const message = `found "${name}", expected a variant this combination makes: ${[...made].join(', ') || '(none)'}`;
      problems.push({ path: [...base, 'expect', name], message });
    }
  });
  if (variants.length === 0) problems.push({ path: ['variants'], message: 'at least one variant (under variants, or made by combinations)' });
  return { variants, problems };
}

interface Part {
  description: string;
  set?: Overrides | undefined;
  changes: Change[];
  params: Record<string, unknown>;
  path: Path;
}

/** The union of the parts' settings, params and changes; one setting, param or sysctl set by two parts is a clash. */
function unite(parts: Part[]): { spec: VariantSpec; clashes: string[] } {
  const clashes: string[] = [];
  const params: Record<string, unknown> = {};
  const paramFrom = new Map<string, Path>();
  const changes: Change[] = [];
  const sysctlFrom = new Map<string, Path>();
  const ruleFrom = new Map<string, Path>();
  for (const part of parts) {
    for (const [key, value] of Object.entries(part.params)) {
      const earlier = paramFrom.get(key);
      if (earlier) clashes.push(`param "${key}" is set by both ${earlier.join('.')} and ${part.path.join('.')}`);
      paramFrom.set(key, part.path);
      params[key] = value;
    }
    for (const change of part.changes) {
      const sysctl = 'sysctl' in change;
      const key = sysctl ? `${change.node} ${change.sysctl.key}` : `${change.node} ${change.iptables.table} ${change.iptables.chain} ${change.iptables.rule}`;
      const seen = sysctl ? sysctlFrom : ruleFrom;
      const earlier = seen.get(key);
      const what = sysctl ? `sysctl ${change.sysctl.key} on ${change.node}` : `iptables rule "${change.iptables.rule}" on ${change.node}`;
      if (earlier) clashes.push(`${what} is set by both ${earlier.join('.')} and ${part.path.join('.')}`);
      seen.set(key, part.path);
      changes.push(change);
    }
  }
  const { set, clashes: setClashes } = uniteOverrides(parts);
  clashes.push(...setClashes);
  const description = parts.map((p) => p.description.trim()).join('; ');
  return { spec: { description, ...(set ? { set } : {}), changes, params, expect: [] }, clashes };
}
