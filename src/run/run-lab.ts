/** run -> collect -> verdict -> report: every variant of a lab that is up, each judged from its own evidence. */
import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedLab, ResolvedVariant } from '../lab/model.js';
import type { Provider } from '../providers/types.js';
import { LabError } from '../errors.js';
import { getScenario } from './scenarios/registry.js';
import { codedRules, judgeCoded } from './declarative/coded.js';
import { ScenarioContext } from './context.js';
import { applyChange, type AppliedChange } from './changes.js';
import { slots } from './slots.js';
import { verdict, type Verdict } from './verdict.js';
import { readKernels } from './kernel-version.js';
import type { Evidence } from './scenarios/types.js';
import type { ExpectationCheck, NodeKernels } from './expect.js';
import type { Step, StepRunner } from '../ui/steps.js';

/** The expectation fields are added after the run, from the lab file and the run's kernel (see expect.ts). */
export interface VariantResult extends Verdict, Partial<ExpectationCheck> {
  name: string;
  description: string;
  /** The node and link settings this variant set (set:), its lab built with them. */
  overrides?: string[];
  changes: string[];
  evidence: Evidence;
  durationMs: number;
  error?: string;
}

export interface RunResult {
  lab: string;
  instance?: string;
  title: string;
  provider: string;
  /** `uname -r` of the lab's first node, e.g. 5.10.0-32-amd64. */
  kernel: string;
  /** The upstream version the distribution built it from, e.g. 5.10.223 (kernel-version.ts); expectations match on it. */
  kernelVersion?: string;
  /** Each host's and router's kernel, read on it, when the lab's nodes run different kernels; absent on one kernel. */
  nodeKernels?: NodeKernels;
  /** The Docker engine of the lab's docker hosts ("emulated", or a real dockerd and its version), when it has any. */
  engine?: string;
  runId: string;
  resultsDir: string;
  startedAt: string;
  variants: VariantResult[];
}

export function newRunId(now = new Date()): string {
  return now
    .toISOString()
    .replace(/[:]/g, '-')
    .replace(/\.\d+Z$/, 'Z');
}

export async function runVariants(
  lab: ResolvedLab,
  provider: Provider,
  /** runSteps shows the variants' progress as the caller likes (the CLI draws them with ui/progress.ts). */
  options: {
    variants: ResolvedVariant[];
    resultsDir: string;
    runId: string;
    runSteps: StepRunner;
    /** The lab was brought up for this run: the first variant finds nothing in conntrack to flush. */
    freshLab?: boolean;
  },
): Promise<RunResult> {
  const scenario = getScenario(lab.scenario.kind);
  fs.mkdirSync(options.resultsDir, { recursive: true });
  const startedAt = new Date().toISOString();
  const kernel = await readKernels(lab, (node) => provider.transport(lab, node));
  const engine = provider.engine?.(lab);
  const results: VariantResult[] = [];

  const steps: Step[] = options.variants.map((variant, i) => ({
    title: `Variant ${variant.name}`,
    run: async () => {
      const fresh = i === 0 && options.freshLab === true;
      const result = await runVariant(lab, provider, scenario, variant, path.join(options.resultsDir, variant.name), { fresh });
      results.push(result);
      return `Variant ${variant.name}: ${result.verdict}`;
    },
  }));
  await options.runSteps(steps);

  return {
    lab: lab.name,
    ...(lab.instance ? { instance: lab.instance } : {}),
    title: lab.title,
    provider: provider.name,
    ...kernel,
    ...(engine ? { engine } : {}),
    runId: options.runId,
    resultsDir: options.resultsDir,
    startedAt,
    variants: results,
  };
}

export interface VariantCopy {
  variant: ResolvedVariant;
  /** The copy of the lab this variant runs on alone (its own instance). */
  lab: ResolvedLab;
}

/**
 * Every variant on its own copy of the lab, `atOnce` copies at a time: bring the copy up, run the
 * variant, take the copy down. One progress line per variant; results as runVariants writes them.
 * A copy that cannot be brought up (or taken down) fails the run once every copy is down, as `lab up` would.
 */
