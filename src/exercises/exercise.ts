/** Loading a lab's exercise, the student's progress (per lab id, so per instance), and running a step's check. */
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../errors.js';
import type { ResolvedLab } from '../lab/model.js';
import { labHome } from '../paths.js';
import { workDir } from '../state.js';
import type { Provider } from '../providers/types.js';
import { pcapLines } from '../run/pcap.js';
import { problemsFromZod } from '../lab/zod-problems.js';
import { locateProblems } from '../lab/problems.js';
import { loadYamlFile } from '../lab/yaml-file.js';
import { displayPath } from '../lab/load.js';
import { exerciseSchema, type Check, type Exercise } from './schema.js';

export function loadExercise(lab: ResolvedLab): Exercise {
  const file = path.join(lab.dir, 'exercise.yaml');
  if (!fs.existsSync(file)) throw new LabError(`lab ${lab.name} has no exercise`, { hint: `write ${path.relative(process.cwd(), file)}` });
  const shown = displayPath(file);
  const { doc, counter, data } = loadYamlFile(file, shown);
  const parsed = exerciseSchema.safeParse(data ?? {});
  if (!parsed.success) {
    const problems = problemsFromZod(exerciseSchema, parsed.error.issues, data);
    throw new LabError(`${shown} is not a valid exercise (${problems.length} problem${problems.length === 1 ? '' : 's'})`, {
      details: locateProblems(shown, doc, counter, problems),
    });
  }
  for (const step of parsed.data.steps) {
    if (step.check.kind === 'verdict' && !lab.variants.some((v) => v.name === (step.check as { variant: string }).variant)) {
      throw new LabError(`exercise step ${step.id} names variant "${step.check.variant}", which lab ${lab.name} does not have`);
    }
  }
  return parsed.data;
}

function progressFile(lab: ResolvedLab): string {
  return path.join(labHome(), 'exercises', `${lab.id}.json`);
}

export function currentStep(lab: ResolvedLab): number {
  try {
    return (JSON.parse(fs.readFileSync(progressFile(lab), 'utf8')) as { step: number }).step;
  } catch {
    return 0;
  }
}

export function setStep(lab: ResolvedLab, step: number): void {
  fs.mkdirSync(path.dirname(progressFile(lab)), { recursive: true });
  fs.writeFileSync(progressFile(lab), `${JSON.stringify({ step })}\n`);
}

export interface CheckResult {
  pass: boolean;
  detail: string;
}

export async function runCheck(lab: ResolvedLab, provider: Provider, check: Check): Promise<CheckResult> {
  if (check.kind === 'command') {
    const out = await provider.transport(lab, check.node).exec(check.argv, { check: false });
    const pass = new RegExp(check.match, 'm').test(out.stdout);
    return { pass, detail: pass ? check.because : `${check.because} (\`${check.argv.join(' ')}\` on ${check.node} does not show it)` };
  }
  if (check.kind === 'pcap') {
    const file = check.path.replace(/\{id\}/g, lab.id);
    if (!fs.existsSync(file)) return { pass: false, detail: `no capture at ${file}` };
    const matches = await pcapLines(file, check.filter);
    const pass = matches.length >= check.atLeast;
    return {
      pass,
      detail: pass
        ? `${check.because} (${matches.length} packets in ${file})`
        : `${file} has ${matches.length} packets matching "${check.filter}", expected at least ${check.atLeast}`,
    };
  }
  const variant = lab.variants.find((v) => v.name === check.variant)!;
  const { orchestrateRun } = await import('../run/orchestrate.js');
  const { runSteps } = await import('../ui/progress.js');
  // The variant on the lab as the student left it (none of the variant's own changes), with its evidence in the lab's
  // own folder: there while the lab is up, removed by lab down. No report: the check prints its verdict.
  const { targets } = await orchestrateRun(
    {
      targets: [{}],
      open: async () => ({ lab: { ...lab, variants: [{ ...variant, changes: [] }] }, provider }),
      keep: true,
      serial: true,
      concurrent: false,
      resultsRoot: path.join(workDir(lab.id), 'checks'),
      policy: { check: false },
    },
    { quiet: true, runSteps: (steps) => runSteps(steps, { quiet: true }), lifecycle: await import('../lifecycle.js') },
  );
  const { run } = targets[0]!;
  const result = run.variants[0]!;
  const pass = result.verdict === check.expect;
  return { pass, detail: `${pass ? '' : `expected ${check.expect}, got `}${result.verdict}: ${result.reason} (evidence in ${run.resultsDir})` };
}
