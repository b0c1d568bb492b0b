/**
 * A real dockerd (with the containerd it supervises) for one docker-host node, started inside the node's network
 * namespace with every folder, socket and pid file of its own under the lab's work folder, and stopped so that nothing
 * of it outlives the lab: containers, dockerd, containerd, shims, docker-proxy, mounts, cgroups, the folder.
 *
 * `nsenter --net`, not `ip netns exec`: the latter remounts /sys for the namespace, the cgroup mounts vanish and dockerd
 * stops with "Devices cgroup isn't mounted".
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../errors.js';
import { labHome } from '../paths.js';
import { runCommand, type CommandResult, type RunOptions } from '../transport/process.js';
import { localRunner, type Runner } from '../transport/runner.js';
import type { EngineBinaries } from './cache.js';

/** What `lab down` needs to stop a node's engine, recorded in the lab's state before the daemon starts. */
export interface DaemonRecord {
  node: string;
  /** "20.10", "26.1" or "host". */
  series: string;
  namespace: string;
  dir: string;
  /** Containers go into this cgroup (per controller), one of this daemon's own. */
  cgroupParent: string;
  binaries: EngineBinaries;
  /**
   * A daemon inside a lab kernel's QEMU guest: its data root, exec root, socket and pid file in this folder of the guest's
   * own tmpfs (gone with the guest), its commands through the guest's exec channel; its log and config stay in `dir`.
   */
  guestDir?: string;
  pid?: number;
  /** `docker version` of the daemon itself, once it answered. */
  version?: string;
}

export interface DaemonSettings {
  /** The default bridge's gateway/prefix (--bip). */
  bip: string;
  userlandProxy: boolean;
}

/** dockerd's and containerd's fixed folders outside --exec-root (plugins, shim sockets). */
const FIXED_DIRS = ['/run/docker', '/run/docker/plugins', '/run/containerd', '/run/containerd/s'];

export function daemonFiles(dir: string, runDir = dir) {
  return {
    data: path.join(runDir, 'data'),
    exec: path.join(runDir, 'run'),
    pidfile: path.join(runDir, 'dockerd.pid'),
    socket: path.join(runDir, 'docker.sock'),
    log: path.join(dir, 'dockerd.log'),
    config: path.join(dir, 'daemon.json'),
    containerdConfig: path.join(dir, 'containerd.toml'),
    containerdSocket: path.join(runDir, 'run', 'containerd', 'containerd.sock'),
    containerdLog: path.join(dir, 'containerd.log'),
    client: path.join(dir, 'client'),
  };
}

export function cgroupParentOf(labId: string, node: string): string {
  return `lab-${labId}-${node}`.replace(/[^A-Za-z0-9_.-]/g, '_');
}

const filesOf = (record: Pick<DaemonRecord, 'dir' | 'guestDir'>) => daemonFiles(record.dir, record.guestDir);

/** The docker client against this daemon, with a client config folder of its own (never the user's ~/.docker). */
export function docker(record: DaemonRecord, args: readonly string[], options: RunOptions = {}, runner: Runner = localRunner): Promise<CommandResult> {
  const files = filesOf(record);
  return runner.run([record.binaries.docker, '-H', `unix://${files.socket}`, ...args], {
    timeoutMs: 60_000 * (runner.slowdown ?? 1),
    ...options,
    env: { DOCKER_CONFIG: files.client, ...options.env },
  });
}

export function dockerdArgv(record: DaemonRecord, settings: DaemonSettings): string[] {
  const files = filesOf(record);
  return [
    'nsenter',
    `--net=/run/netns/${record.namespace}`,
    'env',
    `PATH=${record.binaries.path}`,
    record.binaries.dockerd,
    // Its own empty configuration: a daemon.json of the machine's Docker must not reach the lab's.
    `--config-file=${files.config}`,
    `--data-root=${files.data}`,
    `--exec-root=${files.exec}`,
    `--pidfile=${files.pidfile}`,
    `--host=unix://${files.socket}`,
    '--storage-driver=vfs',
    `--cgroup-parent=/${record.cgroupParent}`,
    `--bip=${settings.bip}`,
    `--userland-proxy=${settings.userlandProxy}`,
    `--userland-proxy-path=${record.binaries.dockerProxy}`,
    ...(record.guestDir ? [`--containerd=${files.containerdSocket}`] : []),
  ];
}

/**
 * In a guest, containerd is started first and waited for here: dockerd gives the containerd it starts itself 15 s
 * (startupTimeout in moby's libcontainerd/supervisor), which a loaded machine's software-emulated guest overruns. Its
 * configuration is what dockerd writes for its own (cri off), with the snapshotters dockerd's vfs driver never uses off too.
 */
