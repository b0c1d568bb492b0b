/**
 * The vagrant provider: one VM per host of the lab, booted by `vagrant up` from the rendered
 * Vagrantfile, reached over ssh2 with the address and key `vagrant ssh-config` gives. Containers run
 * in the Docker engine of their host VM and are reached through it. `lab down` is `vagrant destroy -f`
 * and removing the lab's folder.
 */
import fs from 'node:fs';
import * as z from 'zod';
import path from 'node:path';
import { LabError } from '../../errors.js';
import type { ResolvedLab } from '../../lab/model.js';
import { labRef } from '../../lab/names.js';
import { leftByEarlierRun } from '../leftovers.js';
import { addResources, readState, workDir, type LabState } from '../../state.js';
import { ContainerTransport } from '../../transport/container.js';
import { SshTransport } from '../../transport/ssh.js';
import { SOFTWARE_EMULATION_SLOWDOWN, type Transport } from '../../transport/types.js';
import type { Step } from '../../ui/steps.js';
import type { DownResult, Provider, RecordResources } from '../types.js';
import { parseSshConfig, parseStatus, vagrant, type SshConfig, type VagrantPlace } from './cli.js';
import { findLibvirtd } from './libvirt.js';
import { interfaceDevices, localizeLab, type DeviceMap } from './devices.js';
import { boxOf, renderVagrant, vagrantSettingsOf, writeRendered } from './render.js';
import { bootSteps, stopBooting } from './boot.js';
import { findLeftovers, removeLeftovers } from './leftovers.js';

export interface VagrantOptions {
  box?: string;
  /** Vagrant's own output on stderr as it comes. */
  verbose?: boolean;
}

/** What the vagrant provider records: the folder of its Vagrantfile, then each VM's ssh settings and devices. */
export type VagrantResources = {
  dir: string;
  box: string;
  enter: string[];
  vmProvider?: 'libvirt' | 'virtualbox';
  machines?: Record<string, SshConfig>;
  hostKeys?: Record<string, string>;
  devices?: DeviceMap;
};

const sshConfigSchema: z.ZodType<SshConfig> = z.object({ host: z.string(), port: z.number(), user: z.string(), identityFile: z.string() });

/** The record as read back from the state file, checked: the VMs are reached with what it says. */
const resourcesSchema: z.ZodType<VagrantResources> = z.object({
  dir: z.string(),
  box: z.string(),
  enter: z.array(z.string()),
  vmProvider: z.enum(['libvirt', 'virtualbox']).optional(),
  machines: z.record(z.string(), sshConfigSchema).optional(),
  hostKeys: z.record(z.string(), z.string()).optional(),
  devices: z.record(z.string(), z.record(z.string(), z.string())).optional(),
});

/** The lab's record while it is up or being brought up; undefined without a state, or another provider's. */
function resources(labId: string): VagrantResources | undefined {
  const state = readState(labId);
  if (state?.provider !== 'vagrant') return undefined;
  const parsed = resourcesSchema.safeParse(state.resources);
  if (!parsed.success)
    throw new LabError(`the state of lab ${labId} has no vagrant record that can be read`, { details: [parsed.error.message], kind: 'failure' });
  return parsed.data;
}

