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

export function kernelOption<T>(yargs: Argv<T>) {
  return yargs.option('kernel', {
    type: 'string',
    describe: 'run on these kernels, comma-separated: 5.10, 6.1, 6.12 (or bullseye, bookworm, trixie) boot under QEMU; host is this machine\'s own',
  });
}

/** The Debian series each --kernel entry names, undefined for host; [undefined] without --kernel. */
export async function kernelsOf(value: string | undefined): Promise<Array<string | undefined>> {
  if (value === undefined) return [undefined];
  const { parseKernelList } = await import('../kernels/catalogue.js');
  return parseKernelList(value).map((k) => (k.kind === 'host' ? undefined : k.series));
}

/** Commands that act on one lab (exec, down) take one kernel. */
export async function singleKernel(value: string | undefined): Promise<string | undefined> {
  const kernels = await kernelsOf(value);
  if (kernels.length > 1) {
    const { LabError } = await import('../errors.js');
    throw new LabError('this command takes one kernel', { hint: 'e.g. --kernel 5.10' });
  }
  return kernels[0];
}

export interface ProviderArgs {
  provider?: string;
  instance?: string;
  inventory?: string;
  box?: string;
  verbose?: boolean;
  /** One Debian kernel series; the lab then runs inside a QEMU guest of that kernel. */
  kernel?: string;
}

/**
 * The lab and its provider: the one named, else the one the lab is up on, else netns.
 * Heavy modules (zod, listr2, execa, handlebars) load only when a command runs, not for --help.
 */
export async function loadWithProvider(labArgValue: string, args: ProviderArgs) {
  const { loadLab } = await import('../lab/load.js');
  const { getProvider, providerOf } = await import('../providers/registry.js');
  const { readState } = await import('../state.js');
  const { LabError } = await import('../errors.js');
  if (args.box !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._/-]{0,100}$/.test(args.box)) throw new LabError(`"${args.box}" is not a box name`, { hint: 'letters, digits, ".", "_", "-", "/"' });
  const lab = loadLab(labArgValue, args.instance, args.kernel);
  if (args.kernel && args.provider && args.provider !== 'netns') throw new LabError(`--kernel runs the lab with the netns provider inside a guest, not with ${args.provider}`);
  const state = args.provider === undefined ? readState(lab.id) : undefined;
  const provider = state ? providerOf(state) : getProvider(args.provider ?? 'netns', { inventory: args.inventory, box: args.box, verbose: args.verbose });
  return { lab, provider };
}
