/**
 * `lab run <lab> --docker 20.10,26.1`: the lab once per Docker engine, one after the other, each run's verdicts in a
 * column of its own (as --kernel 5.10,host does per kernel).
 */
import type { RunResult } from './run-lab.js';

/** The engines --docker names, each once, in the order given; [value] for one engine or none (each node's own). */
export async function dockerEnginesOf(value: unknown): Promise<Array<string | undefined>> {
  if (typeof value !== 'string' || !value.includes(',')) return [value as string | undefined];
  const { engineLabel, parseEngineList } = await import('../engines/catalogue.js');
  return parseEngineList(value).map(engineLabel);
}

/** The run's column in the matrix of verdicts names its engine beside the provider. */
export function columnOfEngine(run: RunResult, engine: string | undefined): RunResult {
  return engine === undefined ? run : { ...run, provider: `${run.provider}, Docker ${engine}` };
}
