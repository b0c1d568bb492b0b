/**
 * Containers on a real engine: an image imported from a local busybox (no registry is reachable), run on the default
 * bridge with the host's /usr, /lib and /lib64 bound read-only (python3 and the lab's tools), published ports as
 * `docker run -p` gives them. The lab's agents reach a container through its network namespace (attached by name).
 */
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../errors.js';
import { runCommand } from '../transport/process.js';
import { daemonFiles, docker, type DaemonRecord } from './daemon.js';
import { api } from './api.js';
import { engineCacheDir } from './cache.js';
import { localRunner, type Runner } from '../transport/runner.js';
import { parseIp } from '../lab/ip.js';

export const IMAGE = 'lab-busybox:local';

export interface ContainerSpec {
  name: string;
  /** The address the lab gave it, which the default bridge must hand out. */
  address: string;
  publish: Array<{ hostIp: string; hostPort: number; containerPort: number; proto: 'tcp' | 'udp' }>;
}

export interface RunningContainer {
  name: string;
  id: string;
  pid: number;
  address: string;
}

const BUSYBOX = ['/usr/bin/busybox', '/bin/busybox'];
/**
 * The applets linked in the image: the container runs `sleep`, and agents and `lab exec` enter its namespace with the
 * host's tools; these serve `docker exec` by hand. Every file of the image is copied twice per container by vfs and
 * once per lab from the cache, so the 300-odd applets of busybox are not all linked.
 */
const APPLETS = 'sh sleep cat ls echo ps kill env true false id hostname mkdir rm cp mv grep sed awk head tail date uname ip ping nc wget'.split(' ');
const HOST_TOOLS = ['/usr', '/lib', '/lib64'];

/**
 * The image's files in a data root (vfs layers and the image store), kept once per engine series in the cache after
 * the first import: copying them in before dockerd starts costs a few ms, an import about 0.1 to 0.4 s.
 * Not for `host`: the machine's dockerd may change version under the same name.
 */
const IMAGE_PARTS = [path.join('image', 'vfs'), path.join('vfs', 'dir')];

export function imageSnapshotDir(series: string): string {
  return path.join(engineCacheDir(), series, 'image-root');
}

/**
 * Copies the cached image files into the daemon's data root, begun as the engine's step begins (while the node's
 * namespace is made and containerd starts) and awaited before dockerd starts; asynchronous, so the plan's step running
 * beside it is not held up. Only the image's parts are copied, and only they are removed on failure. False when there
 * are none yet, or the copy failed (the image is then imported).
 */
export async function seedImage(record: Pick<DaemonRecord, 'dir' | 'series' | 'guestDir'>): Promise<boolean> {
  const snapshot = imageSnapshotDir(record.series);
  // A guest's data root is on the guest's tmpfs, out of this process's reach.
  if (record.guestDir || record.series === 'host' || !IMAGE_PARTS.every((p) => fs.existsSync(path.join(snapshot, p)))) return false;
  const data = daemonFiles(record.dir).data;
  try {
    // In this process: a cp process cost 0.4 to 1.3 s at a load of 20 on 2 cores (most of it the spawn), this 10 to 60 ms.
    await Promise.all(
      IMAGE_PARTS.map((part) =>
        fs.promises.cp(path.join(snapshot, part), path.join(data, part), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true }),
      ),
    );
    return true;
  } catch (e) {
    if (process.env.LAB_ENGINE_TIMES) process.stderr.write(`engine-time: image files not copied: ${(e as Error).message}\n`);
    for (const part of IMAGE_PARTS) fs.rmSync(path.join(data, part), { recursive: true, force: true });
    return false;
  }
}

/**
 * The image is known to the daemon; imported (and, for a Debian engine, kept in the cache) if not. `seeded`: the cached
 * files were copied in, so an image still missing means that copy is stale, and it is replaced.
 */
export async function ensureImage(record: DaemonRecord, seeded = false, runner: Runner = localRunner): Promise<'cached' | 'imported'> {
  if (record.guestDir) {
    await importInGuest(record, runner);
    return 'imported';
  }
  const socket = daemonFiles(record.dir).socket;
  const known = await api(socket, 'GET', `/images/${IMAGE}/json`).then(
    () => true,
    () => false,
  );
  if (known) return 'cached';
  await importImage(record.dir, socket);
  if (record.series !== 'host') keepImageSnapshot(record, seeded);
  return 'imported';
}

/**
 * The image files, copied to a staging folder and renamed into place in one step, so a lab starting meanwhile sees
 * all of them or none. Labs started together (a copy per variant) each import once; the first to rename wins.
 */
