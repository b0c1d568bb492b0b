/**
 * A kernel's QEMU guest: direct kernel boot under software emulation (TCG; /dev/kvm is never used),
 * the host's root read-only over virtio 9p, the lab's work folder read-write at its host path, the
 * extracted kernel for on-demand modules, no network device, and the exec channel on a unix socket.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { startService } from '../transport/process.js';
import type { CachedKernel } from './cache.js';
import { GuestChannel } from './channel.js';
import { buildInitramfs } from './initramfs.js';
import { bootImage } from './vmlinux.js';

/** Memory of one guest: 1 GiB of RAM plus a 256 MiB translation cache keeps QEMU's RSS near 1.3 GiB. */
export const GUEST_MEMORY_MIB = 1024;
export const TB_SIZE_MIB = 256;
/**
 * An x86-64-v2 model (what Debian and RHEL 9 binaries may require) with RDRAND for the guest's early
 * randomness; with -cpu max, Python and the tools ran at about half the speed under TCG (docs/measurements.md).
 */
export const GUEST_CPU = 'Nehalem,+rdrand';
/**
 * Kernel arguments that only skip work a lab guest does not need: crypto self-tests (0.6 s of a 5.10
 * boot under TCG), ACPI's PCI interrupt routing (1 s while the virtio modules load), and the CPU-bug
 * mitigations: the guest runs only the lab's own programs, and under TCG page-table isolation makes every
 * system call switch page tables, which QEMU pays as a flush of its software TLB. None of them changes
 * what the network stack or netfilter do.
 */
const FAST_BOOT_ARGS = ['cryptomgr.notests', 'pci=noacpi', 'mitigations=off'];
const SAFE_PATH = /^\/[A-Za-z0-9._/+@-]*$/;

export interface GuestFiles {
  /** The folder the guest shares read-write at the same path (the lab's work folder). */
  workDir: string;
  socket: string;
  pidFile: string;
  console: string;
  /** QEMU's own output. */
  log: string;
}

export function guestFiles(workDir: string): GuestFiles {
  return {
    workDir,
    socket: path.join(workDir, 'guest.sock'),
    pidFile: path.join(workDir, 'qemu.pid'),
    console: path.join(workDir, 'console.log'),
    log: path.join(workDir, 'qemu.log'),
  };
}

/** A virtual NIC joined to one other guest's: a unix datagram socket of its own, sending to the peer's (QEMU 7.2's dgram netdev). */
export interface GuestNic {
  mac: string;
  local: string;
  remote: string;
}

/** How big a guest is and how it runs: the one guest of a whole lab (the default), or one node of many. */
export interface GuestShape {
  memoryMib: number;
  tbSizeMib: number;
  cpus: number;
  accel: 'tcg' | 'kvm';
  nics: GuestNic[];
  /** More virtio-serial ports beside the exec channel's, each on a unix socket of its own (the qemu provider's sshd). */
  ports?: GuestPort[];
}

export interface GuestPort {
  name: string;
  socket: string;
}

export const WHOLE_LAB_GUEST: GuestShape = { memoryMib: GUEST_MEMORY_MIB, tbSizeMib: TB_SIZE_MIB, cpus: 2, accel: 'tcg', nics: [] };

/** KVM's guest CPU: the host's, without the MSR (0x10a) that some hosts refuse to let a guest read. */
const KVM_CPU = 'host,-arch-capabilities';

function portArgs(ports: GuestPort[]): string[] {
  return ports.flatMap((port, i) => [
    '-chardev',
    `socket,id=port${i},path=${port.socket},server=on,wait=off`,
    '-device',
    `virtserialport,chardev=port${i},name=${port.name}`,
  ]);
}

function nicArgs(nics: GuestNic[]): string[] {
  return nics.flatMap((nic, i) => [
    '-netdev',
    `dgram,id=n${i},local.type=unix,local.path=${nic.local},remote.type=unix,remote.path=${nic.remote}`,
    '-device',
    `virtio-net-pci,netdev=n${i},mac=${nic.mac}`,
  ]);
}