export function createVagrantProvider(options: VagrantOptions = {}): Provider<VagrantResources> {
  const transports = new Map<string, SshTransport>();

  const machineTransport = (lab: ResolvedLab, node: string): SshTransport => {
    const key = `${lab.id}/${node}`;
    let t = transports.get(key);
    if (t) return t;
    const res = resources(lab.id);
    const ssh = res?.machines?.[node];
    if (!res || !ssh)
      throw new LabError(`lab ${lab.id} has no VM "${node}" up`, {
        hint: `lab up ${labRef(lab)} --provider vagrant`,
        kind: 'failure',
      });
    const pinned = res.hostKeys?.[node];
    t = new SshTransport({
      node,
      // lab up renders libvirt's "qemu" driver (software emulation); VirtualBox runs guests on the CPU.
      slowdown: res.vmProvider === 'virtualbox' ? undefined : SOFTWARE_EMULATION_SLOWDOWN,
      host: ssh.host,
      port: ssh.port,
      username: ssh.user,
      privateKey: fs.readFileSync(ssh.identityFile),
      // Vagrant's ssh-config turns host key checking off; the key first seen at `lab up` is pinned in the state.
      hostKey: pinned ?? 'insecure-accept-any',
      onHostKey: pinned ? undefined : (fp) => addResources<VagrantResources>(lab.id, { hostKeys: { ...resources(lab.id)?.hostKeys, [node]: fp } }),
      sudo: ssh.user !== 'root',
      proxyCommand: res.enter.length ? [...res.enter, 'socat', '-', `TCP:${ssh.host}:${ssh.port}`] : undefined,
      workDir: `/tmp/lab-${lab.id}/${node}`,
      connectTimeoutMs: 60_000,
      retryForMs: 120_000,
    });
    transports.set(key, t);
    return t;
  };

  const place = (lab: ResolvedLab): VagrantPlace => ({
    dir: path.join(workDir(lab.id), 'vagrant'),
    enter: vagrantSettingsOf(lab).provider === 'virtualbox' ? [] : (findLibvirtd()?.enter ?? []),
  });

  return {
    name: 'vagrant',
    ownsHosts: true,

    async preflight(lab) {
      const problems: string[] = [];
      // Box and plugin queries need no lab folder (it does not exist yet); "/" has no Vagrantfile.
      const where = { ...place(lab), dir: '/' };
      const vmProvider = vagrantSettingsOf(lab).provider;
      const version = await vagrant(where, ['--version'], 30_000, false).catch(() => undefined);
      if (!version || version.exitCode !== 0) return ["'vagrant' is not installed (apt-get install vagrant vagrant-libvirt)"];
      if (vagrantSettingsOf(lab).provider === 'virtualbox') {
        if (!fs.existsSync('/usr/bin/VBoxManage'))
          problems.push('the lab asks for VirtualBox VMs (vagrant.provider: virtualbox), but VBoxManage is not installed');
      } else if (!findLibvirtd())
        problems.push('libvirtd is not running: start it with "sudo scripts/libvirt-netns.sh start" (it runs libvirt in its own network namespace)');
      if (where.enter.length && !fs.existsSync('/usr/bin/socat'))
        problems.push("'socat' is not installed: the tool reaches VMs inside libvirt's network namespace through it");
      const plugins = await vagrant(where, ['plugin', 'list'], 60_000, false);
      if (vmProvider === 'libvirt' && !/vagrant-libvirt/.test(plugins.stdout))
        problems.push('the vagrant-libvirt plugin is missing (apt-get install vagrant-libvirt)');
      if (vmProvider === 'libvirt' && findLibvirtd()) {
        const left = await findLeftovers(lab.id);
        const names = [...left.domains, ...left.networks];
        if (names.length) problems.push(leftByEarlierRun(`libvirt already has ${names.join(', ')}`, lab));
      }
      const box = boxOf(lab, options.box);
      const boxes = await vagrant(where, ['box', 'list'], 60_000, false);
      if (!boxes.stdout.split('\n').some((l) => l.startsWith(`${box} `) && l.includes(vmProvider)))
        problems.push(`the box ${box} is not installed for ${vmProvider}: build it with "sudo scripts/build-box.sh" (from Debian's archive, no download)`);
      return problems;
    },

    resourcesOf(lab) {
      const where = place(lab);
      return { dir: where.dir, box: boxOf(lab, options.box), enter: where.enter, vmProvider: vagrantSettingsOf(lab).provider };
    },

    upSteps(lab, record: RecordResources<VagrantResources>): Step[] {
      const where = place(lab);
      const box = boxOf(lab, options.box);
      const machines = lab.nodes.filter((n) => n.kind !== 'container').map((n) => n.name);
      const render: Step = { title: 'Render the Vagrantfile', run: async () => void writeRendered(renderVagrant(lab, { box }), where.dir) };
      const sshConfig: Step = {
        title: 'Read vagrant ssh-config',
        run: async () => {
          const found = parseSshConfig((await vagrant(where, ['ssh-config'])).stdout);
          const missing = machines.filter((m) => !found[m]);
          if (missing.length) throw new LabError(`vagrant ssh-config has no entry for ${missing.join(', ')}`, { kind: 'failure' });
          record({ machines: found });
        },
      };
      const connect: Step = {
        title: 'Connect over ssh, pin host keys, map the lab interfaces to VM devices',
        run: async () => {
          const devices: DeviceMap = {};
          await Promise.all(
            machines.map(async (m) => {
              const node = lab.nodes.find((n) => n.name === m)!;
              devices[m] = await interfaceDevices(machineTransport(lab, m), node);
            }),
          );
          record({ devices });
        },
      };
      return [render, ...bootSteps(where, machines, vagrantSettingsOf(lab).provider, Boolean(options.verbose)), sshConfig, connect];
    },

    async down(labId: string, state: LabState<VagrantResources> | undefined): Promise<DownResult> {
      await stopBooting();
      for (const [key, t] of transports) {
        if (key.startsWith(`${labId}/`)) {
          t.close();
          transports.delete(key);
        }
      }
      const res = state?.resources;
      const removed: string[] = [];
      const virtualbox = res?.vmProvider === 'virtualbox';
      const libvirtd = virtualbox ? { enter: [] as string[] } : findLibvirtd();
      let destroyFailure: LabError | undefined;
      if (res?.dir && fs.existsSync(path.join(res.dir, 'Vagrantfile'))) {
        if (!libvirtd)
          throw new LabError(`lab ${labId}: libvirtd is not running, so its VMs cannot be destroyed`, {
            hint: 'start it with "sudo scripts/libvirt-netns.sh start", then lab down again',
            kind: 'failure',
          });
        const out = await vagrant({ dir: res.dir, enter: libvirtd.enter }, ['destroy', '-f'], 600_000, false);
        if (out.exitCode === 0) removed.push(...Object.keys(res.machines ?? {}).map((m) => `VM ${m}`));
        else destroyFailure = new LabError(`vagrant destroy failed for lab ${labId}`, { details: out.stderr.trim().split('\n').slice(-5), kind: 'failure' });
      }
      if (libvirtd && !virtualbox) {
        // What Vagrant did not know about or failed to destroy, by the lab's names.
        removed.push(...(await removeLeftovers(labId)));
        const left = await findLeftovers(labId);
        if (left.domains.length || left.networks.length)
          throw (
            destroyFailure ??
            new LabError(`lab ${labId}: libvirt still has ${[...left.domains, ...left.networks].join(', ')}`, {
              hint: 'see virsh -c qemu:///system list --all',
              kind: 'failure',
            })
          );
      } else if (destroyFailure) throw destroyFailure;
      const dir = workDir(labId);
      if (fs.existsSync(dir)) {
        fs.rmSync(dir, { recursive: true, force: true });
        removed.push(`folder ${dir}`);
      }
      return { removed };
    },

    transport(lab: ResolvedLab, node: string): Transport {
      const n = lab.nodes.find((x) => x.name === node);
      if (!n) throw new LabError(`no node "${node}" in lab ${lab.name}`, { hint: `nodes: ${lab.nodes.map((x) => x.name).join(', ')}` });
      if (n.kind === 'container') return new ContainerTransport(node, machineTransport(lab, n.host!), node);
      return machineTransport(lab, node);
    },

    ssh(lab: ResolvedLab, node: string) {
      const n = lab.nodes.find((x) => x.name === node);
      if (!n) throw new LabError(`no node "${node}" in lab ${lab.name}`, { hint: `nodes: ${lab.nodes.map((x) => x.name).join(', ')}` });
      if (n.kind === 'container') throw new LabError(`${node} is a container in the VM ${n.host}`, { hint: `lab ssh ${labRef(lab)} ${n.host}` });
      // As `vagrant ssh` logs in: the box's user, with the address and key vagrant ssh-config gave and the pinned host key.
      return machineTransport(lab, node);
    },

    sshConfig(state) {
      // Vagrant prints its own, with the addresses as this machine (or libvirtd's namespace) reaches them.
      throw new LabError('lab ssh --config has nothing to add to vagrant ssh-config', {
        hint: `cd ${path.join(workDir(state.lab), 'vagrant')} && vagrant ssh-config`,
      });
    },

    localize(lab: ResolvedLab): ResolvedLab {
      const devices = resources(lab.id)?.devices;
      return devices ? localizeLab(lab, devices) : lab;
    },

    close() {
      for (const t of transports.values()) t.close();
      transports.clear();
    },

    async describe(state) {
      const res = state.resources;
      const libvirtd = res.vmProvider === 'virtualbox' ? { enter: [] as string[], where: 'VirtualBox' } : findLibvirtd();
      if (!libvirtd) return [`VMs in ${res.dir}; libvirtd is not running`];
      const status = parseStatus((await vagrant({ dir: res.dir, enter: libvirtd.enter }, ['status', '--machine-readable'], 60_000, false)).stdout);
      return [
        `VMs (box ${res.box}, ${res.vmProvider === 'virtualbox' ? 'VirtualBox' : `libvirt in ${libvirtd.where}`}): ${
          Object.entries(status)
            .map(([m, s]) => `${m} ${s}`)
            .join(', ') || 'none'
        }`,
      ];
    },
  };
}
