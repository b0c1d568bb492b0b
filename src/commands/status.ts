import type { ArgumentsCamelCase, Argv } from 'yargs';
import { listStates } from '../state.js';

export const command = 'status';
export const describe = 'List the labs that are up, from their state';
export const builder = (y: Argv) => y.option('kernel', { type: 'string', describe: 'only labs up on these kernels (5.10, 6.1, 6.12, host)' });

export async function handler(argv: ArgumentsCamelCase<{ kernel?: string }>) {
  const { kernelsOf } = await import('./shared.js');
  const kernels = argv.kernel === undefined ? undefined : await kernelsOf(argv.kernel);
  const states = listStates().filter((s) => !kernels || kernels.includes(s.kernel));
  if (states.length === 0) {
    process.stdout.write('no lab is up\n');
    return;
  }
  const { providerNames, providerOf } = await import('../providers/registry.js');
  for (const s of states) {
    const recorded = [...(s.kernel ? [`kernel ${s.kernel}`] : []), ...(s.engine ? [`Docker: ${s.engine}`] : [])];
    // A state of a provider this build does not have (another version's) is listed, not a reason to list none.
    const described = providerNames().includes(s.provider)
      ? await (await providerOf(s)).describe(s)
      : [`provider ${s.provider} is not one of this build's: ${providerNames().join(', ')}`];
    const facts = [...recorded, ...described];
    process.stdout.write(
      `${s.lab.padEnd(22)} ${s.status.padEnd(9)} ${s.provider.padEnd(8)} since ${s.createdAt}\n${facts.map((f) => `${''.padEnd(22)} ${f}\n`).join('')}`,
    );
  }
}
