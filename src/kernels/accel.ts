/**
 * KVM where it works: a timed tiny boot decides, once per machine and host kernel, and the answer is kept in the cache.
 * On some machines /dev/kvm opens and KVM_CREATE_VM succeeds, yet a guest with -cpu host,-arch-capabilities prints
 * nothing for a minute and -cpu max aborts on MSR 0x10a: only booting one tells. Without a working KVM, guests run under
 * software emulation (TCG), said once, when the probe finds it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LabError } from '../errors.js';
import { cacheHome } from '../paths.js';
import type { CachedKernel } from './cache.js';
import { bootGuest, stopGuest, waitReady, type GuestFiles } from './guest.js';

export type Accel = 'tcg' | 'kvm';

/** A guest on a working KVM answers in about a second; 10 s leaves room for a loaded machine. */
export const KVM_PROBE_BUDGET_MS = 10_000;

interface ProbeRecord {
  hostKernel: string;
  usable: boolean;
  detail: string;
  probedAt: string;
}

export function probeFile(): string {
  return path.join(cacheHome(), 'kvm-probe.json');
}

function remembered(): ProbeRecord | undefined {
  try {
    const r = JSON.parse(fs.readFileSync(probeFile(), 'utf8')) as ProbeRecord;
    return r.hostKernel === os.release() ? r : undefined;
  } catch {
    return undefined;
  }
}

function kvmOpens(): boolean {
  try {
    fs.closeSync(fs.openSync('/dev/kvm', 'r+'));
    return true;
  } catch {
    return false;
  }
}

/**
 * What guests here run under, known without booting one: LAB_ACCEL, no /dev/kvm to open (TCG), or the remembered probe;
 * undefined before the first probe (the first guest's boot runs it).
 */
export function knownAccel(env: NodeJS.ProcessEnv = process.env): Accel | undefined {
  const forced = env.LAB_ACCEL;
  if (forced === 'tcg' || forced === 'kvm') return forced;
  if (forced !== undefined) return undefined;
  if (!kvmOpens()) return 'tcg';
  const known = remembered();
  return known && (known.usable ? 'kvm' : 'tcg');
}

/**
 * The accelerator guests use here. LAB_ACCEL=tcg|kvm overrides the probe. `say` hears one line when the probe
 * runs and falls back (later calls read the remembered answer and say nothing).
 */
export async function guestAccel(kernel: CachedKernel, say: (line: string) => void = () => undefined): Promise<Accel> {
  const forced = process.env.LAB_ACCEL;
  if (forced !== undefined) {
    if (forced === 'tcg' || forced === 'kvm') return forced;
    throw new LabError(`LAB_ACCEL is "${forced}"`, { hint: 'LAB_ACCEL=tcg or LAB_ACCEL=kvm, or unset it to probe', kind: 'usage' });
  }
  if (!kvmOpens()) return 'tcg';
  const known = remembered();
  if (known) return known.usable ? 'kvm' : 'tcg';
  const result = await probeKvm(kernel);
  fs.mkdirSync(path.dirname(probeFile()), { recursive: true });
  const record: ProbeRecord = { hostKernel: os.release(), ...result, probedAt: new Date().toISOString() };
  fs.writeFileSync(probeFile(), `${JSON.stringify(record, null, 2)}\n`);
  if (!result.usable) say(`KVM: ${result.detail}; guests run under software emulation (TCG), remembered in ${probeFile()}`);
  return result.usable ? 'kvm' : 'tcg';
}

/** Boot the kernel's guest once under KVM, with nothing attached, and wait for its exec server within the budget. */
export async function probeKvm(kernel: CachedKernel, budgetMs = KVM_PROBE_BUDGET_MS): Promise<{ usable: boolean; detail: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-kvm-probe-'));
  const files: GuestFiles = {
    workDir: dir,
    socket: path.join(dir, 'probe.sock'),
    pidFile: path.join(dir, 'probe.pid'),
    console: path.join(dir, 'console.log'),
    log: path.join(dir, 'qemu.log'),
  };
  let pid: number | undefined;
  try {
    const started = Date.now();
    pid = await bootGuest(kernel, files, () => undefined, { memoryMib: 128, tbSizeMib: 0, cpus: 1, accel: 'kvm', nics: [] });
    await waitReady(files, pid, budgetMs);
    return { usable: true, detail: `a guest booted in ${((Date.now() - started) / 1000).toFixed(1)} s` };
  } catch (e) {
    const why = e instanceof LabError ? e.message : String(e);
    return { usable: false, detail: `a tiny guest did not boot within ${budgetMs / 1000} s (${why})` };
  } finally {
    await stopGuest(files, pid).catch(() => false);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
