/**
 * The qemu provider: every host and router of the lab is its own direct-boot guest (the kernel cache, initramfs and exec
 * channel of src/kernels), with a kernel of its own; links are virtio NICs joined point to point (layout.ts); inside
 * each guest the netns provider's plan builds the node in the guest's root namespace and its containers as namespaces.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../../errors.js';
import type { ResolvedLab } from '../../lab/model.js';
import { fetchKernel, type CachedKernel } from '../../kernels/cache.js';
import { guestAccel } from '../../kernels/accel.js';
import { alive } from '../../kernels/guest.js';
import { workDir, type LabState } from '../../state.js';
import { onSystemPath } from '../../transport/process.js';
import { NetnsTransport } from '../../transport/netns.js';
import type { Step } from '../../ui/steps.js';
import { leftByEarlierRun } from '../leftovers.js';
import { applyCommands } from '../netns/apply.js';
import { containerStep, restoreContainers } from '../netns/container-lifecycle.js';
import { dockerProxyPath } from '../netns/docker-proxy.js';
import { namespaceOf } from '../netns/names.js';
import { planLab } from '../netns/plan.js';
import type { DownResult, Provider, RecordResources } from '../types.js';
import type { QemuResources } from './resources.js';
import { bootNodeGuest, closeChannels, guestRunnerOf, runningGuests, stopGuests, type GuestRecord } from './guests.js';
import { guestNodeOf, guestPlans, nodesOfGuest, type GuestPlan } from './layout.js';
import { commandsByGuest, prepareGuest } from './setup.js';
import { usesNetfilter, warmUp } from '../netns/kernel.js';
import { servicesStep } from '../netns/index.js';
import { SshTransport, lineFingerprint } from '../../transport/ssh.js';
import { guestSshTarget, openPort, removeSshFiles, renderSshConfig, startGuestSsh, writeKnownHosts } from './ssh.js';
import { labRef } from '../../lab/names.js';
import { readState } from '../../state.js';

const REQUIRED_TOOLS = ['qemu-system-x86_64'];

/** The host key `lab up --ssh` pinned for a node's guest, as ssh2 checks it; a lab up without sshd has none. */
function pinnedFingerprint(lab: ResolvedLab, node: string): string {
  const keys = (readState(lab.id)?.resources as QemuResources | undefined)?.sshHostKeys;
  const key = keys?.[node];
  if (!key) throw withoutSshd(lab.id, labRef(lab), node);
  return lineFingerprint(key);
}

function withoutSshd(labId: string, ref: string, node = 'NODE'): LabError {
  return new LabError(`lab ${labId} was brought up without an sshd in its guests (lab up --ssh starts one)`, {
    hint: `lab exec ${ref} ${node} -- sh needs none; for ssh: lab down ${ref}, then lab up ${ref} --provider qemu --ssh`,
    kind: 'failure',
  });
}