function keepImageSnapshot(record: DaemonRecord, replaceStale: boolean): void {
  const snapshot = imageSnapshotDir(record.series);
  const staging = `${snapshot}.${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  for (const part of IMAGE_PARTS)
    fs.cpSync(path.join(daemonFiles(record.dir).data, part), path.join(staging, part), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  if (replaceStale && fs.existsSync(snapshot)) {
    const old = `${snapshot}.stale.${process.pid}`;
    fs.renameSync(snapshot, old);
    fs.rmSync(old, { recursive: true, force: true });
  }
  try {
    fs.renameSync(staging, snapshot);
  } catch {
    // another lab's copy is in place already
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** A root file system of busybox and its applet links as a tarball, imported as IMAGE over the API. */
export async function importImage(dir: string, socket: string, image = IMAGE, labels: Record<string, string> = {}): Promise<void> {
  const tarball = await imageTarball(dir);
  const [repo, tag] = image.split(':');
  const changes = Object.entries(labels)
    .map(([k, v]) => `&changes=${encodeURIComponent(`LABEL ${k}=${v}`)}`)
    .join('');
  const reply = await api<unknown>(
    socket,
    'POST',
    `/images/create?fromSrc=-&repo=${encodeURIComponent(repo!)}&tag=${encodeURIComponent(tag ?? 'latest')}${changes}`,
    fs.readFileSync(tarball),
    'the import of the lab image',
  );
  fs.rmSync(tarball, { force: true });
  const text = typeof reply === 'string' ? reply : JSON.stringify(reply);
  if (/"error"/.test(text)) throw new LabError(`Docker could not import the lab image ${image}`, { details: [text.slice(0, 500)], kind: 'failure' });
}

/** `docker import` in a guest, of the tarball made here in the engine's folder (the guest sees it over 9p). */
async function importInGuest(record: DaemonRecord, runner: Runner): Promise<void> {
  const tarball = await imageTarball(record.dir);
  await docker(record, ['import', tarball, IMAGE], {}, runner);
  fs.rmSync(tarball, { force: true });
}

/** The busybox root file system as dir/image.tar. */
async function imageTarball(dir: string): Promise<string> {
  const busybox = BUSYBOX.find((f) => fs.existsSync(f));
  if (!busybox)
    throw new LabError('a real Docker engine needs busybox for its image, and it is not installed', {
      hint: 'apt-get install busybox-static',
      kind: 'failure',
    });
  const rootfs = path.join(dir, 'image');
  fs.rmSync(rootfs, { recursive: true, force: true });
  fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  fs.copyFileSync(busybox, path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  for (const dir of ['tmp', 'proc', 'sys', 'dev', 'etc']) fs.mkdirSync(path.join(rootfs, dir));
  const known = new Set((await runCommand([busybox, '--list'])).stdout.split('\n'));
  for (const applet of APPLETS.filter((a) => known.has(a))) fs.symlinkSync('busybox', path.join(rootfs, 'bin', applet));
  const tarball = path.join(dir, 'image.tar');
  await runCommand(['tar', '-C', rootfs, '-cf', tarball, '.'], { timeoutMs: 60_000 });
  fs.rmSync(rootfs, { recursive: true, force: true });
  return tarball;
}

/** What the lab runs, as the docker command it amounts to (shown by `lab up --dry-run`). */
export function runArgv(spec: ContainerSpec, image = IMAGE): string[] {
  return [
    'run',
    '--detach',
    '--name',
    spec.name,
    '--hostname',
    spec.name,
    '--network',
    'bridge',
    ...HOST_TOOLS.flatMap((d) => ['--volume', `${d}:${d}:ro`]),
    ...spec.publish.flatMap((p) => ['--publish', `${p.hostIp}:${p.hostPort}:${p.containerPort}/${p.proto}`]),
    image,
    'sleep',
    '2147483647',
  ];
}

/** The body of `POST /containers/create` that `docker run` with runArgv sends. */
export function createBody(spec: ContainerSpec, image = IMAGE, labels: Record<string, string> = {}): Record<string, unknown> {
  const port = (p: ContainerSpec['publish'][number]) => `${p.containerPort}/${p.proto}`;
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of spec.publish) (bindings[port(p)] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  return {
    Image: image,
    Hostname: spec.name,
    Cmd: ['sleep', '2147483647'],
    Labels: labels,
    ExposedPorts: Object.fromEntries(spec.publish.map((p) => [port(p), {}])),
    HostConfig: {
      NetworkMode: 'bridge',
      Binds: HOST_TOOLS.map((d) => `${d}:${d}:ro`),
      PortBindings: bindings,
    },
  };
}

/** `docker run --detach` over the API: create, then start; the container's id. */
export async function createAndStart(socket: string, name: string, body: Record<string, unknown>): Promise<string> {
  const created = await api<{ Id: string }>(socket, 'POST', `/containers/create?name=${encodeURIComponent(name)}`, body, `docker run ${name}`);
  await api(socket, 'POST', `/containers/${created.Id}/start`, undefined, `the start of ${name}`);
  return created.Id;
}

/**
 * The engine's operations on one daemon: Engine API calls from this process on this machine; in a guest (guestDir) the
 * docker client through the guest's runner, since Node cannot reach a socket on the guest's tmpfs.
 */
interface Operations {
  /** `docker run --detach`: the container's id. */
  run(spec: ContainerSpec): Promise<string>;
  remove(name: string): Promise<void>;
  lifecycle(action: 'stop' | 'start' | 'restart', name: string): Promise<void>;
  inspect(container: string): Promise<{ pid: number; address: string }>;
}

function operationsOf(record: DaemonRecord, runner: Runner): Operations {
  if (record.guestDir) {
    const cli = (args: string[]) => docker(record, args, {}, runner);
    return {
      run: async (spec) => (await cli(runArgv(spec))).stdout.trim(),
      remove: async (name) => void (await cli(['rm', '--force', name])),
      lifecycle: async (action, name) => void (await cli(action === 'start' ? ['start', name] : [action, '--time', '1', name])),
      inspect: async (container) => {
        const shown = await cli(['inspect', '--format', '{{.State.Pid}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', container]);
        const [pid, address] = shown.stdout.trim().split(' ');
        return { pid: Number(pid), address: address ?? '' };
      },
    };
  }
  const socket = daemonFiles(record.dir).socket;
  return {
    run: (spec) => createAndStart(socket, spec.name, createBody(spec)),
    remove: async (name) => void (await api(socket, 'DELETE', `/containers/${encodeURIComponent(name)}?force=1`, undefined, `docker rm --force ${name}`)),
    lifecycle: async (action, name) =>
      void (await api(
        socket,
        'POST',
        `/containers/${encodeURIComponent(name)}/${action}${action === 'start' ? '' : '?t=1'}`,
        undefined,
        `docker ${action} ${name}`,
      )),
    inspect: (container) => inspectOn(socket, container),
  };
}

export async function runContainer(record: DaemonRecord, spec: ContainerSpec, runner: Runner = localRunner): Promise<RunningContainer> {
  const operations = operationsOf(record, runner);
  const id = await operations.run(spec);
  const { pid, address } = await operations.inspect(id);
  if (address !== spec.address) {
    throw new LabError(`Docker ${record.series} gave container ${spec.name} the address ${address ?? 'none'}, not the lab's ${spec.address}`, {
      hint: 'on a real engine the default bridge hands out addresses in the order containers start: leave containers[].address out, or list them in that order',
      kind: 'failure',
    });
  }
  return { name: spec.name, id, pid, address };
}