export function containerdArgv(record: DaemonRecord): string[] {
  const files = filesOf(record);
  const bin = path.join(path.dirname(record.binaries.docker), 'containerd');
  return ['nsenter', `--net=/run/netns/${record.namespace}`, 'env', `PATH=${record.binaries.path}`, bin, `--config=${files.containerdConfig}`];
}

function containerdConfig(record: DaemonRecord): string {
  const files = filesOf(record);
  const unused = ['grpc.v1.cri', 'snapshotter.v1.aufs', 'snapshotter.v1.btrfs', 'snapshotter.v1.zfs', 'snapshotter.v1.devmapper'];
  return [
    'version = 2',
    `root = ${JSON.stringify(path.join(files.data, 'containerd'))}`,
    `state = ${JSON.stringify(path.join(files.exec, 'containerd'))}`,
    `disabled_plugins = [${unused.map((p) => JSON.stringify(`io.containerd.${p}`)).join(', ')}]`,
    '[grpc]',
    `  address = ${JSON.stringify(files.containerdSocket)}`,
    '',
  ].join('\n');
}

async function startGuestContainerd(record: DaemonRecord, runner: Runner, deadline: number): Promise<void> {
  const files = filesOf(record);
  fs.writeFileSync(files.containerdConfig, containerdConfig(record));
  const { pid } = await runner.service(containerdArgv(record), files.containerdLog, 50);
  // containerd makes its socket once it serves; `test -S`, not `ctr version`: a Go client takes seconds to start under TCG.
  for (;;) {
    const out = await runner.run(['test', '-S', files.containerdSocket], { check: false }).catch(() => undefined);
    if (out?.exitCode === 0) return;
    if (!(await aliveIn(runner, pid)) || Date.now() > deadline)
      throw new LabError(`containerd of Docker ${record.series} did not start on ${record.node}`, {
        details: tail(files.containerdLog, 5),
        hint: `its log: ${files.containerdLog}`,
        kind: 'failure',
      });
    await sleep(500);
  }
}

/** Starts the daemon and waits until it answers; the record with its pid goes to `started` as soon as there is one (for the state). */
export async function startDaemon(
  record: DaemonRecord,
  settings: DaemonSettings,
  started: (record: DaemonRecord) => void,
  timeoutMs = 60_000,
  runner: Runner = localRunner,
): Promise<DaemonRecord> {
  const files = filesOf(record);
  fs.mkdirSync(files.client, { recursive: true });
  fs.writeFileSync(files.config, '{}\n');
  // A guest's /run is its own tmpfs: nothing is made on this machine's.
  if (!record.guestDir) noteMadeDirs(FIXED_DIRS.filter((d) => !fs.existsSync(d)));
  const slowdown = runner.slowdown ?? 1;
  const deadline = Date.now() + timeoutMs * slowdown;
  if (record.guestDir) await startGuestContainerd(record, runner, deadline);
  const { pid } = await runner.service(dockerdArgv(record, settings), files.log, 50);
  started({ ...record, pid });
  const running = () => (record.guestDir ? aliveIn(runner, pid) : alive(pid));
  for (;;) {
    const out = await docker(record, ['version', '--format', '{{.Server.Version}}'], { check: false, timeoutMs: 10_000 * slowdown }, runner).catch(
      () => undefined,
    );
    if (out?.exitCode === 0 && out.stdout.trim()) return { ...record, pid, version: out.stdout.trim() };
    const up = await running();
    if (!up || Date.now() > deadline) {
      throw new LabError(`Docker ${record.series} did not start on ${record.node}${up ? ` within ${(timeoutMs * slowdown) / 1000} s` : ''}`, {
        details: tail(files.log, 5),
        hint: `its log: ${files.log}`,
        kind: 'failure',
      });
    }
    await sleep(200);
  }
}

/**
 * Containers first (or their shims stay), then dockerd by its pid, then whatever is left of it; says what it removed.
 * Without its binaries (a folder found with no state) the containers go with the sweep of what is left.
 */
