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

/** Pids of the processes inside the given namespaces, from one scan of /proc (no process per namespace). */
export function processesIn(namespaces: string[]): number[] {
  const inodes = new Set<number>();
  for (const ns of namespaces) {
    try {
      inodes.add(fs.statSync(path.join('/run/netns', ns)).ino);
    } catch {
      // already gone
    }
  }
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

const DELETE_BATCHES = 4;
/** Below this many namespaces per batch a process more costs more than it saves: 4 deletes take 5 ms in one batch, 12 ms in four. */
const NAMESPACES_PER_BATCH = 32;

/** Kill every process inside the namespaces (agents, captures, services), then delete them with their links. */
export async function removeNamespaces(namespaces: string[]): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const pids = processesIn(namespaces);
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
  // A few batches at once: each delete mostly waits (umount's RCU grace period, the kernel's cleanup of the
  // previous namespace); measured for a 1000-node star, 1.0-1.4 s in one batch, 0.5-0.8 s in several. A small lab (a
  // variant's copy) is deleted in one: an all-variants run takes down several copies at once anyway.
  const count = Math.min(DELETE_BATCHES, Math.ceil(namespaces.length / NAMESPACES_PER_BATCH));
  const batches = Array.from({ length: count }, (_, i) => namespaces.filter((_, j) => j % count === i));
  await Promise.all(
    batches.map((batch) => runCommand(['ip', '-force', '-batch', '-'], { input: `${batch.map((ns) => `netns delete ${ns}`).join('\n')}\n`, check: false })),
  );
  const left = (await listNamespaces()).filter((ns) => namespaces.includes(ns));
  if (left.length)
    throw new LabError(`could not delete ${left.join(', ')}`, { hint: 'run lab down again; if it stays, ip netns delete <name> says why', kind: 'failure' });
}
