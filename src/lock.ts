/**
 * One process at a time acts on a lab: `up`, `run` and `down` hold the lab's lock
 * (LAB_HOME/state/<lab>.lock, next to its state); `exec` only checks that no up or down is under way.
 * The lock names its holder by pid and process start time (/proc/<pid>/stat), so a lock left by a
 * killed process, or by a pid the kernel has since given to another process, is seen as stale and taken over.
 * Locks are reentrant within a process (`run` brings the lab up and down under its own lock).
 */
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from './errors.js';
import { labHome } from './paths.js';

export type LabAction = 'up' | 'run' | 'down';

export interface LockHolder {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: with the pid, names one process for the machine's uptime. */
  start: string;
  command: string;
  action: LabAction;
  since: string;
}

const held = new Map<string, { depth: number; file: string }>();

export function lockPath(labId: string): string {
  return path.join(labHome(), 'state', `${labId}.lock`);
}

export function processStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').slice(0, 300);
  } catch {
    return '(unknown command)';
  }
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as LockHolder;
    return Number.isInteger(h.pid) && typeof h.start === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(holder: LockHolder): boolean {
  return processStart(holder.pid) === holder.start;
}

/** The live process other than this one that holds the lab's lock, if any. */
export function lockHolder(labId: string): LockHolder | undefined {
  const text = readText(lockPath(labId));
  const holder = text === undefined ? undefined : parseHolder(text);
  return holder && holder.pid !== process.pid && isAlive(holder) ? holder : undefined;
}

function busy(labId: string, h: LockHolder): LabError {
  return new LabError(`lab ${labId} is busy: process ${h.pid} (${h.command}) is running "${h.action}" on it since ${h.since}`, {
    hint: `wait for it to finish; if that process is stuck, stop it (kill ${h.pid}) and run this again: its lock is then taken over`,
    kind: 'failure',
  });
}

export function acquireLabLock(labId: string, action: LabAction): void {
  const mine = held.get(labId);
  if (mine) {
    mine.depth++;
    return;
  }
  const file = lockPath(labId);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const since = new Date().toISOString();
  const me: LockHolder = { pid: process.pid, start: processStart(process.pid) ?? '?', command: commandOf(process.pid), action, since };
  // Written whole, then linked into place: link fails when the lock exists, so two processes never both win.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(me)}\n`);
  try {
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        fs.linkSync(tmp, file);
        held.set(labId, { depth: 1, file });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const text = readText(file);
      if (text === undefined) continue;
      const holder = parseHolder(text);
      if (holder && isAlive(holder)) throw busy(labId, holder);
      takeOver(file, text);
    }
    throw new LabError(`could not lock lab ${labId}: ${file} keeps changing`, {
      hint: 'another lab command is racing for this lab; try again',
      kind: 'failure',
    });
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Moves a stale lock aside; if what was moved is no longer the stale lock (another process took over first), it goes back. */
function takeOver(file: string, staleText: string): void {
  const aside = `${file}.stale.${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (readText(aside) !== staleText) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // a third process holds it now; it is theirs
    }
  }
  fs.rmSync(aside, { force: true });
}

export function releaseLabLock(labId: string): void {
  const mine = held.get(labId);
  if (!mine || --mine.depth > 0) return;
  held.delete(labId);
  removeIfMine(mine.file);
}

function removeIfMine(file: string): void {
  const text = readText(file);
  if (text !== undefined && parseHolder(text)?.pid === process.pid) fs.rmSync(file, { force: true });
}

export async function withLabLock<T>(labId: string, action: LabAction, fn: () => Promise<T>): Promise<T> {
  acquireLabLock(labId, action);
  try {
    return await fn();
  } finally {
    releaseLabLock(labId);
  }
}

/** For commands that use a lab without changing it (exec): refuse while another process builds or removes it. */
export function assertNotBeingChanged(labId: string): void {
  const holder = lockHolder(labId);
  if (holder && holder.action !== 'run') throw busy(labId, holder);
}

// process.exit (after Ctrl-C cleanup) skips finally blocks; the locks go anyway.
process.on('exit', () => {
  for (const { file } of held.values()) removeIfMine(file);
  held.clear();
});
