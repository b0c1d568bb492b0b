/**
 * A run from start to end, for each of its targets in turn: open the lab, take its lock, bring it up unless it is up,
 * run the variants (one after another on the lab, or each on its own copy), take it down, hold the verdicts against
 * the lab file's expectations and write the reports. `lab run` and the exercises' checks call it; what lies above
 * this layer (drawing progress, lifecycle.ts's up and down, report/ writing files) is passed in as a RunEnvironment.
 */
import path from 'node:path';
import { LabError } from '../errors.js';
import type { ResolvedLab, ResolvedVariant } from '../lab/model.js';
import { labRef } from '../lab/names.js';
import { withLabLock } from '../lock.js';
import { defaultResultsDir } from '../paths.js';
import { readState } from '../state.js';
import { refuseOtherEngine } from './engines.js';
import { assertFiltersCompile } from './declarative/filters.js';
import { checkFailures, withExpectations } from './expect.js';
import { runOnCopies, runOnLab } from './orchestrate-modes.js';
import type { RunEnvironment, RunRequest, RunTarget, TargetOutcome } from './orchestrate-types.js';
import { newRunId } from './run-lab.js';
import { copiesFit, copyInstance, leftoverCopies, variantsAtOnce } from './variant-copies.js';
import { providerCan } from '../providers/registry.js';

export type { Lifecycle, RunEnvironment, RunPolicy, RunRequest, RunTarget, TargetOutcome } from './orchestrate-types.js';

export interface RunOutcome {
  targets: TargetOutcome[];
  /** The exit policy: every target passed (every verdict decided; with --check, every verdict as expected). */
  passed: boolean;
}

/** Each target after the other (a guest of another kernel at a time): a verdict per target and variant. */
export async function orchestrateRun(request: RunRequest, env: RunEnvironment): Promise<RunOutcome> {
  const targets: TargetOutcome[] = [];
  for (const target of request.targets) targets.push(await runTarget(request, target, env));
  return { targets, passed: targets.every((t) => t.passes) };
}

async function runTarget(request: RunRequest, target: RunTarget, env: RunEnvironment): Promise<TargetOutcome> {
  const { lab, provider } = await request.open(target);
  const variants = chosenVariants(lab, request.variants);
  await assertFiltersCompile(lab); // a lab file's error, before anything is brought up
  // Held until the run is over, so no up or down from another process slips in between.
  return withLabLock(lab.id, 'run', async () => {
    const state = readState(lab.id);
    refuseOtherEngine(lab, state && (provider.enginesRunning?.(state) ?? {}), target.docker);
    if (state && state.provider !== provider.name)
      throw new LabError(`lab ${lab.id} is up on provider ${state.provider}, not ${provider.name}`, { hint: `pass --provider ${state.provider}` });
    const broughtUp = state?.status !== 'up';
    const runId = newRunId();
    const resultsDir = path.join(request.resultsRoot ?? defaultResultsDir(), lab.id, runId);
    const atOnce = variantsAtOnce(lab, provider.name, variants.length, { ...request, broughtUp });
    const where = { lab, provider, variants, runId, resultsDir };
    const ownCopies = variants.some((v) => v.topology);
    if (ownCopies) assertCopiesPossible(lab, provider.name, variants);
    if (atOnce > 1 || ownCopies) assertNoLeftoverCopies(lab);
    const ran = atOnce > 1 ? await runOnCopies(where, atOnce, env) : await runOnLab(where, { broughtUp, keep: request.keep }, env);
    const run = withExpectations(lab, ran);
    const reports = await env.publish?.(lab, run);
    const failures = request.policy.check ? checkFailures(run.variants, request.policy) : [];
    const passes = request.policy.check ? failures.length === 0 : run.variants.every((v) => v.verdict !== 'INCONCLUSIVE');
    const outcome: TargetOutcome = { target, lab, run, ...(reports ? { reports } : {}), passes, checkFailures: failures };
    env.onTarget?.(outcome);
    return outcome;
  });
}

function chosenVariants(lab: ResolvedLab, names: string[] | undefined): ResolvedVariant[] {
  if (!names?.length) return lab.variants;
  const known = lab.variants.map((v) => v.name);
  return names.map((name) => lab.variants.find((v) => v.name === name) ?? unknownVariant(name, known));
}

function unknownVariant(name: string, known: string[]): never {
  throw new LabError(`no variant "${name}"`, { hint: `variants: ${known.join(', ')}` });
}

/** A variant with settings of its own (set:) runs on a copy of the lab built with them: the provider and the instance name must allow copies. */
function assertCopiesPossible(lab: ResolvedLab, provider: string, variants: ResolvedVariant[]): void {
  const own = variants.filter((v) => v.topology).map((v) => v.name);
  const needs = `variant(s) ${own.join(', ')} set node or link settings of their own and run on a copy of the lab built with them`;
  if (!providerCan(provider, 'variantCopies'))
    throw new LabError(`${needs}, and provider ${provider} cannot bring up copies of a lab`, {
      hint: 'run them on the netns provider, or choose other variants',
    });
  if (!copiesFit(lab, variants.length))
    throw new LabError(`${needs}, and instance "${lab.instance}" leaves no room for the copies' names (${copyInstance(lab.instance, variants.length - 1)})`, {
      hint: 'a shorter --instance',
    });
}

function assertNoLeftoverCopies(lab: ResolvedLab): void {
  const left = leftoverCopies(lab.name, lab.instance);
  if (left.length)
    throw new LabError(`copies of ${lab.id} left by an earlier run are still there: ${left.join(', ')}`, {
      hint: `lab down ${labRef(lab)}`,
      kind: 'failure',
    });
}
