/**
 * Labs on other kernels (QEMU, TCG): boot to the first command answered in the guest, docker-1090's
 * variants inside it, and QEMU's peak resident memory (VmHWM), per kernel in BENCH_KERNELS (default 5.10).
 */
import fs from 'node:fs';
import path from 'node:path';
import { env, lab, timed } from './measure.js';

const log = (s: string) => process.stderr.write(`${s}\n`);

interface GuestState {
  resources: { guest?: { pid?: number; bootMs?: number; release?: string } };
}

function peakRssMiB(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const kb = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    return null;
  }
}

export function benchKernels() {
  const series = (process.env.BENCH_KERNELS ?? '5.10').split(',');
  const out = [];
  for (const kernel of series) {
    lab(['kernels', '--fetch', kernel]);
    const id = `docker-1090+bench@${kernel.replace('.', '-')}`;
    const upMs = timed(() => lab(['up', 'docker-1090', '--instance', 'bench', '--kernel', kernel]));
    const state = JSON.parse(fs.readFileSync(path.join(env.LAB_HOME, 'state', `${id}.json`), 'utf8')) as GuestState;
    const guest = state.resources.guest ?? {};
    const runMs = timed(() => lab(['run', 'docker-1090', '--instance', 'bench', '--kernel', kernel]));
    const qemuPeakRssMiB = peakRssMiB(guest.pid);
    const downMs = timed(() => lab(['down', 'docker-1090', '--instance', 'bench', '--kernel', kernel]));
    const figures = {
      bootToFirstCommandMs: guest.bootMs ?? null,
      upMs: Math.round(upMs),
      docker1090VariantsMs: Math.round(runMs),
      downMs: Math.round(downMs),
      qemuPeakRssMiB,
    };
    log(`kernel ${kernel} (${guest.release}): ${JSON.stringify(figures)}`);
    out.push({ kernel, release: guest.release ?? null, ...figures });
  }
  return out;
}
