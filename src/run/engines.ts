/**
 * `lab run <lab> --docker 20.10,26.1`: the lab once per Docker engine, one after the other, each run's verdicts in a
 * column of its own (as --kernel 5.10,host does per kernel).
 */
import { LabError } from '../errors.js';
import { engineLabel, parseEngineName } from '../engines/engine-names.js';
import type { ResolvedLab } from '../lab/model.js';
import type { RunResult } from './run-lab.js';

/** The engines --docker names, each once, in the order given; [value] for one engine or none (each node's own). */
export async function dockerEnginesOf(value: unknown): Promise<Array<string | undefined>> {
  if (typeof value !== 'string' || !value.includes(',')) return [value as string | undefined];
  const { engineLabel, parseEngineList } = await import('../engines/engine-names.js');
  return parseEngineList(value).map(engineLabel);
}

/** The run's column in the matrix of verdicts names its engine beside the provider. */
export function columnOfEngine(run: RunResult, engine: string | undefined): RunResult {
  return engine === undefined ? run : { ...run, provider: `${run.provider}, Docker ${engine}` };
}

/**
 * `lab run --docker X` on a lab that is up on another engine would run on that one: refused, saying which runs.
 * `running`: the provider's account of the up lab's engines by node (Provider.enginesRunning); undefined when it is not up.
 */
export function refuseOtherEngine(lab: ResolvedLab, running: Record<string, string> | undefined, docker: string | undefined): void {
  if (docker === undefined || running === undefined) return;
  const wanted = engineLabel(parseEngineName(docker));
  const engineOf = (node: string) => running[node] ?? 'emulated';
  const differs = lab.nodes.filter((n) => n.profile === 'docker-host' && engineOf(n.name) !== wanted);
  if (differs.length === 0) return;
  const [name, instance] = lab.id.split('+');
  throw new LabError(`lab ${lab.id} is up with ${differs.map((n) => `${engineOf(n.name)} Docker on ${n.name}`).join(', ')}, not ${wanted}`, {
    hint: `take it down first (lab down ${name}${instance ? ` --instance ${instance}` : ''}), or run it as it is, without --docker`,
  });
}
