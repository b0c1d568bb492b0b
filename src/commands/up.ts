import type { ArgumentsCamelCase, Argv } from 'yargs';
import { instanceOption, kernelChoicesOf, kernelOption, labArg, loadWithProvider, providerOption, sshOptionNote } from './shared.js';
import { LabError } from '../errors.js';
import { labRef } from '../lab/names.js';

export const command = 'up <lab>';
export const describe = 'Build a lab and leave it running';
export const builder = (y: Argv) =>
  kernelOption(instanceOption(providerOption(labArg(y))))
    .option('copies', { type: 'number', describe: 'bring up N isolated copies, instances c1..cN (a class)' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'print the plan, change nothing' });

export async function handler(
  argv: ArgumentsCamelCase<{
    lab: string;
    provider?: string;
    instance?: string;
    copies?: number;
    dryRun: boolean;
    kernel?: string | string[];
    ssh?: boolean;
  }>,
) {
  const { labUp } = await import('../lifecycle.js');
  const { describeRunningLab } = await import('../report/console.js');
  if (argv.copies !== undefined && (argv.instance || !Number.isInteger(argv.copies) || argv.copies < 1 || argv.copies > 200)) {
    throw new LabError('--copies takes a whole number from 1 to 200, and not together with --instance');
  }
  const instances = argv.copies ? Array.from({ length: argv.copies }, (_, i) => `c${i + 1}`) : [argv.instance];
  const choices = argv.kernel === undefined ? [undefined] : await kernelChoicesOf(argv.kernel);
  for (const [instance, kernels] of instances.flatMap((i) => choices.map((k) => [i, k] as const))) {
    const { lab, provider } = await loadWithProvider(argv.lab, { ...argv, instance, kernels });
    const note = sshOptionNote(provider.name, argv.ssh, labRef(lab));
    if (note) process.stderr.write(`note: ${note}\n`);
    if (argv.dryRun) {
      const { planOf } = await import('../providers/registry.js');
      process.stdout.write(await planOf(provider.name, lab, argv));
      continue;
    }
    await labUp(lab, provider);
    process.stdout.write(describeRunningLab(lab));
  }
}
