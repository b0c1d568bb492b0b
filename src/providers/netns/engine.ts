/**
 * docker-host nodes on a real Docker engine (`docker: { engine: 26.1 }` in the lab file, or `--docker 26.1`): a dockerd of
 * that version in the node's namespace (src/engines/daemon.ts) makes the bridge, Docker's own rules, docker-proxy and the
 * containers; each container's network namespace is then attached under the lab's name for it, so agents, captures and
 * `lab exec` enter it as they enter any node. Without either, the node stays emulated (plan.ts, the rules template).
 */
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../../errors.js';
import type { ResolvedLab, ResolvedNode } from '../../lab/model.js';
import { parseEngineName, engineLabel } from '../../engines/engine-names.js';
import { cachedEngine, engineCacheDir, fetchEngine, hostEngineBinaries } from '../../engines/cache.js';
import {
  cgroupParentOf,
  containerdArgv,
  daemonFiles,
  daemonRunning,
  daemonRunningIn,
  dockerdArgv,
  startDaemon,
  stopDaemon,
  type DaemonRecord,
} from '../../engines/daemon.js';
import { IMAGE, ensureImage, runArgv, runContainer, seedImage } from '../../engines/containers.js';
import { runCommand } from '../../transport/process.js';
import { localRunner, type Runner } from '../../transport/runner.js';
import { diskNote, tooLittleSpace } from '../../engines/disk.js';
import { defaultEngine } from '../../engines/default.js';
import { rootless } from './rootless.js';
import {
  engineName,
  existingDir,
  existingEngineProblem,
  existingImage,
  existingSocket,
  readExisting,
  startOnExisting,
  stopOnExisting,
  type ExistingRecord,
} from '../../engines/existing.js';
import { readState, workDir, writeState, type LabState } from '../../state.js';
import type { Step } from '../../ui/steps.js';
import { namespaceOf } from './names.js';

/** The engine each docker-host node runs: --docker for all of them, else the lab file's, else the default (src/engines/default.ts). */
export function enginesOf(lab: ResolvedLab, override: string | undefined): Map<string, string> {
  const engines = new Map<string, string>();
  for (const node of lab.nodes.filter((n) => n.profile === 'docker-host' && n.docker)) {
    const name = parseEngineName(override ?? node.docker!.engine ?? defaultEngine({ rootless: rootless(), kernel: lab.kernel }));
    engines.set(node.name, engineLabel(name));
  }
  return engines;
}

/** Docker-host nodes on a real engine, by node name, with the engine's series (or host). */
export function realEngines(lab: ResolvedLab, override: string | undefined): Map<string, string> {
  return new Map([...enginesOf(lab, override)].filter(([, e]) => e !== 'emulated'));
}

/** Docker hosts on an existing engine: their namespace is that engine's host's, attached, never made by the plan. */
export function attachedNodes(real: Map<string, string>): Set<string> {
  return new Set([...real].filter(([, e]) => e === 'existing').map(([node]) => node));
}

export function engineProblems(lab: ResolvedLab, real: Map<string, string>, rootless: boolean): string[] {
  if (real.size === 0) return [];
  const problems: string[] = [];
  const nodes = [...real.keys()].join(', ');
  if (rootless) problems.push(`a real Docker engine (on ${nodes}) needs root: run with sudo, or without --docker`);
  if ([...real.values()].includes('host') && !hostEngineBinaries())
    problems.push('--docker host needs a dockerd and docker client installed on this machine, and there is none');
  for (const node of real.keys()) {
    const short = lab.nodes.find((n) => n.name === node)!.containers.filter((c) => c.length < 2);
    if (short.length) problems.push(`Docker names a container with two characters or more: rename ${short.join(', ')} on ${node} for a real engine`);
  }
  const existing = [...real].filter(([, e]) => e === 'existing').map(([node]) => node);
  if (existing.length && lab.kernel)
    problems.push(
      `--docker existing is the engine running on this machine, which a lab on --kernel ${lab.kernel} (inside a QEMU guest) cannot reach: name an engine, --docker 26.1 or 20.10`,
    );
  if (existing.length > 1) problems.push(`--docker existing puts one docker host on the running engine, and the lab has ${existing.join(', ')}`);
  for (const node of existing) {
    const n = lab.nodes.find((x) => x.name === node)!;
    const links = lab.links.filter((l) => l.endpoints.some((e) => e.node === node));
    if (links.length || n.routes.length)
      problems.push(
        `--docker existing runs ${node}'s agents on the running engine's host and leaves that host's network as it is, but the lab links ${node} to ${links.flatMap((l) => l.endpoints.map((e) => e.node).filter((x) => x !== node)).join(', ') || 'routes'}: only a docker host without links runs there`,
      );
  }
  const space = tooLittleSpace(workDir(lab.id), real.size - existing.length);
  if (space) problems.push(space);
  if (!['/usr/bin/busybox', '/bin/busybox'].some((f) => fs.existsSync(f)))
    problems.push("a real Docker engine's image is made from busybox, which is not installed (apt-get install busybox-static)");
  return problems;
}