export async function stopDaemon(record: Omit<DaemonRecord, 'binaries'> & { binaries?: EngineBinaries }): Promise<string[]> {
  const files = daemonFiles(record.dir);
  const removed: string[] = [];
  const pid = record.pid ?? readPid(files.pidfile);
  const running = pid !== undefined && isDaemon(pid, record.dir);
  if (running && record.binaries && fs.existsSync(files.socket)) {
    const client = { ...record, binaries: record.binaries };
    const ids = await docker(client, ['ps', '-aq'], { check: false, timeoutMs: 15_000 }).catch(() => undefined);
    const list = (ids?.stdout ?? '').split('\n').filter(Boolean);
    if (list.length) {
      const out = await docker(client, ['rm', '-f', ...list], { check: false, timeoutMs: 60_000 }).catch(() => undefined);
      if (out?.exitCode === 0) removed.push(`${list.length} container(s) of Docker ${record.series} on ${record.node}`);
    }
  }
  if (running) {
    await stopProcess(pid);
    removed.push(`dockerd ${record.series} on ${record.node} (process ${pid})`);
  }
  const left = leftoverProcesses(record);
  for (const p of left) signal(p.pid, 'SIGKILL');
  await waitGone(
    left.map((p) => p.pid),
    5000,
  );
  if (left.length) removed.push(`${left.map((p) => `${p.name} (${p.pid})`).join(', ')} left by Docker ${record.series} on ${record.node}`);
  const sockets = removeShimSockets(record.dir);
  if (sockets) removed.push(`${sockets} shim socket(s) in /run/containerd/s`);
  const unmounted = await unmountUnder(record.dir);
  if (unmounted) removed.push(`${unmounted} mount(s) under ${record.dir}`);
  const cgroups = removeCgroups(record.cgroupParent);
  if (cgroups) removed.push(`${cgroups} cgroup folder(s) ${record.cgroupParent}`);
  removeMadeDirs(record.dir);
  if (fs.existsSync(record.dir)) {
    fs.rmSync(record.dir, { recursive: true, force: true });
    removed.push(`folder ${record.dir}`);
  }
  return removed;
}

/**
 * A shim's socket is /run/containerd/s/<sha256 of containerd's address/namespace/container id> (containerd's
 * shim.SocketAddress); a shim that exits cleanly removes it, a killed one leaves it. Found from the containers in the
 * data root, so even containers the state never recorded.
 */
export function shimSockets(dir: string): string[] {
  const address = path.join(daemonFiles(dir).exec, 'containerd', 'containerd.sock');
  let ids: string[];
  try {
    ids = fs.readdirSync(path.join(daemonFiles(dir).data, 'containers'));
  } catch {
    return [];
  }
  return ids.map((id) =>
    path.join(
      '/run/containerd/s',
      createHash('sha256')
        .update(path.join(address, 'moby', id))
        .digest('hex'),
    ),
  );
}

function removeShimSockets(dir: string): number {
  let count = 0;
  for (const socket of shimSockets(dir)) {
    try {
      fs.rmSync(socket);
      count++;
    } catch {
      // not there: its shim ended cleanly
    }
  }
  return count;
}

/**
 * dockerd and containerd make /run/docker/plugins and /run/containerd/s whatever their roots. The ones no Docker had made
 * before a lab's are listed in the lab home, and removed (when empty) by the last of the lab engines to stop: copies of a
 * lab start and stop their engines at once.
 */
const madeDirsFile = () => path.join(labHome(), 'engine-made-dirs.json');

function noteMadeDirs(dirs: string[]): void {
  if (dirs.length === 0) return;
  const known = readMadeDirs();
  fs.mkdirSync(labHome(), { recursive: true });
  fs.writeFileSync(madeDirsFile(), `${JSON.stringify([...new Set([...known, ...dirs])])}\n`);
}

function readMadeDirs(): string[] {
  try {
    return JSON.parse(fs.readFileSync(madeDirsFile(), 'utf8')) as string[];
  } catch {
    return [];
  }
}

function removeMadeDirs(stopped: string): void {
  const made = readMadeDirs();
  if (made.length === 0 || otherLabDaemons(stopped)) return;
  for (const dir of [...made].sort((a, b) => b.length - a.length)) {
    try {
      fs.rmdirSync(dir);
    } catch {
      // not empty, or gone
    }
  }
  fs.rmSync(madeDirsFile(), { force: true });
}

