/**
 * A variant's `set:`: node and link settings it runs with instead of the lab's. The lab file with them merged in is
 * what that variant's own copy of the lab is resolved from; sysctls alone need no copy (they are changed on the live lab).
 */
import { linkSchema, nodeSchema, type Change, type LabFile, type Overrides } from './schema.js';

type Plain = Record<string, unknown>;

const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Objects merge key by key; lists and values replace. */
export function mergeSetting(base: unknown, override: unknown): unknown {
  if (!isPlain(base) || !isPlain(override)) return override;
  const merged: Plain = { ...base };
  for (const [key, value] of Object.entries(override)) if (value !== undefined) merged[key] = mergeSetting(base[key], value);
  return merged;
}

/** The lab file as this variant runs it, each node and link it changes parsed again (defaults filled in); the set must be valid. */
export function applyOverrides(lab: LabFile, set: Overrides): LabFile {
  const merged = mergeOverrides(lab, set);
  const nodes = Object.fromEntries(Object.entries(merged.nodes).map(([name, node]) => [name, set.nodes?.[name] ? nodeSchema.parse(node) : node]));
  const links = merged.links.map((link) => (link.name && set.links?.[link.name] ? linkSchema.parse(link) : link));
  return { ...merged, nodes, links };
}

/** The lab file with the set merged in as written (no defaults filled in); names that are not in the lab are left out. */
export function mergeOverrides(lab: LabFile, set: Overrides): LabFile {
  const nodes = { ...lab.nodes };
  for (const [name, override] of Object.entries(set.nodes ?? {})) {
    if (nodes[name]) nodes[name] = mergeSetting(nodes[name], override) as LabFile['nodes'][string];
  }
  const links = lab.links.map((link) => {
    const override = link.name ? set.links?.[link.name] : undefined;
    return override ? (mergeSetting(link, override) as LabFile['links'][number]) : link;
  });
  return { ...lab, nodes, links };
}

/** Each value set, as a path and a value: ["nodes.client.docker.userlandProxy", false]. */
export function overrideLeaves(set: Overrides): Array<[string, unknown]> {
  const leaves: Array<[string, unknown]> = [];
  const walk = (value: unknown, at: string) => {
    if (isPlain(value) && Object.keys(value).length > 0) for (const [key, inner] of Object.entries(value)) walk(inner, `${at}.${key}`);
    else if (value !== undefined) leaves.push([at, value]);
  };
  for (const [kind, entries] of Object.entries(set)) walk(entries, kind);
  return leaves;
}

/** What a report says the variant overrode: "node client: docker.userlandProxy = false", "link wan: mtu = 1400". */
export function describeOverrides(set: Overrides | undefined): string[] {
  if (!set) return [];
  return overrideLeaves(set).map(([at, value]) => {
    const [kind, name, ...rest] = at.split('.');
    return `${kind === 'nodes' ? 'node' : 'link'} ${name}: ${rest.join('.')} = ${JSON.stringify(value)}`;
  });
}

/**
 * A set that changes only nodes' sysctls, as changes applied to the live lab (and reverted after): it needs no copy of
 * its own. Undefined when anything else is set.
 */
export function sysctlsAsChanges(set: Overrides): Change[] | undefined {
  if (Object.keys(set.links ?? {}).length > 0) return undefined;
  const changes: Change[] = [];
  for (const [node, override] of Object.entries(set.nodes ?? {})) {
    const { sysctls, ...rest } = override as { sysctls?: Record<string, string> };
    if (Object.values(rest).some((v) => v !== undefined)) return undefined;
    for (const [key, value] of Object.entries(sysctls ?? {})) changes.push({ node, sysctl: { key, value } });
  }
  return changes;
}

/** The union of several parts' sets (a combination's axis values); a value set by two parts is a clash. */
export function uniteOverrides(parts: Array<{ set?: Overrides | undefined; path: ReadonlyArray<string | number> }>): { set?: Overrides; clashes: string[] } {
  const clashes: string[] = [];
  const from = new Map<string, string>();
  let set: Overrides | undefined;
  for (const part of parts) {
    if (!part.set) continue;
    for (const [at] of overrideLeaves(part.set)) {
      const earlier = from.get(at);
      if (earlier) clashes.push(`setting ${at} is set by both ${earlier} and ${part.path.join('.')}`);
      from.set(at, part.path.join('.'));
    }
    set = mergeSetting(set ?? {}, part.set) as Overrides;
  }
  return { ...(set ? { set } : {}), clashes };
}
