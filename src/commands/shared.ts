import type { Argv } from 'yargs';
import { LabError } from '../errors.js';
import { defaultProvider, providerCan, providerNames, providerOptions, providers, providersWith } from '../providers/registry.js';
import type { ProviderDescriptor } from '../providers/types.js';
import type { KernelChoice } from '../lab/node-kernels.js';

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

export function kernelOption<T>(yargs: Argv<T>) {
  return yargs.option('kernel', {
    type: 'string',
    describe:
      "run on these kernels, comma-separated: 5.10, 6.1, 6.12 (or bullseye, bookworm, trixie) boot under QEMU; host is this machine's own. " +
      "node=5.10,6.1 sets that node's kernel (a run per kernel); given again, the runs multiply",
  });
}

/** The Debian series each --kernel entry names, undefined for host; [undefined] without --kernel (every node's kernel only). */
export async function kernelsOf(value: string | undefined): Promise<Array<string | undefined>> {
  if (value === undefined) return [undefined];
  const { parseKernelList } = await import('../kernels/kernel-names.js');
  return parseKernelList(value).map((k) => (k.kind === 'host' ? undefined : k.series));
}

/** Each run's kernels from --kernel (one run per kernel, and per kernel of each node named); one run as the lab says without. */
export async function kernelChoicesOf(value: string | string[] | undefined): Promise<KernelChoice[]> {
  const { parseKernelChoices } = await import('../lab/node-kernels.js');
  return parseKernelChoices(value);
}

/** Commands that act on one lab (exec, down) take one choice of kernels; undefined without --kernel. */
export async function singleKernel(value: string | string[] | undefined): Promise<KernelChoice | undefined> {
  if (value === undefined) return undefined;
  const choices = await kernelChoicesOf(value);
  if (choices.length > 1) throw new LabError('this command takes one kernel per node', { hint: 'e.g. --kernel 5.10 or --kernel client=5.10' });
  return choices[0];
}

/** --kernel runs the lab inside a QEMU guest of that kernel: refused for a provider that cannot, naming those that can. */
export function assertRunsOtherKernels(provider: string, list?: readonly ProviderDescriptor[]): void {
  if (providerCan(provider, 'otherKernels', list)) return;
  throw new LabError(`--kernel runs the lab with the ${orList(providersWith('otherKernels', list))} provider inside a guest, not with ${provider}`);
}

/** "a", "a or b", "a, b or c". */
function orList(names: string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/** --provider, --instance, --kernel (one choice: every node's, single nodes') and the options every provider declares for itself. */
export interface ProviderArgs {
  provider?: string;
  instance?: string;
  kernels?: KernelChoice;
  [option: string]: unknown;
}

/**
 * The lab and its provider: the one named, else the one the lab is up on, else the default (the registry's first).
 * Heavy modules (zod, listr2, execa, handlebars) load only when a command runs, not for --help.
 */
export async function loadWithProvider(labArgValue: string, args: ProviderArgs) {
  const { loadCheckedOpenedLab, openLab, checkedLabId } = await import('../checked-lab.js');
  const { descriptorOf, getProvider, providerOf, providers, sysctlScopeOf } = await import('../providers/registry.js');
  const { readState } = await import('../state.js');
  const { assertKernelsFit } = await import('../lab/node-kernels.js');
  const { kernels } = args;
  if (kernels?.lab && kernels.lab !== 'host' && args.provider) assertRunsOtherKernels(args.provider);
  // The provider decides which sysctls the lab may set, so it is found (from a lenient check) before the strict one.
  // The file is read and parsed once; a provider named on the command line is checked before the file, as it always was.
  const opened = args.provider === undefined ? openLab(labArgValue, args.instance) : undefined;
  const state = opened ? readState(checkedLabId(opened, kernels)) : undefined;
  const provider = state ? await providerOf(state) : await getProvider(args.provider ?? defaultProvider, args);
  const lab = loadCheckedOpenedLab(opened ?? openLab(labArgValue, args.instance), { sysctls: sysctlScopeOf(provider.name), kernels });
  assertKernelsFit(lab, descriptorOf(provider.name), providers);
  return { lab, provider };
}

/**
 * --ssh is an option of the providers whose machines run an sshd when asked (qemu's guests). Where they always run one
 * (vagrant's VMs, the ssh provider's hosts) lab ssh works without it: a no-op, said in a note. Where nodes have none
 * (netns), it is refused, with the reason the provider gives.
 */
export function sshOptionNote(provider: string, ssh: boolean | undefined, ref = 'LAB', list: readonly ProviderDescriptor[] = providers): string | undefined {
  const sshd = list.find((d) => d.name === provider)?.sshd;
  if (ssh !== true || sshd === 'opt-in') return undefined;
  if (sshd === 'always') return `--ssh changes nothing with the ${provider} provider: its machines run sshd already, and lab ssh ${ref} NODE logs in`;
  const optIn = list.filter((d) => d.sshd === 'opt-in').map((d) => d.name);
  const why = sshd?.none ?? `${provider} nodes run no sshd`;
  throw new LabError(`--ssh starts an sshd in ${optIn.join(' or ')} guests (--provider ${optIn[0]}); ${why}, use lab exec ${ref} NODE -- bash`);
}
