/** The netns provider: every node is a network namespace on this machine. */
import fs from 'node:fs';
import { LabError } from '../../errors.js';
import type { ResolvedLab } from '../../lab/model.js';
import { leftByEarlierRun } from '../leftovers.js';
import { onSystemPath } from '../../transport/process.js';
import { localRunner, prefixedRunner, type Runner } from '../../transport/runner.js';
import { bootStep, describeGuest, engineHostStep, guestOf, guestRunnerOf, stopGuestOf } from './kernel.js';
import { dockerProxyPath } from './docker-proxy.js';
import os from 'node:os';
import { USERNS_HINT, insideHolder, rootless, startHolder, stopHolder, userNamespacesWork } from './rootless.js';
import { NetnsTransport } from '../../transport/netns.js';
import { readState, workDir, type LabState } from '../../state.js';
import type { Step } from '../../ui/steps.js';
import type { DownResult, Provider, RecordResources } from '../types.js';
import type { GuestRecord } from './kernel.js';
import type { DaemonRecord } from '../../engines/daemon.js';
import type { ContainerRecord } from './container-lifecycle.js';
import { namespaceOf, namespacePrefix } from './names.js';
import { planLab } from './plan.js';
import { applySteps } from './apply.js';
import { containerStep, restoreContainers } from './container-lifecycle.js';
import { listNamespaces, netemAvailable, removeNamespaces } from './namespaces.js';
import { needsNetem } from '../../lab/model.js';
import path from 'node:path';
import { diskNote } from '../../engines/disk.js';
import {
  alongsideBuild,
  attachedNodes,
  detachMachineNamespaces,
  describeEngines,
  existingProblems,
  existingRecords,
  lostEngine,
  engineProblems,
  engineRecords,
  engineStep,
  realEngines,
  stopEngines,
} from './engine.js';
import { cachedEngine, hostEngineBinaries, type EngineBinaries } from '../../engines/cache.js';

const REQUIRED_TOOLS = ['ip', 'iptables', 'iptables-restore', 'sysctl', 'conntrack', 'tcpdump', 'python3'];

/** What the netns provider records of a lab; kernel.ts, engine.ts and container-lifecycle.ts add their parts. */
export type NetnsResources = {
  namespaces: string[];
  /** Rootless: the process whose user namespace holds the lab's namespaces. */
  holderPid?: number;
  /** On another kernel: the QEMU guest the namespaces are made in. */
  guest?: GuestRecord;
  /** Real Docker engines, by docker-host node. */
  engines?: Record<string, DaemonRecord>;
  containers?: Record<string, ContainerRecord>;
};

/** `docker`: the engine of every docker-host node (--docker), over the lab file's; undefined keeps each node's own. */
export function netnsProviderWith(docker?: string): Provider<NetnsResources> {
  return { ...netnsProvider, ...engineParts(docker) };
}