/** Preflight of `--docker existing`, which asks the engine (async, apart from engineProblems). */
export async function existingProblems(real: Map<string, string>): Promise<string[]> {
  if (![...real.values()].includes('existing')) return [];
  try {
    const problem = await existingEngineProblem(existingSocket());
    return problem ? [problem] : [];
  } catch (e) {
    return [(e as Error).message];
  }
}

/** With --kernel, the daemon's roots and sockets on the guest's own tmpfs. */
function guestDirOf(lab: ResolvedLab, node: string): { guestDir?: string } {
  return lab.kernel ? { guestDir: `/run/lab-engine/${node}` } : {};
}

function engineDir(labId: string, node: string): string {
  return path.join(workDir(labId), `engine-${node}`);
}

function saveRecord(labId: string, record: DaemonRecord): void {
  const state = readState(labId)!;
  const engines = { ...((state.resources.engines as Record<string, DaemonRecord> | undefined) ?? {}), [record.node]: record };
  writeState({ ...state, resources: { ...state.resources, engines } });
}

export function existingRecords(state: LabState | undefined): ExistingRecord[] {
  return Object.values((state?.resources.existingEngines as Record<string, ExistingRecord> | undefined) ?? {});
}

export function engineRecords(state: LabState | undefined): DaemonRecord[] {
  return Object.values((state?.resources.engines as Record<string, DaemonRecord> | undefined) ?? {});
}

