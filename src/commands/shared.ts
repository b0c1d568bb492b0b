import type { Argv } from 'yargs';
import { defaultProvider, providerNames, providerOptions } from '../providers/registry.js';

export function labArg<T>(yargs: Argv<T>) {
  return yargs.positional('lab', { type: 'string', demandOption: true, describe: "a lab's name in labs/ or a path to a lab file or folder" });
}

export function providerOption<T>(yargs: Argv<T>) {
  const where = `where the lab runs: ${providerNames().join(', ')} (default ${defaultProvider}, or the one the lab is up on)`;
  return yargs.option('provider', { type: 'string', describe: where }).options(providerOptions());
}

export function instanceOption<T>(yargs: Argv<T>) {
  return yargs.option('instance', { type: 'string', describe: 'a named copy of the lab, isolated from the others (workshops)' });
}

/** --provider, --instance and the options every provider declares for itself. */
export interface ProviderArgs {
  provider?: string;
  instance?: string;
  [option: string]: unknown;
}

/**
 * The lab and its provider: the one named, else the one the lab is up on, else the default (the registry's first).
 * Heavy modules (zod, listr2, execa, handlebars) load only when a command runs, not for --help.
 */
export async function loadWithProvider(labArgValue: string, args: ProviderArgs) {
  const { labIdOf, loadLab } = await import('../labs.js');
  const { getProvider, providerOf } = await import('../providers/registry.js');
  const { readState } = await import('../state.js');
  const { sysctlProviderOf } = await import('../lab/sysctl-policy.js');
  // The provider decides which sysctls the lab may set, so it is found (from a lenient read) before the strict one.
  const state = args.provider === undefined ? readState(labIdOf(labArgValue, args.instance)) : undefined;
  const provider = state ? await providerOf(state) : await getProvider(args.provider ?? defaultProvider, args);
  const lab = loadLab(labArgValue, args.instance, sysctlProviderOf(provider.name));
  return { lab, provider };
}
