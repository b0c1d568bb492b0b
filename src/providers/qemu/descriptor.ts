/** The qemu provider in the registry: every host and router its own direct-boot QEMU guest, with a kernel per node. */
import type { ProviderDescriptor } from '../types.js';
import type { QemuResources } from './resources.js';
import { booleanArg } from '../args.js';

/** sshd's cost at boot, measured in docs/ssh.md, decides whether guests get one unless --ssh/--no-ssh says. */
const SSH_DEFAULT = false;

const load = async (ssh: boolean) => (await import('./index.js')).createQemuProvider({ ssh });

export const qemuDescriptor: ProviderDescriptor<QemuResources> = {
  name: 'qemu',
  sysctls: 'any', // every node owns a kernel: nf_conntrack_max and the other init-namespace knobs included
  options: {
    ssh: { type: 'boolean', default: SSH_DEFAULT, describe: 'qemu provider: an sshd in every guest, for lab ssh and ssh -F (docs/ssh.md)' },
  },
  // It boots Debian's kernels only, one guest per node; copies would multiply the guests on a machine of two cores.
  capabilities: { otherKernels: true, variantCopies: false, kernelPerNode: true },
  sshd: 'opt-in',
  create: (args) => load(args.ssh === undefined ? SSH_DEFAULT : booleanArg(args, 'ssh')),
  fromState: (state) => load(state.resources.ssh ?? Boolean(state.resources.sshHostKeys)),
  async plan(lab, args) {
    const { guestPlans } = await import('./layout.js');
    const { renderGuestPlan } = await import('./setup.js');
    const { NODE_GUEST_MEMORY_MIB, NODE_GUEST_TB_MIB } = await import('./guests.js');
    const { planLab } = await import('../netns/plan.js');
    const { dockerProxyPath } = await import('../netns/docker-proxy.js');
    return renderGuestPlan(lab, guestPlans(lab, { ssh: args.ssh === undefined ? SSH_DEFAULT : booleanArg(args, 'ssh') }), planLab(lab, dockerProxyPath()), {
      memoryMib: NODE_GUEST_MEMORY_MIB,
      tbSizeMib: NODE_GUEST_TB_MIB,
    });
  },
  // Its QEMU processes carry the lab's work folder in their command lines: found without a state.
  leftovers: async (labId) => {
    const { stopGuests } = await import('./guests.js');
    const { removeSshFiles } = await import('./ssh.js');
    return [...(await stopGuests(labId)).map((pid) => `QEMU guest (process ${pid})`), ...removeSshFiles(labId)];
  },
};