/** /run/netns/<ns> is a namespace (an nsfs mount, not yet the empty file `ip netns add` mounts on): the step may start beside the plan's. */
async function namespaceMounted(ns: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const dirDev = () => fs.statSync('/run/netns').dev;
  for (;;) {
    try {
      if (fs.statSync(path.join('/run/netns', ns)).dev !== dirDev()) return;
    } catch {
      // not made yet
    }
    if (Date.now() > deadline) throw new LabError(`the namespace ${ns} was not made within ${timeoutMs / 1000} s`, { kind: 'failure' });
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * The plan's step and the real engines' steps at once: an engine waits only for its node's namespace, so containerd and
 * dockerd start while the rest of the lab is wired (addresses, routes, sysctls of the other nodes). Both run to their end
 * before a failure is reported, so `lab down` after it never races a daemon still starting. An existing engine's step
 * stays after the plan's.
 */
export function alongsideBuild(build: Step, engines: Array<{ series: string; step: Step }>, inGuest = false): Step[] {
  const own = engines.filter((e) => e.series !== 'existing').map((e) => e.step);
  const after = engines.filter((e) => e.series === 'existing').map((e) => e.step);
  // A guest's namespaces are out of this process's sight (namespaceMounted), and its two emulated cores are busy with the plan.
  if (own.length === 0 || inGuest) return [build, ...own, ...after];
  const together: Step = {
    title: [build.title, ...own.map((s) => s.title)].join('; '),
    run: async (progress) => {
      const results = await Promise.allSettled([build.run(progress), ...own.map((s) => s.run(progress))]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
  return [together, ...after];
}

/** With LAB_ENGINE_TIMES set, each phase of an engine's start goes to stderr with the ms since the step began (bench/engines.ts reads them). */
function timedProgress(report: (text: string) => void): (text: string) => void {
  const start = Date.now();
  return (text) => {
    if (process.env.LAB_ENGINE_TIMES) process.stderr.write(`engine-time ${Date.now() - start} ms: ${text}\n`);
    report(text);
  };
}

/**
 * Start a node's engine and its containers; every fact `down` needs is in the state before the process it describes.
 * `runnerOf` says where the lab's commands run: with --kernel, inside its QEMU guest, where the daemon's roots go to the
 * guest's tmpfs (guestDir), the engine is spoken to with the docker client through the runner, and the QEMU guest's end
 * takes the engine with it.
 */
export function engineStep(lab: ResolvedLab, host: ResolvedNode, series: string, runnerOf: () => Runner = () => localRunner): Step {
  if (series === 'existing') return existingStep(lab, host);
  return {
    title: `Start Docker ${series} on ${host.name} (real dockerd${lab.kernel ? `, in the ${lab.kernel} guest` : ''})`,
    run: async (report) => {
      const progress = timedProgress(report);
      const runner = runnerOf();
      const dir = engineDir(lab.id, host.name);
      const guest = guestDirOf(lab, host.name);
      fs.mkdirSync(dir, { recursive: true });
      // The image files go in while the namespace is made and containerd starts; dockerd starts once they are there.
      const seeding = seedImage({ dir, series, ...guest });
      // In a guest the step runs after the plan's (alongsideBuild): its namespaces are in the guest, not in this /run/netns.
      // On a failure before dockerd starts, the copy ends first: `lab down` must not race it for the folder.
      const binaries = await (async () => {
        if (!lab.kernel) {
          await namespaceMounted(namespaceOf(lab.id, host.name));
          progress('node namespace ready');
        }
        return series === 'host' ? hostEngineBinaries() : await fetchEngine(series, progress);
      })().catch(async (e: unknown) => {
        await seeding;
        throw e;
      });
      if (!binaries) throw new LabError('no dockerd is installed on this machine', { kind: 'failure' });
      const d = host.docker!;
      let record: DaemonRecord = {
        node: host.name,
        series,
        namespace: namespaceOf(lab.id, host.name),
        dir,
        cgroupParent: cgroupParentOf(lab.id, host.name),
        binaries: { dockerd: binaries.dockerd, docker: binaries.docker, dockerProxy: binaries.dockerProxy, path: binaries.path },
        ...guest,
      };
      saveRecord(lab.id, record);
      progress('starting containerd and dockerd');
      record = await startDaemon(
        record,
        { bip: `${d.gateway}/${d.prefix}`, userlandProxy: d.userlandProxy },
        (r) => saveRecord(lab.id, r),
        60_000,
        seeding,
        runner,
      );
      const seeded = await seeding;
      saveRecord(lab.id, record);
      progress(`Docker ${record.version}: ${seeded ? 'image from the cache' : 'importing the image'}`);
      await ensureImage(record, seeded, runner);
      for (const name of host.containers) {
        progress(`docker run ${name}`);
        const node = lab.nodes.find((n) => n.name === name)!;
        const publish = d.publish.filter((p) => p.container === name);
        const running = await runContainer(record, { name, address: node.interfaces[0]!.address, publish }, runner);
        const ns = namespaceOf(lab.id, name);
        await runner.run(['ip', 'netns', 'attach', ns, String(running.pid)]);
        for (const [key, value] of Object.entries(node.sysctls)) await runner.run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', `${key}=${value}`]);
      }
      progress('containers up');
    },
  };
}

function existingStep(lab: ResolvedLab, host: ResolvedNode): Step {
  return {
    title: `Put ${host.name}'s containers on the running Docker engine (existing)`,
    run: async (report) => {
      const progress = timedProgress(report);
      const d = host.docker!;
      const record: ExistingRecord = {
        node: host.name,
        socket: existingSocket(),
        hostNamespace: namespaceOf(lab.id, host.name),
        image: existingImage(lab.id),
        labId: lab.id,
        containers: {},
        containerNamespaces: [],
      };
      const containers = host.containers.map((name) => ({
        name,
        address: lab.nodes.find((n) => n.name === name)!.interfaces[0]!.address,
        publish: d.publish.filter((p) => p.container === name),
        namespace: namespaceOf(lab.id, name),
      }));
      const started = await startOnExisting(record, existingDir(workDir(lab.id), host.name), containers, progress);
      const state = readState(lab.id)!;
      writeState({ ...state, resources: { ...state.resources, existingEngines: { [host.name]: started } } });
      progress('containers up');
    },
  };
}

/**
 * Every engine of the lab, stopped before its namespaces go: those in the state, and any engine folder in the lab's
 * work folder that the state does not name (a state lost after a crash), with what its folder tells.
 */
export async function stopEngines(labId: string, state: LabState | undefined): Promise<string[]> {
  const records = engineRecords(state);
  const known = new Set(records.map((r) => r.dir));
  const dir = workDir(labId);
  const found = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.startsWith('engine-') && !known.has(path.join(dir, f)))
        .map((f) => {
          const node = f.slice('engine-'.length);
          return { node, series: 'unknown', namespace: namespaceOf(labId, node), dir: path.join(dir, f), cgroupParent: cgroupParentOf(labId, node) };
        })
    : [];
  const removed: string[] = [];
  // An existing engine's host first: its lab name must be gone before anything removes the lab's namespaces with their processes.
  const existing = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith('existing-')) : [];
  for (const f of existing) removed.push(...(await stopOnExisting(path.join(dir, f))));
  for (const record of [...records, ...found]) removed.push(...(await stopDaemon(record)));
  return removed;
}

/**
 * A lab name bound to this machine's own network namespace (that of process 1, or of lab itself) is only ever
 * detached: removing the lab's namespaces kills the processes in them, which there would be the machine's. An existing
 * engine's host is detached by stopEngines first; this holds even when its record was lost.
 */
export async function detachMachineNamespaces(targets: string[]): Promise<{ rest: string[]; detached: string[] }> {
  const own = new Set<number>();
  for (const p of ['/proc/1/ns/net', '/proc/self/ns/net']) {
    try {
      own.add(fs.statSync(p).ino);
    } catch {
      // not readable here
    }
  }
  const rest: string[] = [];
  const detached: string[] = [];
  for (const ns of targets) {
    let ino: number | undefined;
    try {
      ino = fs.statSync(path.join('/run/netns', ns)).ino;
    } catch {
      ino = undefined;
    }
    if (ino === undefined || !own.has(ino)) {
      rest.push(ns);
      continue;
    }
    await runCommand(['ip', 'netns', 'delete', ns], { check: false });
    detached.push(`name ${ns} (attached to this machine's own namespace, left running)`);
  }
  return { rest, detached };
}

/** "Docker 26.1.5+dfsg1 (real, Debian 26.1) on client", or "emulated" for an imitation; undefined without a docker host. */
export function describeEngines(lab: ResolvedLab, state: LabState | undefined): string | undefined {
  const records = engineRecords(state);
  const hosts = lab.nodes.filter((n) => n.profile === 'docker-host');
  if (hosts.length === 0) return undefined;
  const parts = hosts.map((h) => {
    const r = records.find((x) => x.node === h.name);
    const existing = readExisting(existingDir(workDir(lab.id), h.name));
    if (existing) return `Docker ${existing.version ?? '?'} (existing engine at ${existing.socket}) on ${h.name}`;
    if (!r) return `emulated on ${h.name}`;
    return `Docker ${r.version ?? '?'} (real dockerd, ${r.series === 'host' ? "this machine's" : `Debian's ${r.series}`}, ${r.guestDir ? 'in the guest' : diskNote(r.dir)}) on ${h.name}`;
  });
  return parts.join('; ');
}

/** The first real engine of the lab whose dockerd is gone, said in a sentence; a guest's daemon is looked for in the guest. */
export async function lostEngine(state: LabState | undefined, runner: Runner = localRunner): Promise<string | undefined> {
  let gone: DaemonRecord | undefined;
  for (const r of engineRecords(state)) {
    if (r.pid === undefined) continue;
    if (r.guestDir ? !(await daemonRunningIn(runner, r)) : !daemonRunning(r)) {
      gone = r;
      break;
    }
  }
  return (
    gone &&
    `Docker ${gone.version ?? gone.series}'s daemon on ${gone.node} (process ${gone.pid}) is no longer running; see ${path.join(gone.dir, 'dockerd.log')}`
  );
}

/** `lab up --dry-run`: what each real engine's step runs, after the plan's commands. */
export function renderEngines(lab: ResolvedLab, real: Map<string, string>): string {
  const lines: string[] = [];
  for (const [node, series] of real) {
    const host = lab.nodes.find((n) => n.name === node)!;
    const d = host.docker!;
    if (series === 'existing') {
      lines.push(`# ${node}'s containers on the running engine at ${existingSocket()} (existing): Engine API calls, as docker commands`);
      lines.push(`ip netns attach ${namespaceOf(lab.id, node)} <pid serving ${existingSocket()}>`);
      lines.push(`docker import --change 'LABEL lab.instance=${lab.id}' <busybox root file system>.tar ${existingImage(lab.id)}`);
      for (const name of host.containers) {
        const publish = d.publish.filter((p) => p.container === name);
        const address = lab.nodes.find((n) => n.name === name)!.interfaces[0]!.address;
        lines.push(`docker ${runArgv({ name: engineName(lab.id, name), address, publish }, existingImage(lab.id)).join(' ')}`);
        lines.push(`ip netns attach ${namespaceOf(lab.id, name)} <pid of ${engineName(lab.id, name)}>`);
      }
      continue;
    }
    const root = path.join(engineCacheDir(), series, 'root');
    const binaries = (series === 'host' ? hostEngineBinaries() : cachedEngine(series)) ?? {
      dockerd: path.join(root, 'usr/sbin/dockerd'),
      docker: path.join(root, 'usr/bin/docker'),
      dockerProxy: path.join(root, 'usr/sbin/docker-proxy'),
      path: `${path.join(root, 'usr/sbin')}:${path.join(root, 'usr/bin')}:...`,
    };
    const record: DaemonRecord = {
      node,
      series,
      namespace: namespaceOf(lab.id, node),
      dir: engineDir(lab.id, node),
      cgroupParent: cgroupParentOf(lab.id, node),
      binaries,
      ...guestDirOf(lab, node),
    };
    const dockerCli = `${binaries.docker} -H unix://${daemonFiles(record.dir, record.guestDir).socket}`;
    lines.push(`# Docker ${series} on ${node} (real dockerd${series === 'host' ? '' : `, Debian's packages in ${root}`})`);
    lines.push(`${containerdArgv(record).join(' ')} &   # its config: ${path.join(record.dir, 'containerd.toml')}`);
    lines.push(`${dockerdArgv(record, { bip: `${d.gateway}/${d.prefix}`, userlandProxy: d.userlandProxy }).join(' ')} &`);
    lines.push(
      record.guestDir
        ? `# in the ${lab.kernel} guest, through its exec channel:`
        : `# the calls below go to the Engine API on the socket directly; as docker commands they are:`,
    );
    const seeded = record.guestDir ? '' : `   # or its files copied from ${path.join(root, '..', 'image-root')}`;
    lines.push(`${dockerCli} import <busybox root file system>.tar ${IMAGE}${seeded}`);
    for (const name of host.containers) {
      const publish = d.publish.filter((p) => p.container === name);
      const address = lab.nodes.find((n) => n.name === name)!.interfaces[0]!.address;
      lines.push(`${dockerCli} ${runArgv({ name, address, publish }).join(' ')}`);
      lines.push(`ip netns attach ${namespaceOf(lab.id, name)} <pid of ${name}>`);
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
