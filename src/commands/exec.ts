import type { ArgumentsCamelCase, Argv } from 'yargs';
import { instanceOption, kernelOption, labArg, singleKernel } from './shared.js';
import { readState } from '../state.js';
import { LabError } from '../errors.js';

export const command = 'exec <lab> <node> [cmd..]';
export const describe = 'Run a command on a node of a running lab (lab exec LAB NODE -- CMD ...)';
export const builder = (y: Argv) => kernelOption(instanceOption(labArg(y))).positional('node', { type: 'string', demandOption: true }).positional('cmd', { type: 'string', array: true });

export async function handler(argv: ArgumentsCamelCase<{ lab: string; instance?: string; node: string; kernel?: string; cmd?: string[]; '--'?: string[] }>) {
  const { loadLab } = await import('../lab/load.js');
  const { providerOf } = await import('../providers/registry.js');
  const lab = loadLab(argv.lab, argv.instance, await singleKernel(argv.kernel));
  const state = readState(lab.id);
  if (state?.status !== 'up') throw new LabError(`lab ${lab.id} is not up`, { hint: `lab up ${lab.name}${lab.instance ? ` --instance ${lab.instance}` : ''}${lab.kernel ? ` --kernel ${lab.kernel}` : ''}`, exitCode: 1 });
  const cmd = [...(argv.cmd ?? []), ...(argv['--'] ?? [])].map(String);
  if (cmd.length === 0) throw new LabError('no command given', { hint: `lab exec ${lab.name} ${argv.node} -- ip addr` });
  const code = await providerOf(state).transport(lab, argv.node).attach(cmd);
  process.exitCode = code;
}
