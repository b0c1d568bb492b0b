/** The vagrant provider in the registry: one VM per host of the lab; `lab render` writes its Vagrantfile. */
import path from 'node:path';
import { LabError } from '../../errors.js';
import { booleanArg, stringArg } from '../args.js';
import type { ProviderArgs, ProviderDescriptor, ProviderOption } from '../types.js';
import type { VagrantResources } from './index.js';
import { vagrantSettings } from './settings.js';

const box: ProviderOption = { type: 'string', describe: 'vagrant provider: the box to boot (default lab/debian12, built by scripts/build-box.sh)' };

/** The box reaches the Vagrantfile and vagrant's command line: a plain name only. */
function boxArg(args: ProviderArgs): string | undefined {
  const value = stringArg(args, 'box');
  if (value !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._/-]{0,100}$/.test(value))
    throw new LabError(`"${value}" is not a box name`, { hint: 'letters, digits, ".", "_", "-", "/"' });
  return value;
}

const load = async (options: { box?: string; verbose?: boolean }) => (await import('./index.js')).createVagrantProvider(options);

export const vagrantDescriptor: ProviderDescriptor<VagrantResources> = {
  name: 'vagrant',
  sysctls: 'any', // the VMs are the lab's own machines
  settings: vagrantSettings,
  options: {
    box,
    verbose: { type: 'boolean', default: false, describe: "vagrant provider: show Vagrant's own output" },
  },
  // The box decides the kernel. A copy would be a whole set of VMs, beyond what variant-copies.ts budgets for one (a netns copy's memory).
  capabilities: { otherKernels: false, variantCopies: false, kernelPerNode: false },
  sshd: 'always', // as vagrant ssh logs in to any VM
  create: async (args) => load({ box: boxArg(args), verbose: booleanArg(args, 'verbose') }),
  fromState: (state) => load({ box: state.resources.box }),
  render: {
    options: { box, kvm: { type: 'boolean', default: false, describe: 'vagrant provider: use KVM instead of QEMU software emulation (libvirt)' } },
    async write(lab, args, outDir) {
      const { renderVagrant, writeRendered } = await import('./render.js');
      const files = writeRendered(renderVagrant(lab, { box: boxArg(args), libvirtDriver: booleanArg(args, 'kvm') ? 'kvm' : 'qemu' }), outDir);
      return { files, next: `boot it with: cd ${path.relative(process.cwd(), outDir) || '.'} && vagrant up` };
    },
  },
  // VMs and networks in libvirt carry the lab's prefix; with no state, vagrant has no folder to destroy and only those go.
  leftovers: async (labId) => (await (await load({})).down(labId, undefined)).removed,
};
