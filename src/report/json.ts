import fs from 'node:fs';
import path from 'node:path';
import type { RunResult, VariantResult } from '../run/run-lab.js';
import type { ResolvedLab } from '../lab/model.js';
import { LabError } from '../errors.js';
import { checkOf, withExpectations } from '../run/expect.js';

/** The machine-readable result; `lab run --json` prints the same object. */
export function verdictJson(run: RunResult) {
  return {
    lab: run.lab,
    title: run.title,
    ...(run.instance ? { instance: run.instance } : {}),
    provider: run.provider,
    kernel: run.kernel,
    ...(run.kernelVersion ? { kernelVersion: run.kernelVersion } : {}),
    ...(run.nodeKernels ? { nodeKernels: run.nodeKernels } : {}),
    ...(run.engine ? { engine: run.engine } : {}),
    runId: run.runId,
    startedAt: run.startedAt,
    resultsDir: run.resultsDir,
    variants: run.variants.map((v) => ({
      name: v.name,
      description: v.description,
      verdict: v.verdict,
      ...(v.inconclusive ? { inconclusive: v.inconclusive } : {}),
      ...(v.outcome ? { outcome: v.outcome } : {}),
      ...(v.mechanism ? { mechanism: v.mechanism } : {}),
      expected: v.expected ?? null,
      check: checkOf(v),
      matchesExpected: v.matchesExpected ?? null,
      reason: v.reason,
      decidedBy: v.decidedBy,
      ...(v.overrides?.length ? { overrides: v.overrides } : {}),
      changes: v.changes,
      durationMs: v.durationMs,
      evidence: v.evidence,
      ...(v.error ? { error: v.error } : {}),
    })),
  };
}

/** A run folder holds verdict.json and lab.json (the resolved lab); together they regenerate every report. */
export function writeLabJson(lab: ResolvedLab, run: RunResult): string {
  const file = path.join(run.resultsDir, 'lab.json');
  fs.writeFileSync(file, `${JSON.stringify(lab, null, 2)}\n`);
  return file;
}

export function readRun(dir: string): { lab: ResolvedLab; run: RunResult } {
  const resultsDir = path.resolve(dir);
  const read = (name: string) => {
    const file = path.join(resultsDir, name);
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new LabError(`${dir} is not a run folder: cannot read ${name}`, {
        details: [(error as Error).message],
        hint: 'give a folder such as results/<lab>/<run-id>',
      });
    }
  };
  const verdicts = read('verdict.json') as unknown as RunResult & { variants: VariantResult[] };
  const lab = read('lab.json') as unknown as ResolvedLab;
  const variants = verdicts.variants.map((v) => ({
    ...v,
    description: v.description ?? '',
    changes: v.changes ?? [],
    decidedBy: v.decidedBy ?? [],
    durationMs: v.durationMs ?? 0,
  }));
  // Runs saved before `check` was written (and before expected INCONCLUSIVEs named their kind): hold them against
  // the expectations their lab.json carries (if any), as a run would be held now.
  const saved = { ...lab, variants: lab.variants.map((v) => ({ ...v, expect: v.expect ?? [] })) };
  const current = verdicts.variants.every((v) => (v as { check?: string }).check !== undefined);
  const checked = current ? variants : withExpectations(saved, { ...verdicts, variants }).variants;
  return { lab: saved, run: { ...verdicts, title: verdicts.title ?? lab.title, resultsDir, variants: checked } };
}

export function writeVerdictJson(run: RunResult): string {
  const file = path.join(run.resultsDir, 'verdict.json');
  fs.writeFileSync(file, `${JSON.stringify(verdictJson(run), null, 2)}\n`);
  return file;
}
