/**
 * Which guest each node lives in, which kernel it boots, and how the guests are wired. Every host and router is its
 * own guest; a container lives in its docker host's guest, as a network namespace there (the imitation). Each link
 * is a pair of virtio NICs joined by QEMU's dgram netdev over two unix datagram sockets in the lab's work folder: a
 * point-to-point wire with no process in between, and nothing in the root namespace (no tap, no bridge, no port).
 */
import path from 'node:path';
import { LabError } from '../../errors.js';
import type { ResolvedLab } from '../../lab/model.js';
import type { GuestFiles, GuestNic, GuestPort } from '../../kernels/guest.js';
import { workDir } from '../../state.js';

/** A node no kernel is named for boots bookworm's, the kernel of the Vagrant provider's box. */
export const DEFAULT_SERIES = '6.1';

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
  /** Virtio-serial ports for its sshd (ssh.ts), each on a unix socket in the guests folder. */
  ports: GuestPort[];
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
/** The lab's nodes a guest holds: its own node and that node's containers. */
export function nodesOfGuest(lab: ResolvedLab, guest: string): ResolvedLab['nodes'] {
  return lab.nodes.filter((n) => guestNodeOf(lab, n.name) === guest);
}

/** `ssh`: each guest gets the serial ports of an sshd (lab up --ssh). */
export function guestPlans(lab: ResolvedLab, options: { ssh: boolean } = { ssh: false }): GuestPlan[] {
  const linksDir = path.join(workDir(lab.id), 'links');
  const guests = lab.nodes.filter((n) => n.kind !== 'container');
  const plans = guests.map((n): GuestPlan => {
    const series = n.kernel ?? lab.kernel ?? DEFAULT_SERIES;
    const containers = lab.nodes.filter((c) => c.host === n.name).map((c) => c.name);
    return { node: n.name, series, files: nodeGuestFiles(lab.id, n.name), nics: [], containers, ports: options.ssh ? sshPorts(lab.id, n.name) : [] };
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
  const tooLong = plans
    .flatMap((p) => [p.files.socket, ...p.nics.map((n) => n.local), ...p.ports.map((port) => port.socket)])
    .filter((s) => Buffer.byteLength(s) > MAX_SOCKET_PATH);
  if (tooLong.length)
    throw new LabError(`the guests' sockets would have paths longer than a unix socket takes (${MAX_SOCKET_PATH} bytes): ${tooLong[0]}`, {
      hint: 'set LAB_HOME to a shorter folder, or use a shorter lab name or instance',
    });
  return plans;
}

/** Virtio-serial ports of a guest's sshd: lab.ssh0.. on <node>.ssh0.sock.. (ssh.ts says why a serial port). */
export const SSH_PORTS = 4;

export function sshPorts(labId: string, node: string): GuestPort[] {
  return Array.from({ length: SSH_PORTS }, (_, i) => ({ name: `lab.ssh${i}`, socket: path.join(guestsDir(labId), `${node}.ssh${i}.sock`) }));
}

/** sun_path holds 108 bytes with its terminating NUL. */
const MAX_SOCKET_PATH = 107;
