/**
 * Container lifecycle steps (declared `container: { node, name, do }`) on a docker host of the netns provider.
 *
 * Real engine: the engine's own commands (docker stop/start/restart, docker rm -f + docker run for replace), then the
 * container's network namespace is attached again under the lab's name (lab.<id>.<container>) so agents and captures
 * enter the new one.
 *
 * Imitation: what dockerd (20.10, libnetwork's bridge driver) does, addressed by what each thing is, never by position:
 * a stop deletes the container's published-port rules with the exact text the rules template wrote (nat DOCKER DNAT,
 * nat POSTROUTING self-MASQUERADE, filter DOCKER ACCEPT), ends its docker-proxy (or port holder) processes, kills the
 * container's processes and takes its veth down; a start puts them back (dockerd appends them: -A); a replace is a stop,
 * a new namespace under the same lab name with a new veth and address, and the rules and proxies for the new address.
 * Conntrack, as 20.10 does: when a container goes, the entries NATed to its address are deleted (libnetwork's
 * clearEndpointConnections, drivers/bridge, long before Engine 23); the entries of its published UDP ports are NOT
 * (Engine 23+ deletes those too, when a port is mapped and unmapped: moby/moby#44742, clearConntrackEntries). So an
 * entry made while no DNAT rule existed (datagrams in the gap of a replacement) outlives the new rule here, as on 20.10.
 *
 * Each container's current name, address and whether it runs are kept in the lab's state (resources.containers), so
 * `restoreContainers` can put the lab back as it was brought up at a variant's end, and `lab down` removes everything
 * by the lab's names as before (namespaces by prefix, a real engine's containers by `docker ps -a`).
 */
import path from 'node:path';
import { LabError } from '../../errors.js';
import { primaryAddress, type PublishedPort, type ResolvedLab, type ResolvedNode } from '../../lab/model.js';
import { readState, workDir, writeState } from '../../state.js';
import type { Runner } from '../../transport/runner.js';
import type { DaemonRecord } from '../../engines/daemon.js';
import { containerCommand, replaceContainer } from '../../engines/containers.js';
import type { ContainerOutcome, ContainerRequest } from '../types.js';
import { containerPort, namespaceOf } from './names.js';
import { dockerProxies, portHolders } from './plan.js';
import { dockerProxyPath } from './docker-proxy.js';
import { engineRecords, existingRecords } from './engine.js';

export interface ContainerRecord {
  name: string;
  address: string;
  running: boolean;
}

function node(lab: ResolvedLab, name: string): ResolvedNode {
  const n = lab.nodes.find((x) => x.name === name);
  if (!n) throw new LabError(`no node "${name}" in lab ${lab.name}`);
  return n;
}

/** The container as the lab brought it up. */
function original(lab: ResolvedLab, container: string): ContainerRecord {
  return { name: container, address: primaryAddress(node(lab, container)), running: true };
}

function records(labId: string): Record<string, ContainerRecord> {
  return (readState(labId)?.resources.containers as Record<string, ContainerRecord> | undefined) ?? {};
}

function save(labId: string, container: string, record: ContainerRecord | undefined): void {
  const state = readState(labId);
  if (!state) return;
  const containers = { ...records(labId) };
  if (record) containers[container] = record;
  else delete containers[container];
  writeState({ ...state, resources: { ...state.resources, containers } });
}

export async function containerStep(lab: ResolvedLab, req: ContainerRequest, runner: Runner): Promise<ContainerOutcome> {
  const host = node(lab, req.host);
  if (!host.docker || !host.containers.includes(req.container)) {
    throw new LabError(`${req.container} is not a container of docker host ${req.host}`, { hint: `its containers: ${host.containers.join(', ') || '(none)'}` });
  }
  const current = records(lab.id)[req.container] ?? original(lab, req.container);
  const engine = engineRecords(readState(lab.id)).find((r) => r.node === req.host);
  if (existingRecords(readState(lab.id)).some((r) => r.node === req.host))
    throw new LabError(`a container step on ${req.host} would change a container of the existing engine, which --docker existing does not do yet`, {
      hint: 'run the lab on an engine of its own: --docker 26.1 or 20.10',
    });
  const outcome = engine ? await onEngine(lab, engine, req, current, runner) : await onImitation(lab, host, req, current, runner);
  const after = { name: outcome.name, address: outcome.address, running: outcome.running };
  const first = original(lab, req.container);
  save(lab.id, req.container, after.name === first.name && after.address === first.address && after.running ? undefined : after);
  return outcome;
}

