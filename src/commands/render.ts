import path from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { instanceOption, labArg } from './shared.js';
import { renderNames, renderOptions } from '../providers/registry.js';

export const command = 'render <lab>';
export const describe = 'Write what a provider would build the lab from (a Vagrantfile and its provisioning), without building anything';
export const builder = (y: Argv) =>
  instanceOption(labArg(y))
    .option('provider', { type: 'string', default: renderNames()[0], describe: renderNames().join(', ') })
    .option('out', { type: 'string', demandOption: true, describe: 'the folder to write to' })
    .options(renderOptions());

export async function handler(argv: ArgumentsCamelCase<{ lab: string; instance?: string; provider: string; out: string }>) {
  const { loadCheckedLab } = await import('../checked-lab.js');
  const { descriptorOf } = await import('../providers/registry.js');
  const { render, sysctls } = descriptorOf(argv.provider, 'render');
  const lab = loadCheckedLab(argv.lab, argv.instance, { sysctls });
  const { files, next } = await render!.write(lab, argv, path.resolve(argv.out));
  process.stdout.write(`${files.map((f) => path.relative(process.cwd(), f)).join('\n')}\n${next}\n`);
}
