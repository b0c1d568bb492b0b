/**
 * The upstream version of the kernel a run saw. A distribution's `uname -r` hides the patch level: Debian's
 * 5.10.0-32-amd64 is 5.10.223, which /proc/version names ("... #1 SMP Debian 5.10.223-1 (2024-08-10)"); Ubuntu's
 * 5.15.0-91-generic names it in /proc/version_signature ("Ubuntu 5.15.0-91.101-generic 5.15.131").
 * Expectations are matched on this version; reports show `uname -r` beside it.
 */
import type { Transport } from '../transport/types.js';
import type { ResolvedLab } from '../lab/model.js';
import { differingKernels } from '../lab/node-kernels.js';

/** Debian's package version in the build string after "#": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.27-1 (...)". */
const DEBIAN = /#\d+\S*\s.*?\bDebian (\d+\.\d+\.\d+)[-+~]/;
/** Ubuntu's signature: "Ubuntu <package version>-<flavour> <upstream version>". */
const UBUNTU_SIGNATURE = /^Ubuntu \S+ (\d+\.\d+\.\d+)\s*$/m;
const RELEASE = /^(\d+)\.(\d+)(?:\.(\d+))?/;

/**
 * "5.10.223" from Debian's /proc/version, the last field of Ubuntu's /proc/version_signature, else the numbers
 * `uname -r` starts with ("6.18.44-fc-v1300" -> "6.18.44"); the release itself when it has no numbers. A package
 * version of another series than `uname -r` (a banner that lies) is ignored.
 */
export function kernelVersionOf(release: string, procVersion = '', versionSignature = ''): string {
  const own = RELEASE.exec(release.trim());
  const series = own ? `${own[1]}.${own[2]}.` : undefined;
  for (const found of [DEBIAN.exec(procVersion)?.[1], UBUNTU_SIGNATURE.exec(versionSignature)?.[1]]) {
    if (found && series && found.startsWith(series)) return found;
  }
  if (!own) return release.trim();
  return `${own[1]}.${own[2]}.${own[3] ?? 0}`;
}

/** `uname -r` and the upstream version, read on a node of the lab (the first node: every node shares its kernel). */
export async function readKernel(transport: Transport): Promise<{ kernel: string; kernelVersion: string }> {
  const [uname, proc, signature] = await Promise.all([
    transport.exec(['uname', '-r']),
    transport.exec(['cat', '/proc/version'], { check: false }),
    transport.exec(['cat', '/proc/version_signature'], { check: false }),
  ]);
  const kernel = uname.stdout.trim();
  return { kernel, kernelVersion: kernelVersionOf(kernel, proc.stdout, signature.stdout) };
}

type KernelRead = { kernel: string; kernelVersion?: string };

/**
 * The run's kernel, read on the lab's first node; on a lab whose nodes run different kernels, also each host's and
 * router's (`nodeKernels`), read on that node.
 */
export async function readKernels(
  lab: ResolvedLab,
  transport: (node: string) => Transport,
): Promise<{ kernel: string; kernelVersion: string; nodeKernels?: Record<string, KernelRead> }> {
  if (!differingKernels(lab)) return readKernel(transport(lab.nodes[0]!.name));
  const machines = lab.nodes.filter((n) => n.kind !== 'container').map((n) => n.name);
  const read = await Promise.all(machines.map(async (node) => [node, await readKernel(transport(node))] as const));
  return { ...read[0]![1], nodeKernels: Object.fromEntries(read) };
}

/**
 * How reports name a run's kernel: `uname -r`, with the upstream version after it when that adds something; each
 * node's ("client 6.1.0-40-amd64 (6.1.176), router 5.10.0-32-amd64 (5.10.223)") when they differ.
 */
export function kernelLabel(run: KernelRead & { nodeKernels?: Record<string, KernelRead> }): string {
  if (run.nodeKernels)
    return Object.entries(run.nodeKernels)
      .map(([node, k]) => `${node} ${kernelLabel(k)}`)
      .join(', ');
  const { kernel, kernelVersion } = run;
  return kernelVersion && kernelVersion !== kernelVersionOf(kernel) ? `${kernel} (${kernelVersion})` : kernel;
}
