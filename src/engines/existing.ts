/**
 * `--docker existing`: the lab's containers go on a Docker engine that is already running (DOCKER_HOST, else
 * /var/run/docker.sock), and the docker host's agents run on that engine's host: the network namespace of the process
 * that serves the engine's socket (dockerd itself, or Docker Desktop's socket proxy), attached under the lab's name.
 *
 * The lab leaves that engine as it found it. Everything it makes there carries the lab's id: containers are named
 * `<lab id>-<name>` and labelled `lab.instance=<lab id>`, the image is tagged for the lab alone; `lab down` removes
 * exactly those (found by label, so also after a crash) and detaches the names, never killing a process of that
 * namespace. What the lab needs to find after a crash is written to its work folder before anything is made.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../errors.js';
import { runCommand } from '../transport/process.js';
import { api, pingable } from './api.js';
import { createAndStart, createBody, importImage, inspectOn, type ContainerSpec, type RunningContainer } from './containers.js';

export const EXISTING_LABEL = 'lab.instance';

/** What `lab down` needs, written to <work>/existing-<node>/record.json before the lab makes anything on the engine. */
export interface ExistingRecord {
  node: string;
  socket: string;
  /** The lab's name for the engine host's namespace (attached, not created). */
  hostNamespace: string;
  image: string;
  labId: string;
  /** Lab name of each container and the name it has on the engine. */
  containers: Record<string, string>;
  /** The lab's names attached to the containers' namespaces. */
  containerNamespaces: string[];
  version?: string;
}

/** The engine's socket from DOCKER_HOST (unix:// only), else the default one. */
export function existingSocket(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.DOCKER_HOST?.trim();
  if (!host) return '/var/run/docker.sock';
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  throw new LabError(`--docker existing reaches an engine over a unix socket, and DOCKER_HOST is ${host}`, {
    hint: 'set DOCKER_HOST=unix:///path/to/docker.sock, or unset it for /var/run/docker.sock',
  });
}

/** Lab ids hold "+" and "@"; Docker names take [a-zA-Z0-9][a-zA-Z0-9_.-]. */
export function engineName(labId: string, name: string): string {
  return `lab-${labId}-${name}`.replace(/[^A-Za-z0-9_.-]/g, '_');
}

export function existingImage(labId: string): string {
  return `lab-busybox:${labId.replace(/[^A-Za-z0-9_.-]/g, '_')}`.toLowerCase();
}

/** Why the engine cannot be used, or undefined when it answers. */
export async function existingEngineProblem(socket: string): Promise<string | undefined> {
  if (!fs.existsSync(socket)) return `--docker existing: no Docker engine socket at ${socket} (set DOCKER_HOST=unix://... to name another)`;
  if (!(await pingable(socket))) return `--docker existing: the engine at ${socket} does not answer (GET /_ping)`;
  return undefined;
}

/**
 * The pid of a process that holds the listening unix socket at this path. /proc/<pid>/net/unix lists the sockets of
 * that process's network namespace only, so it is read once per namespace; then each process's fds name the inode.
 */
export function socketOwner(socket: string): number | undefined {
  const pids = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid);
  const oneProcessPerNamespace = new Map<string, string>();
  for (const pid of pids) {
    try {
      const ns = fs.readlinkSync(`/proc/${pid}/ns/net`);
      if (!oneProcessPerNamespace.has(ns)) oneProcessPerNamespace.set(ns, pid);
    } catch {
      // ended, or a kernel thread
    }
  }
  const inodes = new Set<string>();
  for (const pid of oneProcessPerNamespace.values()) {
    try {
      for (const line of fs.readFileSync(`/proc/${pid}/net/unix`, 'utf8').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f[7] === socket && f[5] === '01') inodes.add(f[6]!);
      }
    } catch {
      // ended meanwhile
    }
  }
  if (inodes.size === 0) return undefined;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode && inodes.has(inode)) return Number(pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

export function existingDir(workDir: string, node: string): string {
  return path.join(workDir, `existing-${node}`);
}

function save(dir: string, record: ExistingRecord): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'record.json'), `${JSON.stringify(record, null, 2)}\n`);
}

export function readExisting(dir: string): ExistingRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'record.json'), 'utf8')) as ExistingRecord;
  } catch {
    return undefined;
  }
}