export const netnsProvider: Provider<NetnsResources> = {
  name: 'netns',
  ownsHosts: true,

  preflight: (lab: ResolvedLab) => netnsPreflight(lab, undefined),

  resourcesOf: (lab) => netnsResourcesOf(lab, undefined),

  upSteps: (lab, record) => netnsUpSteps(lab, undefined, record),

  async down(labId: string, state: LabState<NetnsResources> | undefined): Promise<DownResult> {
    if (guestOf(state) || labId.includes('@')) return { removed: [...(await stopGuestOf(labId, state)), ...removeWorkDir(labId)] };
    const holderPid = state?.resources.holderPid;
    if (holderPid !== undefined) {
      const removed = (await stopHolder(holderPid)) ? [`user namespace of process ${holderPid} with the lab's namespaces`] : [];
      return { removed: [...removed, ...removeWorkDir(labId)] };
    }
    // Docker's daemons first: removing their containers is what stops their shims; the namespaces then take the rest.
    const engines = await stopEngines(labId, state);
    const prefix = namespacePrefix(labId);
    const recorded = (state?.resources.namespaces ?? []).filter((n) => n.startsWith(prefix));
    const present = new Set((await listNamespaces()).filter((n) => n.startsWith(prefix)));
    const { rest: targets, detached } = await detachMachineNamespaces([...new Set([...recorded, ...present])].filter((n) => present.has(n)));
    await removeNamespaces(targets);
    return { removed: [...engines, ...detached, ...targets.map((ns) => `namespace ${ns}`), ...removeWorkDir(labId)] };
  },

  enginesRunning: (state) => ({
    ...Object.fromEntries(engineRecords(state).map((r) => [r.node, r.series])),
    ...Object.fromEntries(existingRecords(state).map((r) => [r.node, 'existing'])),
  }),

  engine(lab: ResolvedLab) {
    return describeEngines(lab, readState(lab.id));
  },

  engineLost: async (lab: ResolvedLab) => lostEngine(readState(lab.id), runnerOf(lab.id)),

  container: (lab, request) => containerStep(lab, request, runnerOf(lab.id)),

  restoreContainers: (lab) => restoreContainers(lab, runnerOf(lab.id)),

  transport(lab: ResolvedLab, node: string) {
    if (!lab.nodes.some((n) => n.name === node)) {
      throw new LabError(`no node "${node}" in lab ${lab.name}`, { hint: `nodes: ${lab.nodes.map((n) => n.name).join(', ')}` });
    }
    return new NetnsTransport(node, namespaceOf(lab.id, node), path.join(workDir(lab.id), node), runnerOf(lab.id));
  },

  async describe(state) {
    const guest = guestOf(state);
    // A guest's engine keeps its data on the guest's tmpfs: no disk use of this machine to tell.
    const engines = engineRecords(state).map(
      (r) => `Docker ${r.version ?? r.series} (real dockerd, process ${r.pid ?? '?'}${r.guestDir ? ' in the guest' : `, ${diskNote(r.dir)}`}) on ${r.node}`,
    );
    if (guest)
      return [
        describeGuest(guest),
        ...(await listNamespaces(runnerOf(state.lab))
          .then((all) => [`${all.length} namespaces inside it`])
          .catch(() => [])),
        ...engines,
      ];
    const present = (await listNamespaces(state.resources.holderPid ? runnerOf(state.lab) : undefined)).filter((n) => n.startsWith(namespacePrefix(state.lab)));
    const holder = state.resources.holderPid ? ` (rootless, in the user namespace of process ${String(state.resources.holderPid)})` : '';
    const existing = existingRecords(state).map(
      (r) => `Docker ${r.version ?? '?'} (existing engine at ${r.socket}, containers ${Object.values(r.containers).join(', ')}) on ${r.node}`,
    );
    return [`${present.length} namespaces${holder}: ${present.join(', ')}`, ...engines, ...existing];
  },
};

/** The parts of the provider that depend on --docker. */
function engineParts(docker: string | undefined): Pick<Provider<NetnsResources>, 'preflight' | 'resourcesOf' | 'upSteps'> {
  return {
    preflight: (lab) => netnsPreflight(lab, docker),
    resourcesOf: (lab) => netnsResourcesOf(lab, docker),
    upSteps: (lab, record) => netnsUpSteps(lab, docker, record),
  };
}

function netnsPlan(lab: ResolvedLab, docker: string | undefined) {
  const real = realEngines(lab, docker);
  return planLab(lab, dockerProxyPath(), new Set(real.keys()), attachedNodes(real));
}

function netnsResourcesOf(lab: ResolvedLab, docker: string | undefined): NetnsResources {
  return { namespaces: netnsPlan(lab, docker).namespaces, ...(lab.kernel ? { guest: { series: lab.kernel } } : {}) };
}

