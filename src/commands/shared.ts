import type { Argv } from 'yargs';

export function labArg<T>(yargs: Argv<T>) {
  return yargs.positional('lab', { type: 'string', demandOption: true, describe: "a lab's name in labs/ or a path to a lab file or folder" });
}

export function providerOption<T>(yargs: Argv<T>) {
  return yargs
    .option('provider', { type: 'string', describe: 'where the lab runs: netns (default; or the one the lab is up on), ssh, vagrant' })
    .option('inventory', { type: 'string', describe: 'ssh provider: the inventory of existing hosts (YAML)' })
    .option('box', { type: 'string', describe: 'vagrant provider: the box to boot (default lab/debian12, built by scripts/build-box.sh)' })
    .option('verbose', { type: 'boolean', default: false, describe: "vagrant provider: show Vagrant's own output" });
}

export function instanceOption<T>(yargs: Argv<T>) {
  return yargs.option('instance', { type: 'string', describe: 'a named copy of the lab, isolated from the others (workshops)' });
}

export interface ProviderArgs {
  provider?: string;
  instance?: string;
  inventory?: string;
  box?: string;
  verbose?: boolean;
}

/**
 * The lab and its provider: the one named, else the one the lab is up on, else netns.
 * Heavy modules (zod, listr2, execa, handlebars) load only when a command runs, not for --help.
 */
export async function loadWithProvider(labArgValue: string, args: ProviderArgs) {
  const { labIdOf, loadLab } = await import('../lab/load.js');
  const { getProvider, providerOf } = await import('../providers/registry.js');
  const { readState } = await import('../state.js');
  const { LabError } = await import('../errors.js');
  if (args.box !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._/-]{0,100}$/.test(args.box)) throw new LabError(`"${args.box}" is not a box name`, { hint: 'letters, digits, ".", "_", "-", "/"' });
  const { sysctlProviderOf } = await import('../lab/sysctl-policy.js');
  // The provider decides which sysctls the lab may set, so it is found (from a lenient read) before the strict one.
  const state = args.provider === undefined ? readState(labIdOf(labArgValue, args.instance)) : undefined;
  const provider = state ? providerOf(state) : getProvider(args.provider ?? 'netns', { inventory: args.inventory, box: args.box, verbose: args.verbose });
  const lab = loadLab(labArgValue, args.instance, sysctlProviderOf(provider.name));
  return { lab, provider };
}
