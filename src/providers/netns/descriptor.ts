/** The netns provider in the registry: every node a network namespace on this machine; no options. */
import type { ProviderDescriptor } from '../types.js';

const load = async () => (await import('./index.js')).netnsProvider;

export const netnsDescriptor: ProviderDescriptor = {
  name: 'netns',
  options: {},
  // Its kernel.ts boots a guest of another kernel and makes the namespaces there; copies are namespaces under other names.
  capabilities: { otherKernels: true, variantCopies: true },
  create: load,
  fromState: load,
  async plan(lab) {
    const { planLab, renderPlan } = await import('./plan.js');
    return renderPlan(planLab(lab));
  },
  // The namespaces carry the lab's prefix: they are found by name (an empty state removes exactly those).
  leftovers: async (labId) => (await (await load()).down(labId, undefined)).removed,
};
