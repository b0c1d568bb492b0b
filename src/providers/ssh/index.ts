/**
 * The ssh provider: the lab's nodes are hosts that already exist, listed in an inventory. `lab up`
 * checks every host (reachable, kernel, the tools the agents need, the addresses the lab expects)
 * and reports every problem at once before changing anything; the lab then owns only its work
 * folders and agents on those hosts (and a variant's changes, reverted after each variant), which
 * `lab down` removes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../../errors.js';
import type { Interface, ResolvedLab } from '../../lab/model.js';
import { SshTransport } from '../../transport/ssh.js';
import { workDir, type LabState } from '../../state.js';
import type { Step } from '../../ui/steps.js';
import type { DownResult, Provider } from '../types.js';
import { keyPath, loadInventory, type Inventory } from './inventory.js';

const TOOLS = ['ip', 'iptables', 'conntrack', 'tcpdump', 'python3', 'sysctl'];

/** What the ssh provider records: the inventory and each node's work folder on its host, all `lab down` needs. */
export type SshResources = {
  inventory?: string;
  workDirs: Record<string, string>;
};

export function createSshProvider(options: { inventory?: string }): Provider<SshResources> {
  const inventoryFile = options.inventory ? path.resolve(options.inventory) : undefined;
  let inventory: Inventory | undefined;
  const transports = new Map<string, SshTransport>();

  const inv = (): Inventory => {
    if (!inventoryFile) throw new LabError('the ssh provider needs an inventory', { hint: 'lab up <lab> --provider ssh --inventory hosts.yaml' });
    inventory ??= loadInventory(inventoryFile);
    return inventory;
  };

  const hostOf = (labName: string, node: string) => {
    const host = inv().hosts[node];
    if (!host) throw new LabError(`the inventory has no host for node "${node}" of ${labName}`, { hint: `add hosts.${node} to ${inventoryFile}` });
    return host;
  };
  const workDirOn = (lab: Pick<ResolvedLab, 'id' | 'name'>, node: string) => path.posix.join(hostOf(lab.name, node).workDir ?? '/tmp', `lab-${lab.id}`, node);

  const transportFor = (lab: Pick<ResolvedLab, 'id' | 'name'>, node: string): SshTransport => {
    const key = `${lab.id}/${node}`;
    let t = transports.get(key);
    if (!t) {
      const host = hostOf(lab.name, node);
      t = new SshTransport({
        node,
        host: host.address,
        port: host.port,
        username: host.user,
        privateKey: fs.readFileSync(keyPath(host.key, inventoryFile!)),
        hostKey: host.hostKey,
        sudo: host.sudo,
        proxyCommand: host.proxyCommand,
        workDir: workDirOn(lab, node),
        retryForMs: 10_000,
      });
      transports.set(key, t);
    }
    return t;
  };

  const checkHost = async (lab: ResolvedLab, node: string): Promise<string[]> => {
    try {
      const t = transportFor(lab, node);
      const problems: string[] = [];
      const kernel = (await t.exec(['uname', '-r'])).stdout.trim();
      const missing = (await t.exec(['sh', '-c', `for t in ${TOOLS.join(' ')}; do command -v "$t" >/dev/null || echo "$t"; done`])).stdout
        .split('\n')
        .filter(Boolean);
      if (missing.length) problems.push(`${node}: missing ${missing.join(', ')}`);
      const addrs = (await t.exec(['ip', '-o', '-4', 'addr', 'show'])).stdout;
      const interfaces = lab.nodes.find((n) => n.name === node)!.interfaces;
      for (const i of interfaces) {
        if (!addrs.includes(` ${i.address}/${i.prefix} `))
          problems.push(`${node}: expected address ${i.address}/${i.prefix} (the lab's ${i.name}), not configured on the host`);
      }
      if (interfaces.some((i) => i.mtu)) problems.push(...mtuProblems(node, interfaces, addrs, (await t.exec(['ip', '-o', 'link', 'show'])).stdout));
      if (!kernel) problems.push(`${node}: uname -r printed nothing`);
      return problems;
    } catch (error) {
      return [`${node}: ${error instanceof LabError ? [error.message, ...error.details].join(': ') : String(error)}`];
    }
  };

  return {
    name: 'ssh',
    // Existing hosts: their conntrack tables are not the lab's to flush.
    ownsHosts: false,

    async preflight(lab) {
      let hosts: Inventory;
      try {
        hosts = inv();
      } catch (error) {
        return [error instanceof LabError ? [error.message, ...error.details].join(': ') : String(error)];
      }
      const missing = lab.nodes.filter((n) => !hosts.hosts[n.name]).map((n) => `no host in the inventory for node ${n.name}`);
      if (missing.length) return missing;
      return (await Promise.all(lab.nodes.map((n) => checkHost(lab, n.name)))).flat();
    },

    // Existing hosts: nothing is built, the lab owns only its work folders, each known before it is made.
    resourcesOf: (lab) => ({
      ...(inventoryFile ? { inventory: inventoryFile } : {}),
      workDirs: Object.fromEntries(lab.nodes.map((n) => [n.name, workDirOn(lab, n.name)])),
    }),

    upSteps(lab): Step[] {
      return lab.nodes.map<Step>((n) => ({
        title: `Work folder on ${n.name}`,
        run: async () => void (await transportFor(lab, n.name).exec(['mkdir', '-p', transportFor(lab, n.name).workDir])),
      }));
    },

    // From the state alone: the lab file may have changed or gone since `lab up`.
    async down(labId: string, state: LabState<SshResources> | undefined): Promise<DownResult> {
      if (!state || !inventoryFile) return { removed: [] };
      const lab = { id: labId, name: state.name };
      const removed: string[] = [];
      for (const [node, dir] of Object.entries(state.resources.workDirs)) {
        try {
          const t = transportFor(lab, node);
          // The lab's own processes (agents, captures) run from its work folder; then the folder goes.
          // The pattern is written so it does not match itself: the shells carrying it must not be killed.
          await t.exec(['pkill', '-KILL', '-f', selfSparingPattern(dir)], { check: false });
          await t.exec(['sh', '-c', 'rm -rf "$1"; rmdir "$2" 2>/dev/null || true', 'sh', dir, path.posix.dirname(dir)], { check: false });
          removed.push(`${node}:${dir}`);
          t.close();
        } catch (error) {
          removed.push(`${node}: not reachable (${error instanceof Error ? error.message : String(error)}); its work folder may remain`);
        }
      }
      // This machine's side: exercise checks keep their evidence in the lab's local folder.
      const local = workDir(lab.id);
      if (fs.existsSync(local)) {
        fs.rmSync(local, { recursive: true, force: true });
        removed.push(`folder ${local}`);
      }
      return { removed };
    },

    transport: transportFor,

    ssh(lab, node) {
      if (!lab.nodes.some((n) => n.name === node))
        throw new LabError(`no node "${node}" in lab ${lab.name}`, { hint: `nodes: ${lab.nodes.map((n) => n.name).join(', ')}` });
      return transportFor(lab, node);
    },

    sshConfig(state) {
      throw new LabError("the ssh provider's hosts are yours: your own ssh config already reaches them", {
        hint: `their addresses, users and keys are in the inventory ${state.resources.inventory ?? ''}`.trim(),
      });
    },

    close() {
      for (const t of transports.values()) t.close();
      transports.clear();
    },

    async describe(state) {
      return [`existing hosts from ${state.resources.inventory ?? 'no inventory'}`];
    },
  };
}

/** A regular expression for `pkill -f` matching a path but not its own text ("/tmp/x" -> "[/]tmp/x"). */
export function selfSparingPattern(literal: string): string {
  const escaped = literal.replace(/[.+*?^$()[\]{}|\\]/g, '\\$&');
  return `[${escaped[0]}]${escaped.slice(1)}`;
}

/** Existing hosts are not reconfigured: an MTU the lab file sets must already be the host's, on the device holding the address. */
export function mtuProblems(node: string, interfaces: Interface[], addrLines: string, linkLines: string): string[] {
  const problems: string[] = [];
  for (const i of interfaces.filter((x) => x.mtu)) {
    const dev = addrLines
      .split('\n')
      .find((l) => l.includes(` ${i.address}/${i.prefix} `))
      ?.split(/\s+/)[1];
    if (!dev) continue; // reported as a missing address
    const found = new RegExp(`^\\d+: ${dev.replace(/[.]/g, '\\.')}(@\\S+)?: .* mtu (\\d+)`, 'm').exec(linkLines)?.[2];
    if (Number(found) !== i.mtu) problems.push(`${node}: expected MTU ${i.mtu} on ${dev} (the lab's ${i.name}), found ${found ?? 'none'}`);
  }
  return problems;
}