export async function runVariantsOnCopies(
  lab: ResolvedLab,
  provider: Provider,
  options: {
    copies: VariantCopy[];
    atOnce: number;
    resultsDir: string;
    runId: string;
    runSteps: StepRunner;
    up(copy: ResolvedLab): Promise<void>;
    down(copy: ResolvedLab): Promise<unknown>;
    /** Once aborted (Ctrl-C), no copy is brought up any more. */
    signal?: AbortSignal;
  },
): Promise<RunResult> {
  const scenario = getScenario(lab.scenario.kind);
  fs.mkdirSync(options.resultsDir, { recursive: true });
  const startedAt = new Date().toISOString();
  const results = new Map<string, VariantResult>();
  const failures: unknown[] = [];
  const room = slots(options.atOnce);
  // Every copy runs on the same kernels: the first copy up reads them, the others need not.
  let kernel: ReturnType<typeof readKernels> | undefined;
  let engine: string | undefined;

  // A part never throws: one copy failing must not stop the others; the first failure is raised once all are down.
  const perVariant: Step[] = options.copies.map(({ variant, lab: copy }) => ({
    title: `Variant ${variant.name}`,
    run: async (progress) => {
      progress('waiting for room');
      const release = await room();
      if (options.signal?.aborted) {
        release();
        return `Variant ${variant.name}: not started (interrupted)`;
      }
      try {
        progress(`bringing up its copy ${copy.id}`);
        await options.up(copy);
        engine ??= provider.engine?.(copy);
        if (!kernel) {
          kernel = readKernels(copy, (node) => provider.transport(copy, node));
          await kernel;
        }
        progress(`running on ${copy.id}`);
        // A copy is brought up for its variant alone: no other variant's connection is in its conntrack tables.
        const result = await runVariant(copy, provider, scenario, variant, path.join(options.resultsDir, variant.name), { fresh: true });
        results.set(variant.name, result);
        progress(`${result.verdict}, taking its copy down`);
      } catch (error) {
        failures.push(error);
      } finally {
        await options.down(copy).catch((error: unknown) => failures.push(error));
        release();
      }
      return results.has(variant.name) ? `Variant ${variant.name}: ${results.get(variant.name)!.verdict}` : `Variant ${variant.name}: failed on ${copy.id}`;
    },
  }));
  await options.runSteps([
    { title: `${options.copies.length} variants, ${options.atOnce} at once, each on its own copy`, run: async () => undefined, parts: perVariant },
  ]);
  if (failures.length) throw failures[0];
  const variants = options.copies.map(({ variant }) => results.get(variant.name)!);
  const identity = { lab: lab.name, ...(lab.instance ? { instance: lab.instance } : {}), title: lab.title, provider: provider.name };
  return {
    ...identity,
    ...((await kernel?.catch(() => undefined)) ?? { kernel: 'unknown' }),
    ...(engine ? { engine } : {}),
    runId: options.runId,
    resultsDir: options.resultsDir,
    startedAt,
    variants,
  };
}

export async function runVariant(
  labAsWritten: ResolvedLab,
  provider: Provider,
  scenario: ReturnType<typeof getScenario>,
  variant: ResolvedVariant,
  dir: string,
  /** On a lab just brought up (fresh) there is no earlier variant's connection to flush from conntrack. */
  options: { fresh?: boolean } = {},
): Promise<VariantResult> {
  const started = Date.now();
  const lab = provider.localize?.(labAsWritten) ?? labAsWritten;
  const ctx = new ScenarioContext(lab, provider, dir);
  const applied: AppliedChange[] = [];
  const params = scenario.params.parse(variant.params);
  let evidence: Evidence = {};
  let error: string | undefined;
  try {
    if (provider.ownsHosts && !options.fresh) await resetConntrack(lab, provider);
    for (const change of variant.changes) applied.push(await applyChange(ctx.transport(change.node), change));
    evidence = await scenario.run(ctx, params, variant);
  } catch (e) {
    error = e instanceof LabError ? [e.message, ...e.details].join(': ') : String((e as Error).stack ?? e);
  } finally {
    await ctx.cleanup();
    for (const change of applied.reverse()) await change.revert();
  }
  // A real Docker daemon that died meanwhile leaves the lab half-built (no docker-proxy, stale rules): no verdict from it.
  const engineLost = await provider.engineLost?.(lab);
  const decided = engineLost
    ? verdict('INCONCLUSIVE', `no verdict from this run: ${engineLost}`, ['error'], 'error')
    : error
      ? verdict('INCONCLUSIVE', `the scenario failed before its evidence was complete: ${error.split('\n')[0]}`, ['error'], 'error')
      : judgeVariant(scenario, lab, evidence, params);
  const result: VariantResult = {
    name: variant.name,
    description: variant.description,
    ...(variant.overrides ? { overrides: variant.overrides } : {}),
    changes: applied.map((a) => `${a.node}: ${a.description}`),
    ...decided,
    evidence,
    durationMs: Date.now() - started,
    ...(error || engineLost ? { error: error ?? engineLost } : {}),
  };
  fs.writeFileSync(path.join(dir, 'evidence.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/** The lab file's verdict rules when it has them (the measures they compared join the evidence), else the scenario's judge. */
function judgeVariant(scenario: ReturnType<typeof getScenario>, lab: ResolvedLab, evidence: Evidence, params: unknown): Verdict {
  const rules = codedRules(scenario, lab.scenario.verdict);
  if (!rules) return scenario.judge(evidence, params);
  const { measures, ...decided } = judgeCoded(scenario, rules, evidence, params);
  evidence.ruleMeasures = measures;
  return decided;
}

/** Variants must not inherit each other's connections: empty every node's conntrack table first. */
async function resetConntrack(lab: ResolvedLab, provider: Provider): Promise<void> {
  await Promise.all(lab.nodes.map((n) => provider.transport(lab, n.name).exec(['conntrack', '-F'], { check: false })));
}
