/**
 * The qemu provider (every host and router its own guest): docker-1090 up as three guests, each guest's peak resident
 * memory (VmHWM) after every variant ran, `lab down`, the verdicts against the netns provider's inside one guest of the
 * same kernel, and a 10-node line up. Under the accelerator the probe chose (state.resources.accel), and under KVM too
 * when the probe found it working. BENCH_VM_KERNEL picks the kernel (default 5.10).
 */
import fs from 'node:fs';
import path from 'node:path';
import { benchHome, env, lab, labOutcome, timed } from './measure.js';
import { generate } from './topologies.js';

const log = (s: string) => process.stderr.write(`${s}\n`);
/** Instances of the labs measured here (nothing they create is outside their guests, but a shared machine may want others). */
const INSTANCE = process.env.BENCH_VM_INSTANCE ?? 'bvm';
const NETNS_INSTANCE = process.env.BENCH_VM_NETNS_INSTANCE ?? 'bvmn';

interface QemuState {
  resources: { accel?: string; guests?: Array<{ node: string; pid?: number; bootMs?: number }> };
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

/** CPU seconds a guest's QEMU has used so far (user + system): under TCG the guest's own work, less load-bound than wall time. */
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Math.round(((Number(fields[11]) + Number(fields[12])) / 100) * 10) / 10;
  } catch {
    return null;
  }
}

function guestCpuTotal(state: QemuState): number {
  return Math.round((state.resources.guests ?? []).reduce((sum, g) => sum + (cpuSeconds(g.pid) ?? 0), 0) * 10) / 10;
}

function stateOf(id: string): QemuState {
  return JSON.parse(fs.readFileSync(path.join(env.LAB_HOME, 'state', `${id}.json`), 'utf8')) as QemuState;
}

function docker1090(kernel: string, accel: string | undefined) {
  const at = ['--instance', INSTANCE, '--kernel', kernel];
  const id = `docker-1090+${INSTANCE}@${kernel.replace('.', '-')}`;
  const vars = env as Record<string, string | undefined>;
  const before = vars.LAB_ACCEL;
  if (accel) vars.LAB_ACCEL = accel;
  try {
    const upMs = timed(() => lab(['up', 'docker-1090', '--provider', 'qemu', ...at]));
    const state = stateOf(id);
    const upGuestCpuS = guestCpuTotal(state);
    const run = labOutcome(['run', 'docker-1090', ...at]);
    const rss = Object.fromEntries((state.resources.guests ?? []).map((g) => [g.node, peakRssMiB(g.pid)]));
    const downMs = timed(() => lab(['down', 'docker-1090', ...at]));
    return { accel: state.resources.accel ?? null, upMs: Math.round(upMs), upGuestCpuS, peakRssMiB: rss, downMs: Math.round(downMs), verdicts: run.verdicts };
  } finally {
    if (before === undefined) delete vars.LAB_ACCEL;
    else vars.LAB_ACCEL = before;
  }
}

function line10(kernel: string) {
  const topo = generate('line', 10, 'bench-vm-line-10');
  const dir = path.join(benchHome, 'labs', 'vm-line-10');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'lab.yaml');
  fs.writeFileSync(file, topo.yaml);
  const at = ['--instance', INSTANCE, '--kernel', kernel];
  const upMs = timed(() => lab(['up', file, '--provider', 'qemu', ...at]));
  const upGuestCpuS = guestCpuTotal(stateOf(`bench-vm-line-10+${INSTANCE}@${kernel.replace('.', '-')}`));
  const downMs = timed(() => lab(['down', file, ...at]));
  return { nodes: 10, upMs: Math.round(upMs), upGuestCpuS, downMs: Math.round(downMs) };
}

export function benchVmNodes() {
  const kernel = process.env.BENCH_VM_KERNEL ?? '5.10';
  lab(['kernels', '--fetch', kernel]);
  const chosen = docker1090(kernel, undefined);
  log(`qemu provider, docker-1090 on ${kernel} (${chosen.accel}): ${JSON.stringify(chosen)}`);
  const runs = [chosen];
  if (chosen.accel === 'kvm') runs.push(docker1090(kernel, 'tcg'));
  const netns = labOutcome(['run', 'docker-1090', '--instance', NETNS_INSTANCE, '--kernel', kernel]);
  lab(['down', 'docker-1090', '--instance', NETNS_INSTANCE, '--kernel', kernel]);
  const sameAsNetns = runs.map((r) => r.verdicts.filter((v, i) => v === netns.verdicts[i]).length);
  log(`netns inside one ${kernel} guest: ${netns.verdicts.join(' ')}; equal verdicts: ${sameAsNetns.join(', ')} of ${netns.verdicts.length}`);
  const line = line10(kernel);
  log(`qemu provider, 10-node line on ${kernel}: up ${line.upMs} ms (guests' CPU ${line.upGuestCpuS} s), down ${line.downMs} ms`);
  return { kernel, docker1090: runs, netnsVerdicts: netns.verdicts, sameAsNetns, line10: line };
}
