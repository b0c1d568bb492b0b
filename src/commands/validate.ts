import type { ArgumentsCamelCase, Argv } from 'yargs';
import { labArg } from './shared.js';
import { SYSCTL_PROVIDERS, type SysctlProvider } from '../lab/sysctl-policy.js';

export const command = 'validate <lab>';
export const describe = 'Check a lab file and report every problem at once';
export const builder = (y: Argv) =>
  labArg(y).option('provider', {
    type: 'string',
    choices: [...SYSCTL_PROVIDERS],
    default: 'netns',
    describe: 'check for this provider: netns allows only per-namespace sysctls, ssh any net.* sysctl, vagrant (whole VMs) any sysctl',
  });

export async function handler(argv: ArgumentsCamelCase<{ lab: string; provider: SysctlProvider }>) {
  const { loadLab, displayPath } = await import('../labs.js');
  const lab = loadLab(argv.lab, undefined, { provider: argv.provider });
  if (lab.scenario.kind === 'declared') await (await import('../run/declarative/filters.js')).assertFiltersCompile(lab);
  const counts = `${lab.nodes.length} nodes, ${lab.links.length} links, ${lab.variants.length} variants`;
  process.stdout.write(`${displayPath(lab.file)}: valid for provider ${argv.provider} (${counts})\n`);
}
