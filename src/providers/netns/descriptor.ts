/** The netns provider in the registry: every node a network namespace on this machine; --docker picks real engines. */
import type { ProviderDescriptor } from '../types.js';
import type { NetnsResources } from './index.js';

const load = async () => (await import('./index.js')).netnsProvider;

export const netnsDescriptor: ProviderDescriptor<NetnsResources> = {
  name: 'netns',
  sysctls: 'namespace', // every node is a namespace on this machine: only keys that stay in it
  options: {
    docker: {
      type: 'string',
      describe:
        "netns: the Docker engine of every docker-host node: 20.10 or 26.1 (Debian's, fetched once; lab engines), host (the dockerd installed here), existing (the engine running at DOCKER_HOST or /var/run/docker.sock) or emulated (the imitation: Docker's rules from a template); a list (20.10,26.1) runs each. Without it: the lab file's docker.engine, else LAB_DOCKER, else auto: the newest cached real engine as root (in a --kernel guest only under KVM), the imitation where none can run",
    },
  },
  // Its kernel.ts boots a guest of another kernel and makes the namespaces there; copies are namespaces under other names.
  capabilities: { otherKernels: true, variantCopies: true, kernelPerNode: false },
  sshd: { none: 'netns nodes are namespaces of this machine' },
  create: async (args) => {
    const docker = args.docker as string | undefined;
    if (docker === undefined) return load();
    const { parseEngineName, engineLabel } = await import('../../engines/engine-names.js');
    return (await import('./index.js')).netnsProviderWith(engineLabel(parseEngineName(docker)));
  },
  fromState: load,
  async plan(lab, args) {
    const { planLab, renderPlan } = await import('./plan.js');
    const { attachedNodes, realEngines, renderEngines } = await import('./engine.js');
    const real = realEngines(lab, args.docker as string | undefined);
    return renderPlan(planLab(lab, undefined, new Set(real.keys()), attachedNodes(real))) + renderEngines(lab, real);
  },
  // The namespaces carry the lab's prefix: they are found by name (an empty state removes exactly those).
  leftovers: async (labId) => (await (await load()).down(labId, undefined)).removed,
};
