/** The qemu provider in the registry: every host and router its own direct-boot QEMU guest, with a kernel per node. */
import { stringArg } from '../args.js';
import type { ProviderDescriptor } from '../types.js';

const load = async (nodeKernels: string | Record<string, string> | undefined) => {
  const { createQemuProvider } = await import('./index.js');
  const { parseNodeKernels } = await import('./layout.js');
  return createQemuProvider(typeof nodeKernels === 'object' ? nodeKernels : parseNodeKernels(nodeKernels));
};

export const qemuDescriptor: ProviderDescriptor = {
  name: 'qemu',
  sysctls: 'any', // every node owns a kernel: nf_conntrack_max and the other init-namespace knobs included
  options: {
    'node-kernels': {
      type: 'string',
      describe: 'qemu provider: a Debian kernel per node, e.g. client=5.10,router=6.1 (the others boot --kernel); also LAB_NODE_KERNELS',
    },
  },
  // It boots Debian's kernels only, one guest per node; copies would multiply the guests on a machine of two cores.
  capabilities: { otherKernels: true, variantCopies: false },
  create: (args) => load(stringArg(args, 'nodeKernels') ?? process.env.LAB_NODE_KERNELS),
  fromState: (state) => load((state.resources.nodeKernels as Record<string, string> | undefined) ?? {}),
  async plan(lab, args) {
    const { guestPlans, parseNodeKernels } = await import('./layout.js');
    const { renderGuestPlan } = await import('./setup.js');
    const { NODE_GUEST_MEMORY_MIB, NODE_GUEST_TB_MIB } = await import('./guests.js');
    const { planLab } = await import('../netns/plan.js');
    const { dockerProxyPath } = await import('../netns/docker-proxy.js');
    const guests = guestPlans(lab, parseNodeKernels(stringArg(args, 'nodeKernels') ?? process.env.LAB_NODE_KERNELS), lab.kernel);
    return renderGuestPlan(lab, guests, planLab(lab, dockerProxyPath()), { memoryMib: NODE_GUEST_MEMORY_MIB, tbSizeMib: NODE_GUEST_TB_MIB });
  },
  // Its QEMU processes carry the lab's work folder in their command lines: found without a state.
  leftovers: async (labId) => {
    const { stopGuests } = await import('./guests.js');
    return (await stopGuests(labId)).map((pid) => `QEMU guest (process ${pid})`);
  },
};