/** Every container moved by a step back as the lab brought it up; what was done, one line each. */
export async function restoreContainers(lab: ResolvedLab, runner: Runner): Promise<string[]> {
  const done: string[] = [];
  for (const [container, now] of Object.entries(records(lab.id))) {
    const first = original(lab, container);
    const host = lab.nodes.find((n) => n.containers.includes(container));
    if (!host) continue;
    const moved = now.name !== first.name || now.address !== first.address;
    const req: ContainerRequest = moved
      ? { host: host.name, container, action: 'replace', with: { name: first.name, address: first.address } }
      : { host: host.name, container, action: 'start' };
    done.push(...(await containerStep(lab, req, runner)).done);
  }
  return done;
}

async function onEngine(lab: ResolvedLab, record: DaemonRecord, req: ContainerRequest, current: ContainerRecord, runner: Runner): Promise<ContainerOutcome> {
  const ns = namespaceOf(lab.id, req.container);
  const docker = `docker (${record.series})`;
  if (req.action === 'stop') {
    await containerCommand(record, 'stop', current.name, runner);
    return { done: [`${docker} stop ${current.name}`], name: current.name, address: current.address, running: false };
  }
  if (req.action !== 'replace') {
    const { pid, address } = await containerCommand(record, req.action, current.name, runner);
    await attach(lab, req.container, ns, pid, runner);
    return { done: [`${docker} ${req.action} ${current.name}`, `ip netns attach ${ns} ${pid}`], name: current.name, address, running: true };
  }
  const host = node(lab, req.host);
  const name = req.with?.name ?? current.name;
  const address = req.with?.address ?? current.address;
  const publish = host.docker!.publish.filter((p) => p.container === req.container);
  const running = await replaceContainer(record, current.name, { name, address, publish }, current.address, runner);
  await attach(lab, req.container, ns, running.pid, runner);
  return {
    done: [
      `${docker} rm -f ${current.name}`,
      `${docker} run --name ${name} (${running.address}, same published ports)`,
      `ip netns attach ${ns} ${running.pid}`,
    ],
    name,
    address: running.address,
    running: true,
  };
}

/** The lab's name for the container's namespace, moved to its new process; the node's sysctls written again. */
async function attach(lab: ResolvedLab, container: string, ns: string, pid: number, runner: Runner): Promise<void> {
  await runner.run(['ip', 'netns', 'delete', ns], { check: false });
  await runner.run(['ip', 'netns', 'attach', ns, String(pid)]);
  for (const [key, value] of Object.entries(node(lab, container).sysctls)) await runner.run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', `${key}=${value}`]);
}

/** The iptables arguments (table, chain, rule) of one published port, exactly as templates/netns/docker-host.rules.hbs writes them. */
export function publishedRules(host: ResolvedNode, p: PublishedPort, ip: string): Array<[string, string, string[]]> {
  const d = host.docker!;
  const match = (port: number) => ['-p', p.proto, '-m', p.proto, '--dport', String(port)];
  return [
    ['nat', 'POSTROUTING', ['-s', `${ip}/32`, '-d', `${ip}/32`, ...match(p.containerPort), '-j', 'MASQUERADE']],
    [
      'nat',
      'DOCKER',
      [
        ...(p.hostIp === '0.0.0.0' ? [] : ['-d', `${p.hostIp}/32`]),
        ...(d.userlandProxy ? ['!', '-i', d.bridge] : []),
        ...match(p.hostPort),
        '-j',
        'DNAT',
        '--to-destination',
        `${ip}:${p.containerPort}`,
      ],
    ],
    ['filter', 'DOCKER', ['-d', `${ip}/32`, '!', '-i', d.bridge, '-o', d.bridge, ...match(p.containerPort), '-j', 'ACCEPT']],
  ];
}

/** The background processes dockerd keeps for the container's published ports (docker-proxy, or a port holder without it). */
function servicesOf(lab: ResolvedLab, host: ResolvedNode, container: string, ip: string) {
  const publish = host.docker!.publish.filter((p) => p.container === container).map((p) => ({ ...p, containerIp: ip }));
  const only: ResolvedLab = { ...lab, nodes: [{ ...host, docker: { ...host.docker!, publish } }] };
  return [...dockerProxies(only, dockerProxyPath()), ...portHolders(only)];
}

