/** The two ways a target's variants run: one after another on the lab, or each on its own copy, several at once. */
import type { ResolvedLab, ResolvedVariant } from '../lab/model.js';
import type { Provider } from '../providers/types.js';
import type { RunEnvironment } from './orchestrate-types.js';
import { runVariants, runVariantsOnCopies, type RunResult } from './run-lab.js';
import { copyOf, leftoverCopies } from './variant-copies.js';

export interface RunPlace {
  lab: ResolvedLab;
  provider: Provider;
  variants: ResolvedVariant[];
  runId: string;
  resultsDir: string;
}

/**
 * One variant at a time. Those without settings of their own run on the lab itself; each with settings of its own
 * (set:) runs on a copy built with them, brought up and taken down for it, as in runOnCopies one at a time.
 */
export async function runOnLab(place: RunPlace, how: { broughtUp: boolean; keep: boolean }, env: RunEnvironment): Promise<RunResult> {
  const own = place.variants.filter((v) => v.topology);
  if (own.length === 0) return runOnTheLab(place, how, env);
  const plain = place.variants.filter((v) => !v.topology);
  const onLab = plain.length ? await runOnTheLab({ ...place, variants: plain }, how, env) : undefined;
  const onCopies = await runOnCopies({ ...place, variants: own }, 1, env, place.variants);
  return inOrder(place.variants, onLab ? [onLab, onCopies] : [onCopies]);
}

/** The runs' variants in the order asked for, under the first run's identity (kernel, engine, start). */
function inOrder(variants: ResolvedVariant[], runs: RunResult[]): RunResult {
  const results = new Map(runs.flatMap((r) => r.variants.map((v) => [v.name, v] as const)));
  return { ...runs[0]!, variants: variants.map((v) => results.get(v.name)!) };
}

/** On the lab itself: brought up first unless it is up (and then down again unless keep), Ctrl-C takes it down. */
function runOnTheLab(place: RunPlace, how: { broughtUp: boolean; keep: boolean }, env: RunEnvironment): Promise<RunResult> {
  const { lab, provider, variants, runId, resultsDir } = place;
  const { labDown, labUp, withCleanupOnInterrupt } = env.lifecycle;
  const quiet = env.quiet;
  return withCleanupOnInterrupt(
    () => (how.broughtUp ? labDown(lab.id, { quiet: true }) : Promise.resolve()),
    async () => {
      if (how.broughtUp) await labUp(lab, provider, { quiet });
      try {
        return await runVariants(lab, provider, { variants, resultsDir, runId, runSteps: env.runSteps, freshLab: how.broughtUp });
      } finally {
        if (how.broughtUp && !how.keep) await labDown(lab.id, { quiet });
      }
    },
  );
}

/** Each variant on its own copy, atOnce at a time. Ctrl-C: no new copy starts, copies coming up finish, then every copy goes down. */
export function runOnCopies(place: RunPlace, atOnce: number, env: RunEnvironment, numbered: ResolvedVariant[] = place.variants): Promise<RunResult> {
  const { lab, provider, variants, runId, resultsDir } = place;
  const { labDown, labUp, withCleanupOnInterrupt } = env.lifecycle;
  // A copy is numbered by its variant's place among all the run's variants, so no two copies of a run share an id.
  const copies = variants.map((variant) => ({ variant, lab: copyOf(lab, numbered.indexOf(variant), variant) }));
  const abort = new AbortController();
  const comingUp = new Set<Promise<void>>();
  const up = (copy: ResolvedLab) => {
    const going = labUp(copy, provider, { quiet: true });
    comingUp.add(going);
    return going.finally(() => comingUp.delete(going));
  };
  return withCleanupOnInterrupt(
    async () => {
      abort.abort();
      await Promise.allSettled([...comingUp]);
      await Promise.all(leftoverCopies(lab.name, lab.instance).map((id) => labDown(id, { quiet: true })));
    },
    () =>
      runVariantsOnCopies(lab, provider, {
        copies,
        atOnce,
        resultsDir,
        runId,
        runSteps: env.runSteps,
        up,
        down: (copy) => labDown(copy.id, { quiet: true }),
        signal: abort.signal,
      }),
  );
}