/** `ssh`: an sshd in every guest (lab up --ssh), for lab ssh; a lab brought up without one records none. */
export function createQemuProvider(options: { ssh: boolean } = { ssh: false }): Provider<QemuResources> {
  const plansOf = (lab: ResolvedLab) => guestPlans(lab, options);
  const logins = new Map<string, SshTransport>();
  return {
    name: 'qemu',
    ownsHosts: true,

    async preflight(lab) {
      const problems: string[] = [];
      if (process.getuid?.() !== 0) problems.push("the qemu provider shares the machine's root over 9p with its guests, which needs root here: run with sudo");
      for (const tool of REQUIRED_TOOLS) if (!onSystemPath(tool)) problems.push(`'${tool}' is not installed (apt-get install qemu-system-x86)`);
      if (!fs.existsSync('/bin/busybox')) problems.push('/bin/busybox is missing (apt-get install busybox-static)');
      try {
        plansOf(lab);
      } catch (e) {
        if (!(e instanceof LabError)) throw e;
        problems.push(`${e.message}${e.hint ? ` (${e.hint})` : ''}`);
      }
      const proxied = lab.nodes.some((n) => (n.docker?.userlandProxy && n.docker.publish.length > 0) || n.desktop?.forwards.length);
      if (proxied && !fs.existsSync(dockerProxyPath()))
        problems.push(
          `the lab publishes ports with Docker's userland proxy, but docker-proxy was not found at ${dockerProxyPath()}; run scripts/fetch-docker-proxy.sh, or set LAB_DOCKER_PROXY`,
        );
      const engines = lab.nodes.filter((n) => n.docker?.engine !== undefined && n.docker.engine !== 'emulated').map((n) => `${n.name} (${n.docker!.engine})`);
      if (engines.length)
        problems.push(
          `the qemu provider runs Docker's imitation only, and the lab file asks for a real engine on ${engines.join(', ')}: use the netns provider for those`,
        );
      const left = runningGuests(lab.id);
      if (left.length) problems.push(leftByEarlierRun(`QEMU guests of this lab are running (processes ${left.join(', ')})`, lab));
      return problems;
    },

    resourcesOf: (lab) => ({ planned: plansOf(lab).map((p) => ({ node: p.node, series: p.series })), guests: [], ssh: options.ssh }),

    upSteps: (lab, record) => upSteps(lab, plansOf(lab), record, options.ssh),

    async down(labId: string): Promise<DownResult> {
      const stopped = await stopGuests(labId);
      const removed = stopped.map((pid) => `QEMU guest (process ${pid})`);
      const dir = workDir(labId);
      if (fs.existsSync(dir)) {
        fs.rmSync(dir, { recursive: true, force: true });
        removed.push(`folder ${dir}`);
      }
      removed.push(...removeSshFiles(labId));
      return { removed };
    },

    transport(lab, node) {
      if (!lab.nodes.some((n) => n.name === node))
        throw new LabError(`no node "${node}" in lab ${lab.name}`, { hint: `nodes: ${lab.nodes.map((n) => n.name).join(', ')}` });
      return new NetnsTransport(node, namespaceOf(lab.id, node), path.join(workDir(lab.id), node), guestRunnerOf(lab.id, guestNodeOf(lab, node)));
    },

    engine(lab) {
      const hosts = lab.nodes.filter((n) => n.profile === 'docker-host');
      return hosts.length ? hosts.map((h) => `emulated on ${h.name}`).join('; ') : undefined;
    },

    container: (lab, request) => containerStep(lab, request, guestRunnerOf(lab.id, request.host)),

    async restoreContainers(lab) {
      const done: string[] = [];
      // One docker host at a time, each through its own guest: the lab as that host alone has containers.
      for (const host of lab.nodes.filter((n) => n.containers.length > 0)) {
        const only: ResolvedLab = { ...lab, nodes: lab.nodes.map((n) => (n.name === host.name ? n : { ...n, containers: [] })) };
        done.push(...(await restoreContainers(only, guestRunnerOf(lab.id, host.name))));
      }
      return done;
    },

    close() {
      closeChannels();
      for (const t of logins.values()) t.close();
      logins.clear();
    },

    ssh(lab, node) {
      const n = lab.nodes.find((x) => x.name === node);
      if (!n) throw new LabError(`no node "${node}" in lab ${lab.name}`, { hint: `nodes: ${lab.nodes.map((x) => x.name).join(', ')}` });
      if (n.kind === 'container')
        throw new LabError(`${node} is a container: a network namespace inside the guest of ${n.host}, with no sshd of its own`, {
          hint: `lab ssh ${labRef(lab)} ${n.host}, or lab exec ${labRef(lab)} ${node} -- sh`,
        });
      const login = new SshTransport(guestSshTarget(lab.id, node, pinnedFingerprint(lab, node)));
      logins.set(node, login);
      return login;
    },

    sshProxy: (labId, node) => openPort(labId, node),

    sshConfig(state, proxy, node) {
      if (!state.resources.sshHostKeys) throw withoutSshd(state.lab, state.lab, node);
      const nodes = state.resources.guests.map((g) => g.node).filter((n) => state.resources.sshHostKeys?.[n]);
      return renderSshConfig(state.lab, node === undefined ? nodes : nodes.filter((n) => n === node), proxy);
    },

    async describe(state: LabState<QemuResources>) {
      return state.resources.guests.map((g) => {
        const running = g.pid !== undefined && alive(g.pid);
        const boot = g.bootMs ? `, booted in ${(g.bootMs / 1000).toFixed(1)} s` : '';
        return `${g.node}: kernel ${g.release ?? g.series} in its own QEMU guest (${g.accel.toUpperCase()}), process ${g.pid ?? '?'}${running ? '' : ' (not running)'}${boot}`;
      });
    },
  };
}

function upSteps(lab: ResolvedLab, plans: GuestPlan[], record: RecordResources<QemuResources>, ssh: boolean): Step[] {
  const series = [...new Set(plans.map((p) => p.series))];
  const boot: Step = {
    title: `Boot ${plans.length} guests (${describeKernels(plans)})`,
    run: async (progress) => {
      const kernels = new Map<string, CachedKernel>();
      for (const s of series) kernels.set(s, await fetchKernel(s, progress));
      progress('choosing KVM or software emulation');
      const accel = await guestAccel(kernels.get(series[0]!)!, (line) => process.stderr.write(`${line}\n`));
      progress(`booting ${plans.length} guests under ${accel.toUpperCase()}`);
      record({ accel });
      const guests = new Map<string, GuestRecord>();
      const recordGuest = (guest: GuestRecord) => {
        guests.set(guest.node, guest);
        record({ guests: [...guests.values()] });
      };
      await Promise.all(plans.map((p) => bootNodeGuest(p, kernels.get(p.series)!, accel, recordGuest)));
    },
  };
  const netnsPlan = planLab(lab, dockerProxyPath());
  const byGuest = commandsByGuest(lab, netnsPlan);
  const configure: Step = {
    title: `NICs, addresses, routes, sysctls, bridges, containers and rules in every guest${ssh ? '; sshd with a host key of its own' : ''}`,
    run: async (progress) => {
      const hostKeys: Record<string, string> = {};
      await Promise.all(
        plans.map(async (p) => {
          const runner = guestRunnerOf(lab.id, p.node);
          const sshd = ssh ? startGuestSsh(lab.id, p.node, runner).then((key) => void (hostKeys[p.node] = key)) : Promise.resolve();
          sshd.catch(() => undefined); // awaited below, after the guest is prepared
          await prepareGuest(lab, p, runner);
          progress(`${p.node} prepared`);
          const warm = nodesOfGuest(lab, p.node).some(usesNetfilter) ? warmUp(runner) : undefined;
          await Promise.all([applyCommands(byGuest.get(p.node) ?? [], runner), warm, sshd]);
          progress(`${p.node} configured`);
        }),
      );
      if (!ssh) return;
      record({ sshHostKeys: hostKeys });
      writeKnownHosts(lab.id, hostKeys);
    },
  };
  const services = servicesStep(lab, netnsPlan.services, (node) => guestRunnerOf(lab.id, guestNodeOf(lab, node)));
  return [boot, configure, ...(netnsPlan.services.length ? [services] : [])];
}

function describeKernels(plans: GuestPlan[]): string {
  return plans.map((p) => `${p.node} ${p.series}`).join(', ');
}
