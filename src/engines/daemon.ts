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
import { api, pingVersion } from './api.js';

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
  /** The containerd this lab started for the daemon (before it, and given to it with --containerd). */
  containerdPid?: number;
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

/** Where a host engine's short link lives (see socketDir). */
export const SOCKET_LINKS = '/run/lab-engines';

/**
 * containerd refuses a unix socket path over 104 bytes, which a lab's work folder (LAB_HOME, a long lab name, an instance,
 * a variant copy) reaches: a host engine's sockets and exec root are reached through a short link to its folder instead.
 */
export function socketDir(dir: string): string {
  return path.join(SOCKET_LINKS, createHash('sha256').update(dir).digest('hex').slice(0, 16));
}

/** `runDir`: a guest engine's own folder on the guest's tmpfs (data, exec root, sockets); a host engine's sockets go by socketDir. */
export function daemonFiles(dir: string, runDir?: string) {
  const short = runDir ?? socketDir(dir);
  return {
    data: path.join(runDir ?? dir, 'data'),
    exec: path.join(short, 'run'),
    pidfile: path.join(runDir ?? dir, 'dockerd.pid'),
    socket: path.join(short, 'docker.sock'),
    log: path.join(dir, 'dockerd.log'),
    config: path.join(dir, 'daemon.json'),
    containerdConfig: path.join(dir, 'containerd.toml'),
    // Where the lab's containerd listens: shim socket names are hashed from it (shimSockets).
    containerdSocket: path.join(short, 'run', 'containerd', 'containerd.sock'),
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

/** The start of an engine program's command line: in the node's network namespace, with the engine's own PATH. */
function inNodeNamespace(record: DaemonRecord): string[] {
  return ['nsenter', `--net=/run/netns/${record.namespace}`, 'env', `PATH=${record.binaries.path}`];
}

export function dockerdArgv(record: DaemonRecord, settings: DaemonSettings): string[] {
  const files = filesOf(record);
  return [
    ...inNodeNamespace(record),
    record.binaries.dockerd,
    // Its own empty configuration: a daemon.json of the machine's Docker must not reach the lab's.
    `--config-file=${files.config}`,
    `--data-root=${files.data}`,
    `--exec-root=${files.exec}`,
    `--pidfile=${files.pidfile}`,
    `--host=unix://${files.socket}`,
    `--containerd=${files.containerdSocket}`,
    '--storage-driver=vfs',
    `--cgroup-parent=/${record.cgroupParent}`,
    `--bip=${settings.bip}`,
    `--userland-proxy=${settings.userlandProxy}`,
    `--userland-proxy-path=${record.binaries.dockerProxy}`,
  ];
}

/**
 * containerd started by the lab, not by dockerd: a managed containerd is polled by dockerd at its own pace (about 1 s
 * from containerd serving to dockerd going on, measured), while one given with --containerd is dialled at once; and in a
 * guest dockerd gives the containerd it starts itself 15 s (startupTimeout in moby's libcontainerd/supervisor), which a
 * loaded machine's software-emulated guest overruns. The folders are those dockerd gives its managed one; the CRI plugin
 * is off as dockerd has it, and so are the snapshotters dockerd's vfs driver never uses.
 */
export function containerdConfig(record: Pick<DaemonRecord, 'dir' | 'guestDir'>): string {
  const files = filesOf(record);
  const q = (s: string) => JSON.stringify(s);
  return [
    'version = 2',
    `root = ${q(path.join(files.data, 'containerd', 'daemon'))}`,
    `state = ${q(path.join(files.exec, 'containerd', 'daemon'))}`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]',
    '[grpc]',
    `  address = ${q(files.containerdSocket)}`,
    '',
  ].join('\n');
}

export function containerdArgv(record: DaemonRecord): string[] {
  const files = filesOf(record);
  return [
    ...inNodeNamespace(record),
    // found on PATH by env, as dockerd finds the containerd it would manage
    'containerd',
    `--config=${files.containerdConfig}`,
  ];
}

/**
 * Where the daemon runs, and how the lab sees it there. On this machine: its processes in this /proc, its sockets
 * reached from Node (files, the Engine API). In a guest (guestDir): the guest's /proc and its sockets through the
 * guest's runner (Node cannot reach a socket on the guest's tmpfs, and 9p carries none), polled less often: every
 * command is a round trip through the guest's exec channel. `test -S`, not `ctr version`: a Go client takes seconds
 * to start under TCG.
 */
function probesOf(record: DaemonRecord, runner: Runner) {
  const files = filesOf(record);
  const slowdown = runner.slowdown ?? 1;
  if (!record.guestDir)
    return {
      slowdown,
      pollMs: { containerd: 5, dockerd: 15 },
      running: async (pid: number) => alive(pid),
      containerdServes: async () => fs.existsSync(files.containerdSocket),
      version: async () => {
        const version = await pingVersion(files.socket);
        return version === '' ? (await api<{ Version: string }>(files.socket, 'GET', '/version')).Version : version;
      },
    };
  return {
    slowdown,
    pollMs: { containerd: 500, dockerd: 200 },
    running: (pid: number) => aliveIn(runner, pid),
    containerdServes: async () => (await runner.run(['test', '-S', files.containerdSocket], { check: false }).catch(() => undefined))?.exitCode === 0,
    version: async () => {
      const out = await docker(record, ['version', '--format', '{{.Server.Version}}'], { check: false, timeoutMs: 10_000 * slowdown }, runner).catch(
        () => undefined,
      );
      return out?.exitCode === 0 && out.stdout.trim() ? out.stdout.trim() : undefined;
    },
  };
}

/** Starts containerd, then the daemon, and waits until it answers; the record with each pid goes to `started` as soon as there is one (for the state). */
export async function startDaemon(
  record: DaemonRecord,
  settings: DaemonSettings,
  started: (record: DaemonRecord) => void,
  timeoutMs = 60_000,
  // Work that must be done before dockerd starts (the image files, containers.ts), begun by the caller; awaited after containerd's spawn.
  beforeDockerd: Promise<unknown> = Promise.resolve(),
  runner: Runner = localRunner,
): Promise<DaemonRecord> {
  const files = filesOf(record);
  const probe = probesOf(record, runner);
  fs.mkdirSync(files.client, { recursive: true });
  fs.writeFileSync(files.containerdConfig, containerdConfig(record));
  // Bounded disk use: container logs of the lab's containers rotate at 1 MB (stdout of `sleep`, and whatever an agent prints there).
  // LAB_ENGINE_TIMES (profiling, bench/engines.ts): the daemon's debug log too, each iptables call and container step timed.
  const debug = process.env.LAB_ENGINE_TIMES ? { debug: true } : {};
  fs.writeFileSync(files.config, `${JSON.stringify({ 'log-opts': { 'max-size': '1m', 'max-file': '1' }, ...debug })}\n`);
  // A guest's /run is its own tmpfs: nothing is made on this machine's.
  if (!record.guestDir) {
    noteMadeDirs(FIXED_DIRS.filter((d) => !fs.existsSync(d)));
    linkSocketDir(record.dir);
  }
  const limitMs = timeoutMs * probe.slowdown;
  const deadline = Date.now() + limitMs;
  const failed = async (what: string, pid: number, log: string) =>
    new LabError(`${what} ${record.series} did not start on ${record.node}${(await probe.running(pid)) ? ` within ${limitMs / 1000} s` : ''}`, {
      details: tail(log, 5),
      hint: `its log: ${log}`,
      kind: 'failure',
    });
  const readyMs = record.guestDir ? 50 : 5;
  const containerd = await runner.service(containerdArgv(record), files.containerdLog, readyMs);
  record = { ...record, containerdPid: containerd.pid };
  started(record);
  await beforeDockerd;
  const containerdGone = async () =>
    !(await probe.running(containerd.pid)) ? await failed('containerd of Docker', containerd.pid, files.containerdLog) : undefined;
  // On this machine dockerd starts beside containerd: its own start (a 90 MB Go program, 0.2 to 0.4 s here) is as long as
  // containerd's boot, and it dials containerd's socket again every 10 ms while the file is missing (containerd's
  // dialer.ContextDialer, which moby dials with). In a guest, where both share two emulated cores, one after the other.
  if (record.guestDir)
    while (!(await probe.containerdServes())) {
      if (Date.now() > deadline) throw await failed('containerd of Docker', containerd.pid, files.containerdLog);
      const gone = await containerdGone();
      if (gone) throw gone;
      await sleep(probe.pollMs.containerd);
    }
  const { pid } = await runner.service(dockerdArgv(record, settings), files.log, readyMs);
  started({ ...record, pid });
  for (;;) {
    const version = await probe.version();
    if (version) return { ...record, pid, version };
    const gone = await containerdGone();
    if (gone) throw gone;
    if (!(await probe.running(pid)) || Date.now() > deadline) throw await failed('Docker', pid, files.log);
    await sleep(probe.pollMs.dockerd);
  }
}

/**
 * Containers first (or their shims stay), then dockerd by its pid, then whatever is left of it; says what it removed.
 * Containers are removed over the API, so also those of a folder found with no state.
 */
export async function stopDaemon(record: Omit<DaemonRecord, 'binaries'> & { binaries?: EngineBinaries }): Promise<string[]> {
  const files = daemonFiles(record.dir);
  const removed: string[] = [];
  const pid = record.pid ?? readPid(files.pidfile);
  const running = pid !== undefined && isDaemon(pid, record.dir);
  if (running && fs.existsSync(files.socket)) {
    const list = await api<Array<{ Id: string }>>(files.socket, 'GET', '/containers/json?all=1').catch(() => []);
    const gone = await Promise.all(
      list.map((c) =>
        api(files.socket, 'DELETE', `/containers/${c.Id}?force=1`).then(
          () => 1,
          () => 0,
        ),
      ),
    );
    const count = gone.reduce<number>((a, b) => a + b, 0);
    if (count) removed.push(`${count} container(s) of Docker ${record.series} on ${record.node}`);
  }
  if (running) {
    await stopProcess(pid);
    removed.push(`dockerd ${record.series} on ${record.node} (process ${pid})`);
  }
  if (record.containerdPid !== undefined && isOwnContainerd(record.containerdPid, record.dir)) {
    await stopProcess(record.containerdPid);
    removed.push(`containerd of Docker ${record.series} on ${record.node} (process ${record.containerdPid})`);
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
  if (removeSocketLink(record.dir)) removed.push(`link ${socketDir(record.dir)}`);
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

function isOwnContainerd(pid: number, dir: string): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return alive(pid) && cmdline.includes('containerd') && cmdline.includes(dir);
  } catch {
    return false;
  }
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

function linkSocketDir(dir: string): void {
  fs.mkdirSync(SOCKET_LINKS, { recursive: true });
  fs.rmSync(socketDir(dir), { force: true });
  fs.symlinkSync(dir, socketDir(dir));
}

/** Removes the link (never what it points at); true when there was one. */
function removeSocketLink(dir: string): boolean {
  const link = socketDir(dir);
  try {
    fs.lstatSync(link);
  } catch {
    return false;
  }
  fs.unlinkSync(link);
  try {
    fs.rmdirSync(SOCKET_LINKS);
  } catch {
    // other labs' links are still there
  }
  return true;
}
