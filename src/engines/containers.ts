/**
 * Containers on a real engine: an image imported from a local busybox (no registry is reachable), run on the default
 * bridge with the host's /usr, /lib and /lib64 bound read-only (python3 and the lab's tools), published ports as
 * `docker run -p` gives them. The lab's agents reach a container through its network namespace (attached by name).
 */
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../errors.js';
import { runCommand } from '../transport/process.js';
import { localRunner, type Runner } from '../transport/runner.js';
import { docker, type DaemonRecord } from './daemon.js';
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

/** A root file system of busybox and its applet links, as a tarball in dir, imported as IMAGE. */
export async function importImage(record: DaemonRecord, runner: Runner = localRunner): Promise<void> {
  const busybox = BUSYBOX.find((f) => fs.existsSync(f));
  if (!busybox)
    throw new LabError('a real Docker engine needs busybox for its image, and it is not installed', {
      hint: 'apt-get install busybox-static',
      kind: 'failure',
    });
  const rootfs = path.join(record.dir, 'image');
  fs.rmSync(rootfs, { recursive: true, force: true });
  fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  fs.copyFileSync(busybox, path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  for (const dir of ['tmp', 'proc', 'sys', 'dev', 'etc']) fs.mkdirSync(path.join(rootfs, dir));
  const applets = (await runCommand([busybox, '--list'])).stdout.split('\n').filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox');
  for (const applet of applets) fs.symlinkSync('busybox', path.join(rootfs, 'bin', applet));
  const tarball = path.join(record.dir, 'image.tar');
  await runCommand(['tar', '-C', rootfs, '-cf', tarball, '.'], { timeoutMs: 60_000 });
  await docker(record, ['import', tarball, IMAGE], {}, runner);
  fs.rmSync(rootfs, { recursive: true, force: true });
  fs.rmSync(tarball, { force: true });
}

export function runArgv(spec: ContainerSpec): string[] {
  return [
    'run',
    '--detach',
    '--name',
    spec.name,
    '--hostname',
    spec.name,
    '--network',
    'bridge',
    ...['/usr', '/lib', '/lib64'].flatMap((d) => ['--volume', `${d}:${d}:ro`]),
    ...spec.publish.flatMap((p) => ['--publish', `${p.hostIp}:${p.hostPort}:${p.containerPort}/${p.proto}`]),
    IMAGE,
    'sleep',
    '2147483647',
  ];
}

export async function runContainer(record: DaemonRecord, spec: ContainerSpec, runner: Runner = localRunner): Promise<RunningContainer> {
  const id = (await docker(record, runArgv(spec), {}, runner)).stdout.trim();
  const { pid, address } = await inspectContainer(record, id, runner);
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
  const shown = await docker(record, ['inspect', '--format', '{{.State.Pid}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', container], {}, runner);
  const [pid, address] = shown.stdout.trim().split(' ');
  return { pid: Number(pid), address: address ?? '' };
}

/** `docker stop|start|restart <name>`: the engine's own lifecycle commands; the container's state after them. */
export async function containerCommand(
  record: DaemonRecord,
  action: 'stop' | 'start' | 'restart',
  name: string,
  runner: Runner = localRunner,
): Promise<{ pid: number; address: string }> {
  await docker(record, action === 'start' ? ['start', name] : [action, '--time', '1', name], {}, runner);
  return inspectContainer(record, name, runner);
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
  await docker(record, ['rm', '--force', old], {}, runner);
  const hold = parseIp(spec.address)! > parseIp(oldAddress)! ? `${spec.name}-hold`.slice(0, 40) : undefined;
  if (hold) await docker(record, runArgv({ name: hold, address: oldAddress, publish: [] }), {}, runner);
  try {
    return await runContainer(record, spec, runner);
  } finally {
    if (hold) await docker(record, ['rm', '--force', hold], {}, runner);
  }
}
