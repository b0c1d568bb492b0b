import type { ArgumentsCamelCase, Argv } from 'yargs';
import { labArg } from './shared.js';
import { defaultProvider, descriptorOf, providerNames, providers, sysctlScopeOf } from '../providers/registry.js';

export const command = 'validate <lab>';
export const describe = 'Check a lab file and report every problem at once';
export const builder = (y: Argv) =>
  labArg(y).option('provider', {
    type: 'string',
    choices: providerNames(),
    default: defaultProvider,
    describe:
      'check for this provider: netns allows only per-namespace sysctls, ssh any net.* sysctl, vagrant (whole VMs) any sysctl; nodes on different kernels need a provider that gives each node its own',
  });

export async function handler(argv: ArgumentsCamelCase<{ lab: string; provider: string }>) {
  const { loadCheckedLab, displayPath } = await import('../checked-lab.js');
  const lab = loadCheckedLab(argv.lab, undefined, { sysctls: sysctlScopeOf(argv.provider) });
  // Nodes on different kernels (kernel: in the file) are a lab this provider cannot run, however well-formed the file is.
  (await import('../lab/node-kernels.js')).assertKernelsFit(lab, descriptorOf(argv.provider), providers);
  if (lab.scenario.kind === 'declared') await (await import('../run/declarative/filters.js')).assertFiltersCompile(lab);
  const counts = `${lab.nodes.length} nodes, ${lab.links.length} links, ${lab.variants.length} variants`;
  process.stdout.write(`${displayPath(lab.file)}: valid for provider ${argv.provider} (${counts})\n`);
}