async function onImitation(lab: ResolvedLab, host: ResolvedNode, req: ContainerRequest, current: ContainerRecord, runner: Runner): Promise<ContainerOutcome> {
  const hostNs = namespaceOf(lab.id, host.name);
  const ns = namespaceOf(lab.id, req.container);
  const port = containerPort(req.container);
  const done: string[] = [];
  const run = async (argv: string[], check = true) => {
    done.push(argv.join(' '));
    return runner.run(argv, { check });
  };
  const publish = host.docker!.publish.filter((p) => p.container === req.container);
  const rules = async (action: '-A' | '-D', ip: string) => {
    for (const p of publish)
      for (const [table, chain, rule] of publishedRules(host, p, ip))
        await run(['ip', 'netns', 'exec', hostNs, 'iptables', '-t', table, action, chain, ...rule]);
  };
  const killIn = async (namespace: string, wanted: (cmdline: string) => boolean) => {
    const pids = (await runner.run(['ip', 'netns', 'pids', namespace], { check: false })).stdout.split('\n').filter((p) => /^\d+$/.test(p));
    for (const pid of pids) {
      const cmdline = (await runner.run(['cat', `/proc/${pid}/cmdline`], { check: false })).stdout;
      if (wanted(cmdline)) await run(['kill', '-KILL', pid], false);
    }
  };
  const stop = async (ip: string) => {
    await rules('-D', ip);
    // libnetwork's clearEndpointConnections (drivers/bridge, 20.10 too): the entries NATed to the container's address go.
    for (const side of ['--orig-dst', '--reply-src']) await run(['ip', 'netns', 'exec', hostNs, 'conntrack', '-D', side, ip], false);
    const services = servicesOf(lab, host, req.container, ip).map((s) => `${s.argv.join('\0')}\0`);
    await killIn(hostNs, (cmdline) => services.includes(cmdline));
    await killIn(ns, () => true);
    await run(['ip', '-n', hostNs, 'link', 'set', port, 'down']);
  };
  const start = async (ip: string) => {
    await run(['ip', '-n', hostNs, 'link', 'set', port, 'up']);
    for (const r of node(lab, req.container).routes) await run(['ip', '-n', ns, 'route', 'replace', r.to, 'via', r.via, 'dev', r.dev]);
    await rules('-A', ip);
    for (const [i, s] of servicesOf(lab, host, req.container, ip).entries()) {
      const argv = ['ip', 'netns', 'exec', hostNs, ...s.argv];
      done.push((s.shown ? ['ip', 'netns', 'exec', hostNs, ...s.shown] : argv).join(' ') + ' &');
      await runner.service(argv, path.join(workDir(lab.id), 'services', `${host.name}-${req.container}-${Date.now()}-${i}.log`));
    }
  };

  if (req.action === 'stop' || req.action === 'restart') {
    if (current.running) await stop(current.address);
    if (req.action === 'stop') return { done, name: current.name, address: current.address, running: false };
  }
  if (req.action === 'start' || req.action === 'restart') {
    if (!current.running || req.action === 'restart') await start(current.address);
    return { done, name: current.name, address: current.address, running: true };
  }
  // replace: the old container goes (docker rm -f), a new one comes up under the lab's name with its new address.
  const address = req.with?.address ?? current.address;
  const d = host.docker!;
  if (current.running) await stop(current.address);
  await run(['ip', '-n', hostNs, 'link', 'del', port], false);
  await run(['ip', 'netns', 'delete', ns]);
  await run(['ip', 'netns', 'add', ns]);
  await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  await run(['ip', '-n', hostNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await run(['ip', '-n', hostNs, 'link', 'set', port, 'master', d.bridge]);
  if (!d.userlandProxy) await run(['ip', '-n', hostNs, 'link', 'set', port, 'type', 'bridge_slave', 'hairpin', 'on']);
  await run(['ip', '-n', ns, 'addr', 'add', `${address}/${d.prefix}`, 'dev', 'eth0']);
  await run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
  for (const [key, value] of Object.entries(node(lab, req.container).sysctls)) await run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', `${key}=${value}`]);
  await start(address);
  return { done, name: req.with?.name ?? current.name, address, running: true };
}
