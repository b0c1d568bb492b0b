/**
 * A variant's `set:` checked as the lab it makes: names that exist, and the lab file with the settings merged in
 * passing the same checks as the lab itself (the node's and link's schemas, then the topology's cross-references).
 * A problem the lab has without the settings is the lab's own, reported once at its place, not per variant.
 */
import type { LabFile, Overrides } from './schema.js';
import { linkSchema, nodeSchema } from './schema.js';
import { applyOverrides, mergeOverrides } from './overrides.js';
import { formatPath, type Path, type Problem } from './problems.js';
import { problemsFromZod } from './zod-problems.js';

export interface SetAt {
  path: Path;
  set: Overrides;
}

/** validateTopology: the lab's checks on a lab file without variants (validate.ts's validateLab, passed in to keep one order of imports). */
export function overrideProblems(lab: LabFile, sets: SetAt[], validateTopology: (lab: LabFile) => Problem[]): Problem[] {
  if (sets.length === 0) return [];
  const withoutVariants = (l: LabFile): LabFile => ({ ...l, variants: {}, combinations: [] });
  const key = (p: Problem) => `${formatPath(p.path)}: ${p.message}`;
  const own = new Set(validateTopology(withoutVariants(lab)).map(key));
  const problems: Problem[] = [];
  for (const { path, set } of sets) {
    const names = unknownNames(lab, path, set);
    problems.push(...names);
    if (names.length) continue;
    const schemaProblems = settingProblems(mergeOverrides(lab, set), set);
    const topology = schemaProblems.length ? [] : validateTopology(withoutVariants(applyOverrides(lab, set))).filter((p) => !own.has(key(p)));
    problems.push(...[...schemaProblems, ...topology].map((p) => placed(lab, path, set, p)));
  }
  return problems;
}

function unknownNames(lab: LabFile, at: Path, set: Overrides): Problem[] {
  const problems: Problem[] = [];
  const nodes = Object.keys(lab.nodes);
  for (const name of Object.keys(set.nodes ?? {})) {
    if (lab.nodes[name]) continue;
    const container = Object.entries(lab.nodes).find(([, n]) => n.containers?.[name]);
    const hint = container ? ` ("${name}" is a container: set nodes.${container[0]}.containers.${name})` : '';
    problems.push({ path: [...at, 'set', 'nodes', name], message: `found "${name}", expected a node of this lab: ${nodes.join(', ')}${hint}` });
  }
  const links = lab.links.flatMap((l) => (l.name ? [l.name] : []));
  for (const name of Object.keys(set.links ?? {})) {
    if (links.includes(name)) continue;
    const expected = links.length ? `a named link of this lab: ${links.join(', ')}` : 'a named link (this lab names none)';
    problems.push({
      path: [...at, 'set', 'links', name],
      message: `found "${name}", expected ${expected}; name the link (name: ${name}) to change its settings`,
    });
  }
  return problems;
}

/** The overridden nodes and links, merged, against their own schemas (refinements the partial shape cannot carry). */
function settingProblems(merged: LabFile, set: Overrides): Problem[] {
  const problems: Problem[] = [];
  for (const name of Object.keys(set.nodes ?? {})) {
    const parsed = nodeSchema.safeParse(merged.nodes[name], { jitless: true });
    if (!parsed.success) problems.push(...problemsFromZod(nodeSchema, parsed.error.issues, merged.nodes[name], ['nodes', name]));
  }
  merged.links.forEach((link, i) => {
    if (!link.name || !set.links?.[link.name]) return;
    const parsed = linkSchema.safeParse(link, { jitless: true });
    if (!parsed.success) problems.push(...problemsFromZod(linkSchema, parsed.error.issues, link, ['links', i]));
  });
  return problems;
}

/** A problem of the merged lab, at the override that caused it when it lies inside one, else at the variant's set. */
function placed(lab: LabFile, at: Path, set: Overrides, problem: Problem): Problem {
  const [kind, which, ...rest] = problem.path;
  if (kind === 'nodes' && typeof which === 'string' && set.nodes?.[which]) return { path: [...at, 'set', 'nodes', which, ...rest], message: problem.message };
  const linkName = kind === 'links' && typeof which === 'number' ? lab.links[which]?.name : undefined;
  if (linkName && set.links?.[linkName]) return { path: [...at, 'set', 'links', linkName, ...rest], message: problem.message };
  return { path: [...at, 'set'], message: `with these settings, ${formatPath(problem.path)}: ${problem.message}` };
}
