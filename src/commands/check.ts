import type { ArgumentsCamelCase, Argv } from 'yargs';
import { instanceOption, labArg } from './shared.js';
import { readState } from '../state.js';
import { EXIT, LabError } from '../errors.js';
import { labRef } from '../lab/names.js';

export const command = 'check <lab>';
export const describe = "Run the current exercise step's check against the live lab";
export const builder = (y: Argv) => instanceOption(labArg(y));

export async function handler(argv: ArgumentsCamelCase<{ lab: string; instance?: string }>) {
  const { loadCheckedLab } = await import('../checked-lab.js');
  const { currentStep, loadExercise, runCheck, setStep } = await import('../exercises/exercise.js');
  const { providerOf } = await import('../providers/registry.js');
  const lab = loadCheckedLab(argv.lab, argv.instance);
  const exercise = loadExercise(lab);
  const state = readState(lab.id);
  const ref = labRef(lab);
  if (state?.status !== 'up') throw new LabError(`lab ${lab.id} is not up`, { hint: `lab up ${ref}`, kind: 'failure' });
  const n = currentStep(lab);
  const step = exercise.steps[n];
  if (!step) {
    process.stdout.write(`all ${exercise.steps.length} steps are done\n`);
    return;
  }
  const result = await runCheck(lab, await providerOf(state), step.check);
  if (result.pass) {
    setStep(lab, n + 1);
    const next = exercise.steps[n + 1];
    process.stdout.write(`PASS step ${n + 1} (${step.id}): ${result.detail}\n${next ? `next: lab exercise ${ref}\n` : `that was the last step: well done\n`}`);
  } else {
    process.stdout.write(`NOT YET step ${n + 1} (${step.id}): ${result.detail}\n`);
    process.exitCode = EXIT.failure;
  }
}
