/** The qemu provider in the registry: every host and router its own direct-boot QEMU guest, with a kernel per node. */
import type { ProviderDescriptor } from '../types.js';
import type { QemuResources } from './resources.js';

const load = async () => (await import('./index.js')).createQemuProvider();

export const qemuDescriptor: ProviderDescriptor<QemuResources> = {
  name: 'qemu',
  sysctls: 'any', // every node owns a kernel: nf_conntrack_max and the other init-namespace knobs included
  options: {},
  // It boots Debian's kernels only, one guest per node; copies would multiply the guests on a machine of two cores.
  capabilities: { otherKernels: true, variantCopies: false, kernelPerNode: true },
  create: load,
  fromState: load,
  async plan(lab) {
    const { guestPlans } = await import('./layout.js');
    const { renderGuestPlan } = await import('./setup.js');
    const { NODE_GUEST_MEMORY_MIB, NODE_GUEST_TB_MIB } = await import('./guests.js');
    const { planLab } = await import('../netns/plan.js');
    const { dockerProxyPath } = await import('../netns/docker-proxy.js');
    return renderGuestPlan(lab, guestPlans(lab), planLab(lab, dockerProxyPath()), { memoryMib: NODE_GUEST_MEMORY_MIB, tbSizeMib: NODE_GUEST_TB_MIB });
  },
  // Its QEMU processes carry the lab's work folder in their command lines: found without a state.
  leftovers: async (labId) => {
    const { stopGuests } = await import('./guests.js');
    const { removeSshFiles } = await import('./ssh.js');
    return [...(await stopGuests(labId)).map((pid) => `QEMU guest (process ${pid})`), ...removeSshFiles(labId)];
  },
};
