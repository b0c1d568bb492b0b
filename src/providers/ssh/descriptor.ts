/** The ssh provider in the registry: existing hosts listed in an inventory. */
import { stringArg } from '../args.js';
import type { ProviderDescriptor } from '../types.js';
import type { SshResources } from './index.js';

const load = async (inventory: string | undefined) => (await import('./index.js')).createSshProvider({ inventory });

export const sshDescriptor: ProviderDescriptor<SshResources> = {
  name: 'ssh',
  sysctls: 'net', // the hosts are shared with their owner: network settings only
  options: { inventory: { type: 'string', describe: 'ssh provider: the inventory of existing hosts (YAML)' } },
  // The hosts are given, with their own kernels, and one inventory is one set of hosts: no second copy beside it.
  capabilities: { otherKernels: false, variantCopies: false, kernelPerNode: false },
  sshd: 'always', // the inventory's hosts are reached over ssh
  create: (args) => load(stringArg(args, 'inventory')),
  fromState: (state) => load(state.resources.inventory),
  // Nothing to find by name: the hosts are not the lab's, and its folders on them are known from the state only.
};