/** A dockerd of another lab engine (its data root under the lab home) still running. */
function otherLabDaemons(stopped: string): boolean {
  const root = `--data-root=${path.join(labHome(), 'work')}/`;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (alive(Number(entry)) && args.some((a) => a.startsWith(root) && !a.startsWith(`--data-root=${stopped}/`))) return true;
    } catch {
      // ended meanwhile
    }
  }
  return false;
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    // A zombie (exited, not reaped by its parent) counts as gone.
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The same question asked where the process runs (a guest's /proc, through its runner). */
async function aliveIn(runner: Runner, pid: number): Promise<boolean> {
  const stat = await runner.run(['cat', `/proc/${pid}/stat`], { check: false }).catch(() => undefined);
  return stat?.exitCode === 0 && !/^\d+ \(.*\) Z/.test(stat.stdout);
}

/** A guest's daemon: its dockerd, by pid and folder, in the guest's /proc. */
export async function daemonRunningIn(runner: Runner, record: Pick<DaemonRecord, 'pid' | 'dir'>): Promise<boolean> {
  if (record.pid === undefined) return false;
  const cmdline = await runner.run(['cat', `/proc/${record.pid}/cmdline`], { check: false }).catch(() => undefined);
  return cmdline?.exitCode === 0 && cmdline.stdout.includes('dockerd') && cmdline.stdout.includes(record.dir) && (await aliveIn(runner, record.pid));
}

export function daemonRunning(record: Pick<DaemonRecord, 'pid' | 'dir'>): boolean {
  return record.pid !== undefined && isDaemon(record.pid, record.dir);
}

/** The pid is this daemon's dockerd, not a process that got the number since. */
function isDaemon(pid: number, dir: string): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return alive(pid) && cmdline.includes('dockerd') && cmdline.includes(dir);
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone already
  }
}

async function stopProcess(pid: number): Promise<void> {
  signal(pid, 'SIGTERM');
  if (await waitGone([pid], 15_000)) return;
  signal(pid, 'SIGKILL');
  await waitGone([pid], 5000);
}

async function waitGone(pids: number[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (pids.some(alive)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

const ENGINE_PROGRAMS = new Set(['dockerd', 'containerd', 'containerd-shim', 'containerd-shim-runc-v1', 'containerd-shim-runc-v2', 'docker-proxy', 'runc']);

/**
 * Processes of this engine still running: any whose command line names the engine's folder (containerd, shims), any in
 * its containers' cgroup, and Docker's programs (docker-proxy among them) inside the node's namespace, found by inode.
 */
export function leftoverProcesses(record: Pick<DaemonRecord, 'dir' | 'cgroupParent' | 'namespace'>): Array<{ pid: number; name: string }> {
  let nsInode: number | undefined;
  try {
    nsInode = fs.statSync(`/run/netns/${record.namespace}`).ino;
  } catch {
    nsInode = undefined;
  }
  const found: Array<{ pid: number; name: string }> = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const pid = Number(entry);
    try {
      if (!alive(pid)) continue;
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const name = path.basename(cmdline[0] ?? '');
      const inCgroup = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`/${record.cgroupParent}/`);
      const namesDir = cmdline.some((arg) => arg.includes(record.dir));
      const inNode = nsInode !== undefined && ENGINE_PROGRAMS.has(name) && Number(/\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${pid}/ns/net`))?.[1]) === nsInode;
      if (inCgroup || namesDir || inNode) found.push({ pid, name });
    } catch {
      // it ended while we looked
    }
  }
  return found;
}

/** Mount points at or under dir, deepest first, from /proc/self/mountinfo (its fifth field, octal escapes decoded). */
export function mountsUnder(dir: string): string[] {
  const text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const points = text
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => Boolean(p))
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

async function unmountUnder(dir: string): Promise<number> {
  let count = 0;
  for (let round = 0; round < 5; round++) {
    const points = mountsUnder(dir);
    if (points.length === 0) break;
    for (const point of points) {
      const out = await runCommand(['umount', point], { check: false });
      if (out.exitCode !== 0) await runCommand(['umount', '-l', point], { check: false });
      count++;
    }
  }
  return count;
}

/** cgroup folders named cgroupParent in every hierarchy (v1 controllers and a v2 root), children first. */
export function cgroupDirs(cgroupParent: string): string[] {
  const root = '/sys/fs/cgroup';
  const hierarchies = fs.existsSync(path.join(root, 'cgroup.controllers'))
    ? [root]
    : fs.existsSync(root)
      ? fs.readdirSync(root).map((d) => path.join(root, d))
      : [];
  return hierarchies.map((h) => path.join(h, cgroupParent)).filter((d) => fs.existsSync(d));
}

function removeCgroups(cgroupParent: string): number {
  let count = 0;
  for (const dir of cgroupDirs(cgroupParent)) {
    try {
      for (const child of fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory())) fs.rmdirSync(path.join(dir, child.name));
      fs.rmdirSync(dir);
      count++;
    } catch {
      // a process still in it; lab down again removes it
    }
  }
  return count;
}

function tail(file: string, lines: number): string[] {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines);
  } catch {
    return [`no log at ${file}`];
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
