import type { ArgumentsCamelCase, Argv } from 'yargs';
import { instanceOption, kernelOption, labArg, singleKernel } from './shared.js';
import { readState } from '../state.js';
import { LabError } from '../errors.js';
import { labRef } from '../lab/names.js';

export const command = 'exec <lab> <node> [cmd..]';
export const describe = 'Run a command on a node of a running lab (lab exec LAB NODE -- CMD ...)';
export const builder = (y: Argv) =>
  kernelOption(instanceOption(labArg(y)))
    .positional('node', { type: 'string', demandOption: true })
    .positional('cmd', { type: 'string', array: true });

export async function handler(
  argv: ArgumentsCamelCase<{ lab: string; instance?: string; node: string; kernel?: string | string[]; cmd?: string[]; '--'?: string[] }>,
) {
  const { loadCheckedOpenedLab, openLab, checkedLabId } = await import('../checked-lab.js');
  const { defaultProvider, providerOf, sysctlScopeOf } = await import('../providers/registry.js');
  const kernels = await singleKernel(argv.kernel);
  const opened = openLab(argv.lab, argv.instance);
  const state = readState(checkedLabId(opened, kernels));
  const lab = loadCheckedOpenedLab(opened, { sysctls: sysctlScopeOf(state?.provider ?? defaultProvider), kernels });
  (await import('../lock.js')).assertNotBeingChanged(lab.id);
  if (state?.status !== 'up') throw new LabError(`lab ${lab.id} is not up`, { hint: `lab up ${labRef(lab)}`, kind: 'failure' });
  const cmd = [...(argv.cmd ?? []), ...(argv['--'] ?? [])].map(String);
  if (cmd.length === 0) throw new LabError('no command given', { hint: `lab exec ${lab.name} ${argv.node} -- ip addr` });
  const code = await (await providerOf(state)).transport(lab, argv.node).attach(cmd);
  process.exitCode = code;
}