export function qemuArgv(kernel: CachedKernel, boot: { image: string; initrd: string }, files: GuestFiles, shape: GuestShape = WHOLE_LAB_GUEST): string[] {
  const ports = shape.ports ?? [];
  for (const p of [files.workDir, kernel.root, packageRoot, ...shape.nics.flatMap((n) => [n.local, n.remote]), ...ports.map((port) => port.socket)]) {
    if (SAFE_PATH.test(p)) continue;
    throw new LabError(`the path ${p} cannot be handed to the guest`, {
      hint: 'use folders whose names have only letters, digits and . _ - + @',
      kind: 'usage',
    });
  }
  const share = (id: string, dir: string, readonly: boolean) => [
    '-fsdev',
    `local,id=${id},path=${dir},security_model=none,multidevs=remap${readonly ? ',readonly=on' : ''}`,
    '-device',
    `virtio-9p-pci,fsdev=${id},mount_tag=${id}`,
  ];
  const append = [
    'console=ttyS0',
    'panic=-1',
    'quiet',
    'loglevel=4',
    ...FAST_BOOT_ARGS,
    `lab.work=${files.workDir}`,
    `lab.pkg=${packageRoot}`,
    `lab.server=${path.join(packageRoot, 'guest', 'server.py')}`,
  ];
  return [
    'qemu-system-x86_64',
    ...(shape.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', KVM_CPU] : ['-accel', `tcg,thread=multi,tb-size=${shape.tbSizeMib}`, '-cpu', GUEST_CPU]),
    '-m',
    String(shape.memoryMib),
    '-smp',
    String(shape.cpus),
    '-display',
    'none',
    '-monitor',
    'none',
    '-serial',
    `file:${files.console}`,
    '-nic',
    'none',
    ...nicArgs(shape.nics),
    '-no-reboot',
    '-pidfile',
    files.pidFile,
    '-kernel',
    boot.image,
    '-initrd',
    boot.initrd,
    '-append',
    append.join(' '),
    ...share('root', '/', true),
    ...share('kernel', kernel.root, true),
    // The package itself (the exec server, agents, docker-proxy) at its own path: under /tmp it would be hidden by the guest's tmpfs.
    ...share('pkg', packageRoot, true),
    ...share('work', files.workDir, false),
    '-device',
    'virtio-serial-pci',
    '-chardev',
    `socket,id=lab,path=${files.socket},server=on,wait=off`,
    '-device',
    'virtserialport,chardev=lab,name=lab.0',
    ...portArgs(ports),
  ];
}

/** Start QEMU (detached, it outlives this command); `onPid` records it before the guest boots further. */
export async function bootGuest(kernel: CachedKernel, files: GuestFiles, onPid: (pid: number) => void, shape: GuestShape = WHOLE_LAB_GUEST): Promise<number> {
  fs.mkdirSync(files.workDir, { recursive: true });
  fs.rmSync(files.socket, { force: true });
  const [initrd, image] = await Promise.all([buildInitramfs(kernel), bootImage(kernel)]);
  const { pid } = await startService(qemuArgv(kernel, { image, initrd }, files, shape), files.log, 200);
  onPid(pid);
  return pid;
}

/** Wait until the exec server answers; returns the guest's `uname -r` and the time it took. */
export async function waitReady(files: GuestFiles, pid: number, timeoutMs = 120_000): Promise<{ release: string; ms: number }> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (!alive(pid)) break;
    const channel = await GuestChannel.connect(files.socket, 2000).catch(() => undefined);
    if (channel) {
      const release = await channel.ready(3000);
      channel.close();
      if (release) return { release, ms: Date.now() - started };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const tail = readTail(files.console);
  const what = alive(pid) ? `the guest did not answer within ${timeoutMs / 1000} s` : 'the guest stopped while booting';
  throw new LabError(what, { details: tail, hint: `console: ${files.console}`, kind: 'failure' });
}

function readTail(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-6);
  } catch {
    return [];
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Is this pid the QEMU of this guest (and not a recycled pid)? */
export function isOurQemu(pid: number, files: GuestFiles): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('qemu-system') && cmdline.includes(files.socket);
  } catch {
    return false;
  }
}

/** Stop the guest: SIGTERM (QEMU quits at once), then SIGKILL; true when one was stopped. */
export async function stopGuest(files: GuestFiles, recordedPid?: number): Promise<boolean> {
  const fromFile = Number(readOr(files.pidFile).trim()) || undefined;
  const pids = [...new Set([recordedPid, fromFile].filter((p): p is number => p !== undefined))].filter((p) => isOurQemu(p, files));
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
  return pids.length > 0;
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
