/**
 * The netns provider on another kernel: the lab's namespaces live inside a QEMU guest of that kernel
 * (src/kernels), the provider's commands reach them through the guest's exec channel, and taking the
 * lab down stops the guest, which takes every namespace, agent and service with it.
 */
import type { ResolvedLab } from '../../lab/model.js';
import { readState, workDir, writeState } from '../../state.js';
import type { Runner } from '../../transport/runner.js';
import { fetchKernel } from '../../kernels/cache.js';
import { GuestChannel } from '../../kernels/channel.js';
import { bootGuest, guestFiles, stopGuest, waitReady, alive, WHOLE_LAB_GUEST } from '../../kernels/guest.js';
import { guestAccel } from '../../kernels/accel.js';
import { guestRunner } from '../../kernels/runner.js';
import type { LabState } from '../../state.js';
import type { Step } from '../../ui/steps.js';
import type { EngineBinaries } from '../../engines/cache.js';
import path from 'node:path';

export interface GuestRecord {
  series: string;
  pid?: number;
  release?: string;
  bootMs?: number;
  /** KVM where the probe found it working, else software emulation (TCG). */
  accel?: 'tcg' | 'kvm';
}

export function guestOf(state: LabState | undefined): GuestRecord | undefined {
  return state?.resources.guest as GuestRecord | undefined;
}

export function bootStep(lab: ResolvedLab): Step {
  return {
    title: `Boot kernel ${lab.kernel} under QEMU`,
    run: async (progress) => {
      const kernel = await fetchKernel(lab.kernel!, progress);
      const files = guestFiles(workDir(lab.id));
      const record = (guest: GuestRecord) => {
        const state = readState(lab.id)!;
        writeState({ ...state, resources: { ...state.resources, guest } });
      };
      const accel = await guestAccel(kernel, (line) => process.stderr.write(`${line}\n`));
      progress(`booting ${kernel.release} under ${accel.toUpperCase()}`);
      const started = Date.now();
      const pid = await bootGuest(kernel, files, (p) => record({ series: lab.kernel!, pid: p, accel }), { ...WHOLE_LAB_GUEST, accel });
      const ready = await waitReady(files, pid);
      record({ series: lab.kernel!, pid, release: ready.release, bootMs: Date.now() - started, accel });
      progress('loading netfilter modules, warming the tools');
      await warmUp(guestRunnerOf(lab.id));
      if (needsBridgeNetfilter(lab)) await guestRunnerOf(lab.id).run(['/run/lab-modprobe', '-a', 'bridge', 'br_netfilter'], { timeoutMs: 180_000 });
    },
  };
}

/**
 * Whether the lab writes bridge filtering's sysctls (docker.bridgeNetfilter, net.bridge.*), which exist only once
 * br_netfilter is loaded. On this machine lab loads no module (it would change every bridge here); a guest is the lab's
 * own machine, where dockerd would load it (its bridge driver modprobes br_netfilter), so the guest loads it.
 */
export function needsBridgeNetfilter(lab: ResolvedLab): boolean {
  return lab.nodes.some(setsBridgeFiltering);
}

/**
 * Whether a node's netfilter is in play from the start (Docker's or Docker Desktop's rules, containers, conntrack
 * sysctls): the qemu provider warms the tools up only in such a node's guest. Elsewhere a first iptables, conntrack
 * or tcpdump in a run loads what it needs then (under a second, before its step's traffic): a 10-node line of
 * plain routers spent about 2 s of guest CPU per guest warming tools no step of it uses.
 */
export function usesNetfilter(node: ResolvedLab['nodes'][number]): boolean {
  return node.profile !== 'plain' || node.containers.length > 0 || Object.keys(node.sysctls).some((k) => k.startsWith('net.netfilter.'));
}

/** Whether a node writes bridge filtering's sysctls (docker.bridgeNetfilter, net.bridge.*). */
export function setsBridgeFiltering(node: ResolvedLab['nodes'][number]): boolean {
  return node.docker?.bridgeNetfilter !== undefined || Object.keys(node.sysctls).some((k) => k.startsWith('net.bridge.'));
}

const channels = new Map<string, GuestChannel>();

export function guestRunnerOf(labId: string): Runner {
  const socket = guestFiles(workDir(labId)).socket;
  let channel = channels.get(socket);
  if (!channel) {
    channel = GuestChannel.open(socket);
    channels.set(socket, channel);
  }
  return guestRunner(channel);
}

