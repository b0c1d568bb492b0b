/**
 * `lab run <lab> --docker 20.10,26.1`: the lab once per Docker engine, one after the other, each run's verdicts in a
 * column of its own (as --kernel 5.10,host does per kernel).
 */
import { LabError } from '../errors.js';
import { engineLabel, parseEngineName } from '../engines/engine-names.js';
import type { DaemonRecord } from '../engines/daemon.js';
import type { ResolvedLab } from '../lab/model.js';
import type { LabState } from '../state.js';
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

/** `lab run --docker X` on a lab that is up on another engine would run on that one: refused, saying which runs. */
export function refuseOtherEngine(lab: ResolvedLab, state: LabState | undefined, docker: string | undefined): void {
  if (docker === undefined || state === undefined) return;
  const wanted = engineLabel(parseEngineName(docker));
  const running = new Map([
    ...Object.values((state.resources.engines as Record<string, DaemonRecord> | undefined) ?? {}).map((r): [string, string] => [r.node, r.series]),
    ...Object.values((state.resources.existingEngines as Record<string, { node: string }> | undefined) ?? {}).map((r): [string, string] => [
      r.node,
      'existing',
    ]),
  ]);
  const differs = lab.nodes.filter((n) => n.profile === 'docker-host' && (running.get(n.name) ?? 'emulated') !== wanted);
  if (differs.length === 0) return;
  const [name, instance] = lab.id.split('+');
  throw new LabError(`lab ${lab.id} is up with ${differs.map((n) => `${running.get(n.name) ?? 'emulated'} Docker on ${n.name}`).join(', ')}, not ${wanted}`, {
    hint: `take it down first (lab down ${name}${instance ? ` --instance ${instance}` : ''}), or run it as it is, without --docker`,
  });
}