/** The process and bridge address of a container (by name or id); pid 0 and no address when it is stopped. */
export async function inspectContainer(record: DaemonRecord, container: string, runner: Runner = localRunner): Promise<{ pid: number; address: string }> {
  return operationsOf(record, runner).inspect(container);
}

export async function inspectOn(socket: string, container: string): Promise<{ pid: number; address: string }> {
  const shown = await api<{ State: { Pid: number }; NetworkSettings: { Networks?: Record<string, { IPAddress: string }> } }>(
    socket,
    'GET',
    `/containers/${encodeURIComponent(container)}/json`,
  );
  const address = Object.values(shown.NetworkSettings.Networks ?? {})
    .map((n) => n.IPAddress)
    .join('');
  return { pid: shown.State.Pid, address };
}

/** `docker stop|start|restart <name>`: the engine's own lifecycle commands; the container's state after them. */
export async function containerCommand(
  record: DaemonRecord,
  action: 'stop' | 'start' | 'restart',
  name: string,
  runner: Runner = localRunner,
): Promise<{ pid: number; address: string }> {
  const operations = operationsOf(record, runner);
  await operations.lifecycle(action, name);
  return operations.inspect(name);
}

/**
 * `docker rm -f` of the old container, then `docker run` of the new one with the same published ports. The default bridge
 * takes no --ip (user-specified addresses are for user-defined networks only) and hands out its lowest free address, which
 * is the one just freed: for a new address above it, a placeholder container holds the old one while the new one starts (what
 * another container starting in between does on a busy host), then goes. The new address is checked against `address`.
 */
export async function replaceContainer(
  record: DaemonRecord,
  old: string,
  spec: ContainerSpec,
  oldAddress: string,
  runner: Runner = localRunner,
): Promise<RunningContainer> {
  const operations = operationsOf(record, runner);
  await operations.remove(old);
  const hold = parseIp(spec.address)! > parseIp(oldAddress)! ? `${spec.name}-hold`.slice(0, 40) : undefined;
  if (hold) await operations.run({ name: hold, address: oldAddress, publish: [] });
  try {
    return await runContainer(record, spec, runner);
  } finally {
    if (hold) await operations.remove(hold);
  }
}