async function netnsPreflight(lab: ResolvedLab, docker: string | undefined): Promise<string[]> {
  const problems: string[] = [];
  const real = realEngines(lab, docker);
  problems.push(...engineProblems(lab, real, rootless()));
  problems.push(...(await existingProblems(real)));

  if (rootless() && !(await userNamespacesWork()))
    problems.push(`the netns provider needs root or unprivileged user namespaces, and this machine gives neither to ${os.userInfo().username}: ${USERNS_HINT}`);
  for (const tool of REQUIRED_TOOLS) {
    if (!onSystemPath(tool)) problems.push(`'${tool}' is not installed`);
  }
  const proxied = (n: ResolvedLab['nodes'][number]) =>
    (n.docker?.userlandProxy && n.docker.publish.length > 0 && !real.has(n.name)) || n.desktop?.forwards.length;
  if (lab.nodes.some(proxied) && !fs.existsSync(dockerProxyPath())) {
    problems.push(
      `the lab publishes ports with Docker's userland proxy, but docker-proxy was not found at ${dockerProxyPath()}; run scripts/fetch-docker-proxy.sh (it takes the binary out of Debian's docker.io package without installing it), or set LAB_DOCKER_PROXY`,
    );
  }
  if (lab.kernel && rootless()) problems.push('a lab on another kernel boots it under QEMU, which needs root here: run with sudo');
  if (!rootless() && !lab.kernel && problems.length === 0) {
    const left = (await listNamespaces()).filter((n) => n.startsWith(namespacePrefix(lab.id)));
    if (left.length) problems.push(leftByEarlierRun(`network namespaces ${left.join(', ')} already exist`, lab));
  }
  const netem = lab.links.flatMap((l) => l.impairments.filter(needsNetem).map((i) => `links[${l.index}] from ${i.node}`));
  if (netem.length > 0 && !lab.kernel && problems.length === 0 && !(await netemAvailable(rootless()))) {
    problems.push(
      `this kernel has no sch_netem (tc netem fails: "Specified qdisc kind is unknown"), but the lab impairs ${netem.join(', ')} with delay, loss or reorder; remove those or use a kernel with netem (a plain rate limit works without it)`,
    );
  }
  return problems;
}

function netnsUpSteps(lab: ResolvedLab, docker: string | undefined, record: RecordResources<NetnsResources>): Step[] {
  const real = realEngines(lab, docker);
  {
    const plan = netnsPlan(lab, docker);
    const holder: Step = {
      title: 'Start the user namespace that owns the lab (rootless)',
      run: async () => record({ holderPid: await startHolder(path.join(workDir(lab.id), 'holder.log')) }),
    };
    // One step: the plan's steps are executed together, grouped by namespace (apply.ts), not one after another.
    const build: Step = {
      title: plan.steps.map((s) => s.title).join(', '),
      run: (progress) => applySteps(plan.steps, runnerOf(lab.id), progress),
    };
    const services = servicesStep(lab, plan.services, () => runnerOf(lab.id));
    const engines = [...real].map(([node, series]) => ({
      series,
      step: engineStep(
        lab,
        lab.nodes.find((n) => n.name === node)!,
        series,
        () => runnerOf(lab.id),
      ),
    }));
    return [
      ...(rootless() ? [holder] : []),
      ...(lab.kernel ? [bootStep(lab)] : []),
      // Before the namespaces: it starts reading the engines' programs into the guest while they are made.
      ...(lab.kernel && engines.length ? [engineHostStep(lab, cachedBinaries(real))] : []),
      ...alongsideBuild(build, engines, Boolean(lab.kernel)),
      ...(plan.services.length ? [services] : []),
    ];
  }
}

/** The plan's long-running services, each in its node's namespace, through the runner that reaches that node. */
export function servicesStep(lab: ResolvedLab, services: ReturnType<typeof planLab>['services'], runnerFor: (node: string) => Runner): Step {
  return {
    title: `Start ${services.length} services`,
    run: async () => {
      fs.mkdirSync(path.join(workDir(lab.id), 'services'), { recursive: true });
      for (const [i, s] of services.entries()) {
        const log = path.join(workDir(lab.id), 'services', `${s.node}-${i}.log`);
        await runnerFor(s.node).service(['ip', 'netns', 'exec', namespaceOf(lab.id, s.node), ...s.argv], log);
      }
    },
  };
}

/** Commands of a lab on another kernel run in its guest; a rootless lab's inside its holder's namespaces; a root lab's as they are. */
export function runnerOf(labId: string): Runner {
  const state = readState(labId);
  if (guestOf(state)) return guestRunnerOf(labId);
  const pid = state?.resources.holderPid;
  return typeof pid !== 'number' ? localRunner : prefixedRunner(insideHolder(pid));
}

/** The programs of the engines already cached (or installed, for host); the others are fetched by their engine's step. */
function cachedBinaries(real: Map<string, string>): EngineBinaries[] {
  return [...new Set(real.values())].flatMap((series) => (series === 'host' ? hostEngineBinaries() : cachedEngine(series)) ?? []);
}

function removeWorkDir(labId: string): string[] {
  const dir = workDir(labId);
  if (!fs.existsSync(dir)) return [];
  fs.rmSync(dir, { recursive: true, force: true });
  return [`folder ${dir}`];
}
