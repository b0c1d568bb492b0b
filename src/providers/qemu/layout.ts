/**
 * Which guest each node lives in, which kernel it boots, and how the guests are wired. Every host and router is its
 * own guest; a container lives in its docker host's guest, as a network namespace there (the imitation). Each link
 * is a pair of virtio NICs joined by QEMU's dgram netdev over two unix datagram sockets in the lab's work folder: a
 * point-to-point wire with no process in between, and nothing in the root namespace (no tap, no bridge, no port).
 */
import path from 'node:path';
import { LabError } from '../../errors.js';
import type { ResolvedLab, ResolvedNode } from '../../lab/model.js';
import type { GuestFiles, GuestNic } from '../../kernels/guest.js';
import { workDir } from '../../state.js';
import { parseKernelName } from '../../kernels/catalogue.js';

export interface GuestNicPlan extends GuestNic {
  /** The name the lab gives this end of the link inside the guest. */
  iface: string;
  link: number;
}

export interface GuestPlan {
  /** The node whose guest this is (a host or router). */
  node: string;
  /** Debian series (5.10, 6.1, 6.12). */
  series: string;
  files: GuestFiles;
  nics: GuestNicPlan[];
  /** Its containers: namespaces inside this guest. */
  containers: string[];
}

/** The node whose guest a node runs in: its own, or its docker host's. */
export function guestNodeOf(lab: ResolvedLab, node: string): string {
  const n = lab.nodes.find((x) => x.name === node);
  return n?.kind === 'container' && n.host ? n.host : node;
}

export function guestsDir(labId: string): string {
  return path.join(workDir(labId), 'guests');
}

export function nodeGuestFiles(labId: string, node: string): GuestFiles {
  const dir = guestsDir(labId);
  return {
    workDir: workDir(labId),
    socket: path.join(dir, `${node}.sock`),
    pidFile: path.join(dir, `${node}.pid`),
    console: path.join(dir, `${node}.console`),
    log: path.join(dir, `${node}.qemu.log`),
  };
}

/** A MAC address for one end of one link, unique within the lab (QEMU's 52:54:00 prefix). */
export function macOf(link: number, end: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `52:54:00:${hex((link >> 8) & 0xff)}:${hex(link & 0xff)}:${hex(end + 1)}`;
}

/**
 * `kernels`: a Debian series per node (the lab file's, or the command line's), over `fallback` (--kernel).
 */
export function guestPlans(lab: ResolvedLab, kernels: Readonly<Record<string, string>>, fallback: string | undefined): GuestPlan[] {
  const linksDir = path.join(workDir(lab.id), 'links');
  const guests = lab.nodes.filter((n) => n.kind !== 'container');
  for (const name of Object.keys(kernels)) {
    if (!guests.some((g) => g.name === name))
      throw new LabError(`a kernel is given for "${name}", which is not a host or router of lab ${lab.name}`, {
        hint: `nodes with a guest of their own: ${guests.map((g) => g.name).join(', ')}`,
      });
  }
  const plans = guests.map((n): GuestPlan => {
    const series = kernels[n.name] ?? kernelOfNode(n) ?? fallback;
    if (!series)
      throw new LabError(`the qemu provider boots a Debian kernel for every node, and none is given for "${n.name}"`, {
        hint: 'add --kernel 5.10 (every node), or --node-kernels client=5.10,router=6.1 with --kernel for the rest',
      });
    return { node: n.name, series, files: nodeGuestFiles(lab.id, n.name), nics: [], containers: lab.nodes.filter((c) => c.host === n.name).map((c) => c.name) };
  });
  for (const link of lab.links) {
    const ends = link.endpoints.map((e) => ({ ...e, guest: guestNodeOf(lab, e.node) }));
    if (ends[0]!.guest === ends[1]!.guest) continue; // a veth inside one guest, as on netns
    for (const [i, e] of ends.entries()) {
      if (e.guest !== e.node)
        throw new LabError(`links[${link.index}] joins container ${e.node} to another machine; the qemu provider wires links between hosts and routers only`, {
          hint: 'connect the container through its docker host, or use the netns provider',
        });
      const sock = (end: number) => path.join(linksDir, `${link.index}-${end}.sock`);
      plans.find((p) => p.node === e.guest)!.nics.push({ iface: e.iface, link: link.index, mac: macOf(link.index, i), local: sock(i), remote: sock(1 - i) });
    }
  }
  const tooLong = plans.flatMap((p) => [p.files.socket, ...p.nics.map((n) => n.local)]).filter((s) => Buffer.byteLength(s) > MAX_SOCKET_PATH);
  if (tooLong.length)
    throw new LabError(`the guests' sockets would have paths longer than a unix socket takes (${MAX_SOCKET_PATH} bytes): ${tooLong[0]}`, {
      hint: 'set LAB_HOME to a shorter folder, or use a shorter lab name or instance',
    });
  return plans;
}

/** sun_path holds 108 bytes with its terminating NUL. */
const MAX_SOCKET_PATH = 107;

/** The lab file's `kernel:` of a node, where the lab model carries one. */
function kernelOfNode(node: ResolvedNode): string | undefined {
  const k = (node as ResolvedNode & { kernel?: unknown }).kernel;
  return typeof k === 'string' ? k : undefined;
}

/** `client=5.10,router=6.1` as a map; a malformed entry is a usage error. */
export function parseNodeKernels(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!value) return out;
  for (const part of value.split(',').filter(Boolean)) {
    const m = /^([A-Za-z0-9_-]+)=([A-Za-z0-9.]+)$/.exec(part.trim());
    if (!m) throw new LabError(`--node-kernels: "${part}" is not node=series`, { hint: 'e.g. --node-kernels client=5.10,router=6.1' });
    const kernel = parseKernelName(m[2]!);
    if (kernel.kind === 'host')
      throw new LabError(`--node-kernels: ${m[1]} cannot run this machine's kernel in a guest`, { hint: 'name a Debian series: 5.10, 6.1, 6.12' });
    out[m[1]!] = kernel.series;
  }
  return out;
}
