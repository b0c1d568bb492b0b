/**
 * The lab's guests: booted together (each records its QEMU's pid in the state the moment it starts, so that `lab down`
 * finds it after a crash), one exec channel each, stopped together. What `down` stops is what the state names, what the
 * pid files name, and any QEMU whose command line carries this lab's guest sockets: the last also covers a state lost.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CachedKernel } from '../../kernels/cache.js';
import { GuestChannel } from '../../kernels/channel.js';
import { alive, bootGuest, waitReady, type GuestShape } from '../../kernels/guest.js';
import { guestRunner } from '../../kernels/runner.js';
import type { Runner } from '../../transport/runner.js';
import { guestsDir, nodeGuestFiles, type GuestPlan } from './layout.js';

/**
 * Per guest: 320 MiB of RAM and a 128 MiB translation cache. Measured on 5.10 (TCG, one vCPU): a booted guest with
 * python3, iptables and conntrack run once used 30 MiB of its RAM and QEMU's RSS was 275-290 MiB with 256 + 64;
 * the larger cache keeps agents from retranslating, and RSS stays below 600 MiB even with all RAM touched.
 */
export const NODE_GUEST_MEMORY_MIB = 320;
export const NODE_GUEST_TB_MIB = 128;

/** The exec server answers 6-13 s after the start on an idle machine; guests booting at once on two cores share them. */
const BOOT_TIMEOUT_MS = 240_000;

export interface GuestRecord {
  node: string;
  series: string;
  accel: 'tcg' | 'kvm';
  pid?: number;
  release?: string;
  bootMs?: number;
}

export function shapeOf(plan: GuestPlan, accel: 'tcg' | 'kvm'): GuestShape {
  return { memoryMib: NODE_GUEST_MEMORY_MIB, tbSizeMib: NODE_GUEST_TB_MIB, cpus: 1, accel, nics: plan.nics, ports: plan.ports };
}

/** Boot one guest and wait for its exec server; `record` hears the pid at once, then the booted guest. */
export async function bootNodeGuest(plan: GuestPlan, kernel: CachedKernel, accel: 'tcg' | 'kvm', record: (guest: GuestRecord) => void): Promise<GuestRecord> {
  fs.mkdirSync(path.dirname(plan.files.socket), { recursive: true });
  for (const nic of plan.nics) fs.mkdirSync(path.dirname(nic.local), { recursive: true });
  const started = Date.now();
  const base = { node: plan.node, series: plan.series, accel };
  const pid = await bootGuest(kernel, plan.files, (p) => record({ ...base, pid: p }), shapeOf(plan, accel));
  const ready = await waitReady(plan.files, pid, BOOT_TIMEOUT_MS);
  const booted = { ...base, pid, release: ready.release, bootMs: Date.now() - started };
  record(booted);
  return booted;
}

const channels = new Map<string, GuestChannel>();

/** Commands in one node's guest (its own, or its docker host's for a container). */
export function guestRunnerOf(labId: string, guestNode: string): Runner {
  const socket = nodeGuestFiles(labId, guestNode).socket;
  let channel = channels.get(socket);
  if (!channel) {
    channel = GuestChannel.open(socket);
    channels.set(socket, channel);
  }
  return guestRunner(channel);
}

export function closeChannels(): void {
  for (const c of channels.values()) c.close();
  channels.clear();
}

/** QEMU processes of this lab's guests: their command line names a socket in its guests folder. */
export function runningGuests(labId: string): number[] {
  const marker = `${guestsDir(labId)}/`;
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.includes('qemu-system') && argv.some((a) => a.includes(marker))) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * Stop every guest of the lab at once with SIGKILL: a guest has no disk to flush (the host's root and the kernel are
 * read-only shares, the work folder is written through, cache=none), so a clean shutdown has nothing to save, and
 * QEMU under TCG on a loaded machine took over 2 s to act on SIGTERM. Returns the pids stopped.
 */
export async function stopGuests(labId: string): Promise<number[]> {
  closeChannels();
  const pids = runningGuests(labId);
  for (const pid of pids) signal(pid, 'SIGKILL');
  for (let i = 0; i < 40 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 25));
  return pids;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}
