import type { ArgumentsCamelCase, Argv } from 'yargs';
import { instanceOption, labArg } from './shared.js';
import { labRef } from '../lab/names.js';

export const command = 'exercise <lab>';
export const describe = "Show the current step of a lab's guided exercise (--reset starts over)";
export const builder = (y: Argv) => instanceOption(labArg(y)).option('reset', { type: 'boolean', default: false, describe: 'teacher: back to the first step' });

export async function handler(argv: ArgumentsCamelCase<{ lab: string; instance?: string; reset: boolean }>) {
  const { loadCheckedLab } = await import('../checked-lab.js');
  const { currentStep, loadExercise, setStep } = await import('../exercises/exercise.js');
  const lab = loadCheckedLab(argv.lab, argv.instance);
  const exercise = loadExercise(lab);
  if (argv.reset) setStep(lab, 0);
  const n = currentStep(lab);
  const ref = labRef(lab);
  if (n >= exercise.steps.length) {
    process.stdout.write(`${exercise.title}: all ${exercise.steps.length} steps done. (lab exercise ${ref} --reset to start over)\n`);
    return;
  }
  const step = exercise.steps[n]!;
  const fill = (s: string) => s.replace(/\{lab\}/g, ref).replace(/\{id\}/g, lab.id);
  const out = [
    `${exercise.title}`,
    '',
    ...(n === 0 ? [exercise.intro.trim(), ''] : []),
    `Step ${n + 1} of ${exercise.steps.length}: ${fill(step.goal.trim())}`,
  ];
  if (step.hints.length) out.push('', 'Hints:', ...step.hints.map((h) => `  - ${fill(h)}`));
  out.push('', `When you think you have it: lab check ${ref}`, '');
  process.stdout.write(out.join('\n'));
}
