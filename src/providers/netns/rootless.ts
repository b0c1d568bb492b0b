/**
 * The netns provider without root: a holder process per lab owns a user namespace (the user mapped
 * to root inside), a mount namespace with its own /run (so `ip netns` can keep named namespaces) and
 * a network namespace of its own (so `ip netns add` can return to it). Every command of the lab is
 * run inside with nsenter. `lab down` kills every process of that user namespace, which takes the
 * lab's namespaces with it: nothing outside the user's own processes is ever touched.
 */
import fs from 'node:fs';
import { runCommand, startService } from '../../transport/process.js';

export function rootless(): boolean {
  return typeof process.getuid === 'function' && process.getuid() !== 0;
}

export async function userNamespacesWork(): Promise<boolean> {
  return (await runCommand(['unshare', '--user', '--map-root-user', '--mount', '--net', 'true'], { check: false })).exitCode === 0;
}

export const USERNS_HINT = [
  'run with sudo, or allow unprivileged user namespaces: sysctl -w kernel.unprivileged_userns_clone=1 (Debian kernels before 5.10)',
  'and user.max_user_namespaces > 0; on Ubuntu 23.10+ also kernel.apparmor_restrict_unprivileged_userns=0',
].join(' ');

export async function startHolder(logFile: string): Promise<number> {
  const script = 'mount -t tmpfs tmpfs /run && mkdir -p /run/netns && printf 0 >&3 && exec sleep 2147483647';
  const { pid } = await startService(
    ['unshare', '--user', '--map-root-user', '--mount', '--net', '--propagation', 'private', 'sh', '-c', script],
    logFile,
    10_000,
  );
  return pid;
}

/** argv prefix that runs a command as root inside the holder's namespaces. */
export function insideHolder(pid: number): string[] {
  return ['nsenter', '-t', String(pid), '--user', '--mount', '--net', '--preserve-credentials', '--'];
}

/** Kill every process of the holder's user namespace (the holder, agents, captures, services). */
export async function stopHolder(pid: number): Promise<boolean> {
  let userns: string;
  try {
    userns = fs.readlinkSync(`/proc/${pid}/ns/user`);
  } catch {
    return false;
  }
  for (let attempt = 0; attempt < 20; attempt++) {
    const members = fs
      .readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid)
      .filter((e) => {
        try {
          return fs.readlinkSync(`/proc/${e}/ns/user`) === userns;
        } catch {
          return false;
        }
      });
    if (members.length === 0) return true;
    for (const m of members) {
      try {
        process.kill(Number(m), 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}
