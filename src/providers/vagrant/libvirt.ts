/**
 * Where libvirt's VMs live. scripts/libvirt-netns.sh runs libvirtd inside its own network namespace,
 * so its bridges, dnsmasq and firewall rules never touch the machine's root namespace; Vagrant and
 * ssh then reach the VMs from inside that namespace. A libvirtd in the root namespace works too.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface Libvirtd {
  pid: number;
  /** The command prefix that enters libvirtd's network namespace; empty when it is ours. */
  enter: string[];
  /** A readable description for `lab status` and errors. */
  where: string;
}

export function findLibvirtd(): Libvirtd | undefined {
  const pid = fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .find((d) => readOr(`/proc/${d}/comm`).trim() === 'libvirtd');
  if (!pid) return undefined;
  const theirs = linkOr(`/proc/${pid}/ns/net`);
  if (!theirs || theirs === linkOr('/proc/self/ns/net')) return { pid: Number(pid), enter: [], where: 'the root network namespace' };
  const named = namedNamespace(theirs);
  const nsPath = named ? path.join('/run/netns', named) : `/proc/${pid}/ns/net`;
  return { pid: Number(pid), enter: ['nsenter', `--net=${nsPath}`], where: named ? `network namespace ${named}` : `the network namespace of process ${pid}` };
}

function namedNamespace(link: string): string | undefined {
  const inode = /\[(\d+)\]/.exec(link)?.[1];
  if (!inode || !fs.existsSync('/run/netns')) return undefined;
  return fs.readdirSync('/run/netns').find((n) => {
    try {
      return String(fs.statSync(path.join('/run/netns', n)).ino) === inode;
    } catch {
      return false;
    }
  });
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function linkOr(file: string): string | undefined {
  try {
    return fs.readlinkSync(file);
  } catch {
    return undefined;
  }
}