export interface ExistingContainer extends ContainerSpec {
  /** The lab's name for the container's namespace. */
  namespace: string;
}

/** Attach the engine host's namespace, import the lab's image, run the containers; the record says all of it. */
export async function startOnExisting(
  record: ExistingRecord,
  dir: string,
  containers: ExistingContainer[],
  progress: (text: string) => void,
): Promise<ExistingRecord> {
  save(dir, record);
  const owner = socketOwner(record.socket);
  if (owner === undefined)
    throw new LabError(`--docker existing: no process on this machine serves ${record.socket}`, {
      hint: "the engine's host must be this machine (or its Docker Desktop socket proxy): agents run in that process's network namespace",
      kind: 'failure',
    });
  await runCommand(['ip', 'netns', 'attach', record.hostNamespace, String(owner)]);
  const version = await api<{ Version: string }>(record.socket, 'GET', '/version');
  record = { ...record, version: version.Version };
  save(dir, record);
  progress(`Docker ${version.Version} (existing): importing the lab's image as ${record.image}`);
  await importImage(dir, record.socket, record.image, { [EXISTING_LABEL]: record.labId });
  for (const spec of containers) {
    const name = engineName(record.labId, spec.name);
    record = { ...record, containers: { ...record.containers, [spec.name]: name } };
    save(dir, record);
    progress(`docker run ${name}`);
    const body = createBody({ ...spec, name }, record.image, { [EXISTING_LABEL]: record.labId });
    const id = await createAndStart(record.socket, name, { ...body, Hostname: spec.name });
    const running: RunningContainer = { name, id, ...(await inspectOn(record.socket, id)) };
    if (running.address !== spec.address) {
      throw new LabError(`the existing engine gave container ${spec.name} the address ${running.address || 'none'}, not the lab's ${spec.address}`, {
        hint: "its default bridge hands out the lowest free address: give containers[].address the one it will hand out, or stop the engine's other containers",
        kind: 'failure',
      });
    }
    record = { ...record, containerNamespaces: [...record.containerNamespaces, spec.namespace] };
    save(dir, record);
    await runCommand(['ip', 'netns', 'attach', spec.namespace, String(running.pid)]);
  }
  return record;
}

/**
 * What the lab made on the engine, removed: its containers (by label), its image, the names it attached. The engine, its
 * other containers, networks and rules stay; Docker removes the rules of a published port with its container.
 */
export async function stopOnExisting(dir: string): Promise<string[]> {
  const record = readExisting(dir);
  if (!record) return [];
  const removed: string[] = [];
  const detach = async (ns: string) => {
    if (!fs.existsSync(path.join('/run/netns', ns))) return;
    // `ip netns delete` unmounts and unlinks the name; the namespace lives on with its processes.
    const out = await runCommand(['ip', 'netns', 'delete', ns], { check: false });
    if (out.exitCode === 0) removed.push(`name ${ns} (attached)`);
  };
  // The engine host's name first: nothing after this may reach its processes.
  await detach(record.hostNamespace);
  if (await pingable(record.socket)) {
    const filter = encodeURIComponent(JSON.stringify({ label: [`${EXISTING_LABEL}=${record.labId}`] }));
    const mine = await api<Array<{ Id: string; Names: string[] }>>(record.socket, 'GET', `/containers/json?all=1&filters=${filter}`);
    for (const c of mine) {
      await api(record.socket, 'DELETE', `/containers/${c.Id}?force=1`, undefined, `docker rm --force ${c.Names.join(',')}`);
      removed.push(`container ${c.Names.join(',').replace(/^\//, '')} on the existing engine`);
    }
    const images = await api<Array<{ Id: string; RepoTags: string[] | null }>>(record.socket, 'GET', `/images/json?filters=${filter}`);
    if (images.some((i) => (i.RepoTags ?? []).includes(record.image))) {
      await api(record.socket, 'DELETE', `/images/${encodeURIComponent(record.image)}`, undefined, `docker rmi ${record.image}`);
      removed.push(`image ${record.image} on the existing engine`);
    }
  } else {
    removed.push(`nothing on the engine at ${record.socket}: it does not answer; the lab's containers there are labelled ${EXISTING_LABEL}=${record.labId}`);
  }
  for (const ns of record.containerNamespaces) await detach(ns);
  fs.rmSync(dir, { recursive: true, force: true });
  return removed;
}
