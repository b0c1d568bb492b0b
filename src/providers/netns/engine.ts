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
import { parseEngineName, engineLabel } from '../../engines/catalogue.js';
import { cachedEngine, engineCacheDir, fetchEngine, hostEngineBinaries } from '../../engines/cache.js';
import { cgroupParentOf, daemonRunning, daemonRunningIn, dockerdArgv, startDaemon, stopDaemon, type DaemonRecord } from '../../engines/daemon.js';
import { IMAGE, importImage, runArgv, runContainer } from '../../engines/containers.js';
import { localRunner, type Runner } from '../../transport/runner.js';
import { readState, workDir, writeState, type LabState } from '../../state.js';
import type { Step } from '../../ui/steps.js';
import { namespaceOf } from './names.js';

/** The engine each docker-host node runs: --docker for all of them, else the lab file's, else emulated. */
export function enginesOf(lab: ResolvedLab, override: string | undefined): Map<string, string> {
  const engines = new Map<string, string>();
  for (const node of lab.nodes.filter((n) => n.profile === 'docker-host' && n.docker)) {
    const name = parseEngineName(override ?? node.docker!.engine ?? 'emulated');
    engines.set(node.name, engineLabel(name));
  }
  return engines;
}

/** Docker-host nodes on a real engine, by node name, with the engine's series (or host). */
export function realEngines(lab: ResolvedLab, override: string | undefined): Map<string, string> {
  return new Map([...enginesOf(lab, override)].filter(([, e]) => e !== 'emulated'));
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
  if (!['/usr/bin/busybox', '/bin/busybox'].some((f) => fs.existsSync(f)))
    problems.push("a real Docker engine's image is made from busybox, which is not installed (apt-get install busybox-static)");
  return problems;
}

function engineDir(labId: string, node: string): string {
  return path.join(workDir(labId), `engine-${node}`);
}

function saveRecord(labId: string, record: DaemonRecord): void {
  const state = readState(labId)!;
  const engines = { ...((state.resources.engines as Record<string, DaemonRecord> | undefined) ?? {}), [record.node]: record };
  writeState({ ...state, resources: { ...state.resources, engines } });
}

export function engineRecords(state: LabState | undefined): DaemonRecord[] {
  return Object.values((state?.resources.engines as Record<string, DaemonRecord> | undefined) ?? {});
}

/**
 * Start a node's engine and its containers; every fact `down` needs is in the state before the process it describes.
 * `runnerOf` says where the lab's commands run: with --kernel, inside its QEMU guest, where the daemon's roots go to the
 * guest's tmpfs (guestDir) and the QEMU guest's end takes the engine with it.
 */
export function engineStep(lab: ResolvedLab, host: ResolvedNode, series: string, runnerOf: () => Runner = () => localRunner): Step {
  return {
    title: `Start Docker ${series} on ${host.name} (real dockerd${lab.kernel ? `, in the ${lab.kernel} guest` : ''})`,
    run: async (progress) => {
      const runner = runnerOf();
      const binaries = series === 'host' ? hostEngineBinaries() : await fetchEngine(series, progress);
      if (!binaries) throw new LabError('no dockerd is installed on this machine', { kind: 'failure' });
      const d = host.docker!;
      let record: DaemonRecord = {
        node: host.name,
        series,
        namespace: namespaceOf(lab.id, host.name),
        dir: engineDir(lab.id, host.name),
        cgroupParent: cgroupParentOf(lab.id, host.name),
        binaries: { dockerd: binaries.dockerd, docker: binaries.docker, dockerProxy: binaries.dockerProxy, path: binaries.path },
        ...(lab.kernel ? { guestDir: `/run/lab-engine/${host.name}` } : {}),
      };
      fs.mkdirSync(record.dir, { recursive: true });
      saveRecord(lab.id, record);
      progress('starting dockerd');
      record = await startDaemon(record, { bip: `${d.gateway}/${d.prefix}`, userlandProxy: d.userlandProxy }, (r) => saveRecord(lab.id, r), undefined, runner);
      saveRecord(lab.id, record);
      progress(`Docker ${record.version}: importing the image`);
      await importImage(record, runner);
      for (const name of host.containers) {
        progress(`docker run ${name}`);
        const node = lab.nodes.find((n) => n.name === name)!;
        const publish = d.publish.filter((p) => p.container === name);
        const running = await runContainer(record, { name, address: node.interfaces[0]!.address, publish }, runner);
        const ns = namespaceOf(lab.id, name);
        await runner.run(['ip', 'netns', 'attach', ns, String(running.pid)]);
        for (const [key, value] of Object.entries(node.sysctls)) await runner.run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', `${key}=${value}`]);
      }
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
  for (const record of [...records, ...found]) removed.push(...(await stopDaemon(record)));
  return removed;
}

/** "Docker 26.1.5+dfsg1 (real, Debian 26.1) on client", or "emulated" for an imitation; undefined without a docker host. */
export function describeEngines(lab: ResolvedLab, state: LabState | undefined): string | undefined {
  const records = engineRecords(state);
  const hosts = lab.nodes.filter((n) => n.profile === 'docker-host');
  if (hosts.length === 0) return undefined;
  const parts = hosts.map((h) => {
    const r = records.find((x) => x.node === h.name);
    if (!r) return `emulated on ${h.name}`;
    return `Docker ${r.version ?? '?'} (real dockerd, ${r.series === 'host' ? "this machine's" : `Debian's ${r.series}`}) on ${h.name}`;
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
    };
    const dockerCli = `${binaries.docker} -H unix://${path.join(record.dir, 'docker.sock')}`;
    lines.push(`# Docker ${series} on ${node} (real dockerd${series === 'host' ? '' : `, Debian's packages in ${root}`})`);
    lines.push(`${dockerdArgv(record, { bip: `${d.gateway}/${d.prefix}`, userlandProxy: d.userlandProxy }).join(' ')} &`);
    lines.push(`${dockerCli} import <busybox root file system>.tar ${IMAGE}`);
    for (const name of host.containers) {
      const publish = d.publish.filter((p) => p.container === name);
      const address = lab.nodes.find((n) => n.name === name)!.interfaces[0]!.address;
      lines.push(`${dockerCli} ${runArgv({ name, address, publish }).join(' ')}`);
      lines.push(`ip netns attach ${namespaceOf(lab.id, name)} <pid of ${name}>`);
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
