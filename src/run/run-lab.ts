/** run -> collect -> verdict -> report: every variant of a lab that is up, each judged from its own evidence. */
import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedLab, ResolvedVariant } from '../lab/model.js';
import type { Provider } from '../providers/types.js';
import { LabError } from '../errors.js';
import { getScenario } from './scenarios/registry.js';
import { ScenarioContext } from './context.js';
import { applyChange, type AppliedChange } from './changes.js';
import type { Verdict } from './verdict.js';
import type { Evidence } from './scenarios/types.js';
import type { ExpectationCheck } from './expect.js';
import type { Step, StepRunner } from '../ui/steps.js';

/** The expectation fields are added after the run, from the lab file and the run's kernel (see expect.ts). */
export interface VariantResult extends Verdict, Partial<ExpectationCheck> {
  name: string;
  description: string;
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
  kernel: string;
  runId: string;
  resultsDir: string;
  startedAt: string;
  variants: VariantResult[];
}

export function newRunId(now = new Date()): string {
  return now.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
}

export async function runVariants(
  lab: ResolvedLab,
  provider: Provider,
  /** runSteps shows the variants' progress as the caller likes (the CLI draws them with ui/progress.ts). */
  options: { variants: ResolvedVariant[]; resultsDir: string; runId: string; runSteps: StepRunner },
): Promise<RunResult> {
  const scenario = getScenario(lab.scenario.kind);
  fs.mkdirSync(options.resultsDir, { recursive: true });
  const startedAt = new Date().toISOString();
  const kernel = (await provider.transport(lab, lab.nodes[0]!.name).exec(['uname', '-r'])).stdout.trim();
  const results: VariantResult[] = [];

  const steps: Step[] = options.variants.map((variant) => ({
    title: `Variant ${variant.name}`,
    run: async () => {
      const result = await runVariant(lab, provider, scenario, variant, path.join(options.resultsDir, variant.name));
      results.push(result);
      return `Variant ${variant.name}: ${result.verdict}`;
    },
  }));
  await options.runSteps(steps);

  return { lab: lab.name, ...(lab.instance ? { instance: lab.instance } : {}), title: lab.title, provider: provider.name, kernel, runId: options.runId, resultsDir: options.resultsDir, startedAt, variants: results };
}

export async function runVariant(labAsWritten: ResolvedLab, provider: Provider, scenario: ReturnType<typeof getScenario>, variant: ResolvedVariant, dir: string): Promise<VariantResult> {
  const started = Date.now();
  const lab = provider.localize?.(labAsWritten) ?? labAsWritten;
  const ctx = new ScenarioContext(lab, provider, dir);
  const applied: AppliedChange[] = [];
  const params = scenario.params.parse(variant.params);
  let evidence: Evidence = {};
  let error: string | undefined;
  try {
    if (provider.ownsHosts) await resetConntrack(lab, provider);
    for (const change of variant.changes) applied.push(await applyChange(ctx.transport(change.node), change));
    evidence = await scenario.run(ctx, params, variant);
  } catch (e) {
    error = e instanceof LabError ? [e.message, ...e.details].join(': ') : String((e as Error).stack ?? e);
  } finally {
    await ctx.cleanup();
    for (const change of applied.reverse()) await change.revert();
  }
  const decided = error ? { verdict: 'INCONCLUSIVE' as const, reason: `the scenario failed before its evidence was complete: ${error.split('\n')[0]}`, decidedBy: ['error'] } : scenario.judge(evidence, params);
  const result: VariantResult = { name: variant.name, description: variant.description, changes: applied.map((a) => `${a.node}: ${a.description}`), ...decided, evidence, durationMs: Date.now() - started, ...(error ? { error } : {}) };
  fs.writeFileSync(path.join(dir, 'evidence.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/** Variants must not inherit each other's connections: empty every node's conntrack table first. */
async function resetConntrack(lab: ResolvedLab, provider: Provider): Promise<void> {
  await Promise.all(lab.nodes.map((n) => provider.transport(lab, n.name).exec(['conntrack', '-F'], { check: false })));
}
