/** Checks a declared scenario once with its own params and once per variant that overrides them. */
import type { LabFile } from '../schema.js';
import type { Problem } from '../problems.js';
import { DECLARED_KIND } from './spec.js';
import { parseDeclared, type DeclaredTopology, type RawDeclared } from './parse.js';

/** Addresses are decided at resolve time; validation substitutes a documentation address. */
const SOME_ADDRESS = '192.0.2.1';

export function splitDeclared(params: Record<string, unknown>): { raw: RawDeclared; params: Record<string, unknown> } {
  const { [DECLARED_KIND]: declared, ...rest } = params;
  const d = declared as { steps: unknown[]; verdict: unknown };
  return { raw: { params: rest, steps: d.steps, verdict: d.verdict }, params: rest };
}

export function validateDeclared(lab: LabFile, names: string[]): Problem[] {
  const { raw, params } = splitDeclared(lab.scenario.params);
  const topo: DeclaredTopology = {
    nodes: names,
    linked: lab.links.map((l) => l.endpoints),
    addresses: Object.fromEntries(names.map((n) => [n, SOME_ADDRESS])),
    // Which addresses a docker host's bridge hands out is decided at resolve time: a run checks that a new one is free.
    docker: Object.fromEntries(
      Object.entries(lab.nodes)
        .filter(([, n]) => n.profile === 'docker-host')
        .map(([name, n]) => [name, { containers: Object.keys(n.containers ?? {}), subnet: n.docker?.subnet ?? '172.17.0.0/16', taken: [] }]),
    ),
  };
  const problems = parseDeclared(raw, params, topo).problems;
  const seen = new Set(problems.map((p) => `${p.path.join('.')}|${p.message}`));
  for (const [vname, variant] of Object.entries(lab.variants)) {
    const unknown = Object.keys(variant.params).filter((k) => !(k in params));
    for (const key of unknown) {
      const known = Object.keys(params).join(', ') || '(none)';
      problems.push({ path: ['variants', vname, 'params', key], message: `found "${key}", expected one of the scenario's params: ${known}` });
    }
    if (unknown.length || Object.keys(variant.params).length === 0) continue;
    for (const p of parseDeclared(raw, { ...params, ...variant.params }, topo).problems) {
      const key = `${p.path.join('.')}|${p.message}`;
      if (!seen.has(key)) problems.push({ ...p, message: `with variant ${vname}'s params: ${p.message}` });
      seen.add(key);
    }
  }
  return problems;
}
