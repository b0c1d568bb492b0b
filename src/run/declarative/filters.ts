/**
 * A declared lab's tcpdump filters, compiled by tcpdump itself (`tcpdump -d`): the lab file may use pcap-filter's whole
 * language (bit tests, `tcp[tcpflags] & tcp-rst != 0`), and a filter tcpdump would refuse is reported at `lab validate`
 * and before a run starts, with tcpdump's own words, never after a run as evidence that cannot be read.
 */
import { LabError } from '../../errors.js';
import { parseDeclared } from '../../lab/declared/parse.js';
import { splitDeclared } from '../../lab/declared/validate.js';
import { DECLARED_KIND, type DeclaredScenario, type Phase, type Step } from '../../lab/declared/spec.js';
import { stepKindOf } from '../../lab/declared/steps/index.js';
import { measureKindOf } from '../../lab/declared/measures/index.js';
import type { ResolvedLab } from '../../lab/model.js';
import { conditionMeasures } from './measure.js';
import { declaredTopology } from './topology.js';

/** Every filter of one resolved scenario: its captures' and its packet measures'. */
export function filtersOf(scenario: DeclaredScenario): string[] {
  const steps = scenario.steps.flatMap((s) => ('phase' in s ? (s as Phase).steps : [s as Step]));
  const captures = steps.flatMap((s) => stepKindOf(s.kind).filters?.(s.spec) ?? []);
  const measures = conditionMeasures(scenario.verdict).flatMap((m) => measureKindOf(m.kind).filters?.(m.spec) ?? []);
  return [...new Set([...captures, ...measures])];
}

const compiled = new Map<string, Promise<string | undefined>>();

/** tcpdump's complaint about a filter, or undefined when it compiles (or no tcpdump is there to ask). */
export function filterProblem(filter: string): Promise<string | undefined> {
  let answer = compiled.get(filter);
  if (!answer) {
    answer = (async () => {
      const { runCommand } = await import('../../transport/process.js');
      const out = await runCommand(['tcpdump', '-d', '--', filter], { check: false }).catch(() => undefined);
      if (!out || out.exitCode === 0) return undefined;
      return out.stderr.split('\n').find((l) => l.trim() && !l.startsWith('Warning')) ?? `tcpdump -d exited ${out.exitCode}`;
    })();
    compiled.set(filter, answer);
  }
  return answer;
}

/** Every filter that tcpdump refuses, once, with the variants that use it: "filter: why (variants a, b)"; empty when all compile. */
export async function filterProblems(lab: ResolvedLab): Promise<string[]> {
  if (lab.scenario.kind !== DECLARED_KIND) return [];
  const refused = new Map<string, { why: string; variants: string[] }>();
  for (const variant of lab.variants) {
    // A resolved variant's params are the scenario's with its own over them, the declared steps among them.
    const { raw, params } = splitDeclared(variant.params);
    const { scenario } = parseDeclared(raw, params, declaredTopology(lab));
    for (const filter of scenario ? filtersOf(scenario) : []) {
      const why = await filterProblem(filter);
      if (why) refused.set(filter, { why: why.replace(/^tcpdump: /, ''), variants: [...(refused.get(filter)?.variants ?? []), variant.name] });
    }
  }
  return [...refused].map(([filter, r]) => `"${filter}": tcpdump says ${r.why} (variant${r.variants.length > 1 ? 's' : ''} ${r.variants.join(', ')})`);
}

/** For `lab validate` and the start of a run: a filter tcpdump refuses is the lab file's error. */
export async function assertFiltersCompile(lab: ResolvedLab): Promise<void> {
  const problems = await filterProblems(lab);
  if (problems.length)
    throw new LabError(`${lab.file}: ${problems.length} capture filter(s) tcpdump cannot compile`, {
      details: problems,
      hint: 'a filter is pcap-filter(7), as tcpdump takes it: try it with tcpdump -d "<filter>"',
      kind: 'usage',
    });
}
