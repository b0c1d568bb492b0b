/**
 * libvirt domains and networks carrying a lab's prefix (lab-<id>.*). `vagrant destroy` removes what
 * its own folder knows about; a crash, a lost state file or another LAB_HOME can leave the rest, which
 * `lab up` refuses to build over and `lab down` removes.
 */
import { runCommand } from '../../transport/process.js';
import { networkPrefix } from './render.js';

const virsh = (args: string[]) => runCommand(['virsh', '-q', '-c', 'qemu:///system', ...args], { check: false, timeoutMs: 120_000 });

export interface LibvirtLeftovers {
  domains: string[];
  networks: string[];
}

async function named(kind: 'list' | 'net-list', labId: string): Promise<string[]> {
  const listed = await virsh([kind, '--all', '--name']);
  return listed.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((n) => n.startsWith(networkPrefix(labId)));
}

export async function findLeftovers(labId: string): Promise<LibvirtLeftovers> {
  return { domains: await named('list', labId), networks: await named('net-list', labId) };
}

/** Removes the lab's domains (with their disks) and networks; returns what it removed. */
export async function removeLeftovers(labId: string): Promise<string[]> {
  const { domains, networks } = await findLeftovers(labId);
  for (const d of domains) {
    await virsh(['destroy', d]);
    await virsh(['undefine', d, '--remove-all-storage', '--managed-save', '--snapshots-metadata']);
  }
  for (const n of networks) {
    await virsh(['net-destroy', n]);
    await virsh(['net-undefine', n]);
  }
  return [...domains.map((d) => `VM ${d}`), ...networks.map((n) => `libvirt network ${n}`)];
}