export async function stopGuestOf(labId: string, state: LabState | undefined): Promise<string[]> {
  const files = guestFiles(workDir(labId));
  const channel = channels.get(files.socket);
  channel?.close();
  channels.delete(files.socket);
  const guest = guestOf(state);
  return (await stopGuest(files, guest?.pid)) ? [`QEMU guest${guest ? ` of kernel ${guest.series}` : ''} (process ${guest?.pid ?? 'from its pid file'})`] : [];
}

/**
 * The first iptables, conntrack, tcpdump and python3 in a fresh guest load modules and read the tools over
 * 9p (seconds each under TCG): done once here, in a throwaway namespace, not inside the first variant's timing.
 */
export async function warmUp(runner: Runner): Promise<void> {
  const ns = 'lab-warmup';
  await runner.run(['ip', 'netns', 'add', ns]);
  try {
    const inNs = (...argv: string[]) => runner.run(['ip', 'netns', 'exec', ns, ...argv], { check: false, timeoutMs: 180_000 });
    await Promise.all([
      inNs('iptables', '-t', 'nat', '-L', '-n'),
      inNs('iptables', '-t', 'raw', '-L', '-n'),
      inNs('conntrack', '-S'),
      inNs('python3', '-c', 'import socket, json, select, struct, subprocess'),
      inNs('tcpdump', '--version'),
      runner.run(['modprobe', '-a', 'veth', 'xt_conntrack', 'xt_MASQUERADE', 'xt_addrtype', 'nf_conntrack_netlink'], { check: false, timeoutMs: 180_000 }),
    ]);
  } finally {
    await runner.run(['ip', 'netns', 'delete', ns], { check: false });
  }
}

/**
 * What a real dockerd needs of a guest that a plain lab guest does not have (its initramfs mounts only proc, sysfs and
 * devtmpfs): the cgroup v2 hierarchy at /sys/fs/cgroup (dockerd and runc refuse to run without cgroups), /dev/fd (runc
 * 1.1's nsexec re-executes its memfd/bind-mounted copy with execveat, which gives ENOENT without /dev/fd:
 * opencontainers/runc#2552), and the bridge and br_netfilter modules dockerd asks for (its own `modprobe` finds no
 * modules of this kernel on the host's root; the guest's wrapper does, as on a machine where dockerd loads them).
 */
export function engineHostStep(lab: ResolvedLab, binaries: EngineBinaries[]): Step {
  return {
    title: `Prepare the ${lab.kernel} guest for Docker (cgroup2, /dev/fd, bridge netfilter)`,
    run: async () => {
      const runner = guestRunnerOf(lab.id);
      // Read the engines' programs over 9p into the guest's page cache while the namespaces are made: a cold dockerd
      // took 10.2 s to print its version under TCG, 1.8 s once read (5.10, load 18). Not waited for.
      const programs = binaries.flatMap((b) => [
        b.dockerd,
        b.docker,
        ...['containerd', 'containerd-shim-runc-v2', 'runc'].map((p) => path.join(path.dirname(b.docker), p)),
      ]);
      if (programs.length) runner.start(['sh', '-c', 'cat "$@" > /dev/null 2>&1', 'prefetch', ...programs]);
      const mounts = await runner.run(['cat', '/proc/self/mountinfo']);
      if (!/ \/sys\/fs\/cgroup .* - cgroup2 /.test(mounts.stdout)) await runner.run(['mount', '-t', 'cgroup2', 'cgroup2', '/sys/fs/cgroup']);
      await runner.run(['ln', '-sfn', '/proc/self/fd', '/dev/fd']);
      await runner.run(['/run/lab-modprobe', '-a', 'bridge', 'br_netfilter', 'overlay'], { timeoutMs: 180_000 });
    },
  };
}

export function describeGuest(guest: GuestRecord): string {
  const running = guest.pid !== undefined && alive(guest.pid);
  const boot = guest.bootMs ? `, booted in ${(guest.bootMs / 1000).toFixed(1)} s` : '';
  return `kernel ${guest.release ?? guest.series} in a QEMU guest${guest.accel ? ` (${guest.accel.toUpperCase()})` : ''}, process ${guest.pid ?? '?'}${running ? '' : ' (not running)'}${boot}`;
}
