import fs from 'node:fs';
import path from 'node:path';
import { runCommand } from '../../transport/process.js';
import type { Runner } from '../../transport/runner.js';
import { LabError } from '../../errors.js';

/** Probe netem in a throwaway namespace that exists only for the probe's own process. */
export async function netemAvailable(asUser = false): Promise<boolean> {
  const probe = await runCommand(
    ['unshare', ...(asUser ? ['--user', '--map-root-user'] : []), '--net', 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'],
    { check: false },
  );
  return probe.exitCode === 0;
}

/** Named namespaces; read from /run/netns directly (other labs may add and delete theirs meanwhile). */
export async function listNamespaces(runner?: Runner): Promise<string[]> {
  if (!runner) return fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns') : [];
  const out = await runner.run(['ip', 'netns', 'list'], { check: false });
  return out.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
}

/** Pids of the processes inside the namespaces with these inodes, from one scan of /proc (no process per namespace). */
function processesIn(inodes: Set<number>): number[] {
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const link = fs.readlinkSync(`/proc/${entry}/ns/net`);
      const ino = Number(/\[(\d+)\]/.exec(link)?.[1]);
      if (inodes.has(ino)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/**
 * An open descriptor of every namespace that still exists (each keeps its namespace alive until it is closed), and the
 * inode of each, held or not (a namespace gone already has none).
 */
function holdNamespaces(namespaces: string[]): { fds: number[]; inodes: Set<number> } {
  const fds: number[] = [];
  const inodes = new Set<number>();
  let descriptorsLeft = true;
  for (const ns of namespaces) {
    const file = path.join('/run/netns', ns);
    try {
      if (!descriptorsLeft) {
        inodes.add(fs.statSync(file).ino);
        continue;
      }
      const fd = fs.openSync(file, 'r');
      fds.push(fd);
      inodes.add(fs.fstatSync(fd).ino);
    } catch (error) {
      // Out of descriptors: the rest are deleted without being held, only more slowly. Otherwise the namespace is gone
      // already (another process, a half-finished earlier down).
      if (['EMFILE', 'ENFILE'].includes((error as NodeJS.ErrnoException).code ?? '')) descriptorsLeft = false;
    }
  }
  return { fds, inodes };
}

/**
 * Kill every process inside the namespaces (agents, captures, services), then delete them with their links, in one
 * `ip -batch` while every namespace is held open. `ip netns delete` only unmounts and unlinks a name; dropping a
 * namespace's last reference starts its teardown (devices, addresses, routes; for a 1000-node star, the hub's routes
 * flushed once per port), and each umount waits for an RCU grace period that teardown running beside it stretches
 * (docs/measurements.md, "Removing namespaces"). Released together afterwards, the namespaces are torn down by the
 * kernel in the background, as after any `ip netns delete`.
 */
export async function removeNamespaces(namespaces: string[]): Promise<void> {
  if (namespaces.length === 0) return;
  const { fds, inodes } = holdNamespaces(namespaces);
  try {
    for (let attempt = 0; attempt < 10; attempt++) {
      const pids = processesIn(inodes);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // -force: one namespace already gone (another process, a half-finished earlier down) must not stop the rest.
    const deleted = await runCommand(['ip', '-force', '-batch', '-'], {
      input: `${namespaces.map((ns) => `netns delete ${ns}`).join('\n')}\n`,
      timeoutMs: 300_000,
      check: false,
    });
    const wanted = new Set(namespaces);
    const left = (await listNamespaces()).filter((ns) => wanted.has(ns));
    if (left.length)
      throw new LabError(`could not delete ${left.join(', ')}`, {
        details: deleted.stderr.trim().split('\n').filter(Boolean).slice(-5),
        hint: 'run lab down again; if it stays, ip netns delete <name> says why',
        kind: 'failure',
      });
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
}
