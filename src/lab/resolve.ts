/**
 * Decide every address, interface name and route from the links. Hosts with a single link to a
 * router get a default route through it; every other node gets a route per remote subnet along
 * the shortest path through routers.
 */
import path from 'node:path';
import type { LabFile, VariantSpec } from './schema.js';
import { applyOverrides, describeOverrides, sysctlsAsChanges } from './overrides.js';
import { cidrSize, formatCidr, formatIp, hostAddress, overlaps, parseCidr, parseIp, type Cidr } from './ip.js';
import type { Interface, ResolvedLab, ResolvedLink, ResolvedNode, ResolvedVariant, Route } from './model.js';
import { LabError } from '../errors.js';
import { expandDesktops } from './profiles/docker-desktop-wsl2.js';
import { formatPath } from './problems.js';
import { expandVariants } from './combinations.js';

const ALLOCATED_PREFIX = 24;

/** Instances of one lab run side by side; '+' never occurs in lab or instance names. */
export function labId(name: string, instance?: string, kernel?: string): string {
  const base = instance ? `${name}+${instance}` : name;
  return kernel ? `${base}@${kernel.replace('.', '-')}` : base;
}

export function resolveLab(original: LabFile, file: string, instance?: string): ResolvedLab {
  const { nodes, links } = resolveTopology(original, file);
  return {
    name: original.name,
    id: labId(original.name, instance),
    ...(instance ? { instance } : {}),
    title: original.title,
    description: original.description,
    upstream: original.upstream,
    file,
    dir: path.dirname(file),
    nodes,
    links,
    scenario: original.scenario,
    variants: expandVariants(original).variants.map(({ name, spec }) => resolveVariant(original, file, name, spec)),
    ...(original.settings ? { settings: original.settings } : {}),
  };
}

/**
 * A variant with settings of its own (set:) carries the topology they make, resolved like the lab's; one that sets
 * only sysctls has them as changes to the live lab instead.
 */
function resolveVariant(lab: LabFile, file: string, name: string, spec: VariantSpec): ResolvedVariant {
  const asChanges = spec.set ? sysctlsAsChanges(spec.set) : undefined;
  const overrides = describeOverrides(spec.set);
  const topology = spec.set && !asChanges ? resolveTopology(applyOverrides(lab, spec.set), file) : undefined;
  return {
    name,
    description: spec.description,
    changes: [...(asChanges ?? []), ...spec.changes],
    params: { ...lab.scenario.params, ...spec.params },
    expect: spec.expect,
    ...(overrides.length ? { overrides } : {}),
    ...(topology ? { topology } : {}),
  };
}

function resolveTopology(original: LabFile, file: string): Pick<ResolvedLab, 'nodes' | 'links'> {
  const expansion = expandDesktops(original);
  if (expansion.problems.length) {
    throw new LabError(`${file} has ${expansion.problems.length} problem(s)`, {
      details: expansion.problems.map((p) => `${formatPath(p.path)}: ${p.message}`),
    });
  }
  const lab = expansion.lab;
  const forwarders = new Set(expansion.desktops.map((d) => d.host));
  const subnets = allocateSubnets(lab);
  const nodes = new Map<string, ResolvedNode>();
  for (const [name, spec] of Object.entries(lab.nodes)) {
    nodes.set(name, {
      name,
      kind: spec.role,
      profile: spec.profile === 'docker-desktop-wsl2' ? 'docker-desktop-host' : spec.profile,
      description: spec.description,
      interfaces: [],
      routes: [],
      sysctls: { ...(spec.role === 'router' || spec.profile === 'docker-host' ? { 'net.ipv4.ip_forward': '1' } : {}), ...(spec.sysctls ?? {}) },
      containers: [],
      ...(spec.kernel === undefined ? {} : { kernel: String(spec.kernel) }),
    });
  }

  const links: ResolvedLink[] = lab.links.map((link, index) => {
    const subnet = subnets[index]!;
    const taken = new Set(Object.values(link.addresses ?? {}).map((a) => parseIp(a)!));
    let next = 1;
    const ends = link.endpoints.map((nodeName) => {
      const node = nodes.get(nodeName)!;
      let addr = link.addresses?.[nodeName] ? parseIp(link.addresses[nodeName]!)! : undefined;
      while (addr === undefined) {
        const candidate = hostAddress(subnet, next++);
        if (candidate === undefined) throw new LabError(`${file}: links[${index}]: subnet ${formatCidr(subnet)} has no free address left`);
        if (!taken.has(candidate)) addr = candidate;
      }
      taken.add(addr);
      const iface = `eth${node.interfaces.length}`;
      const mtu = typeof link.mtu === 'number' ? link.mtu : link.mtu?.[nodeName];
      node.interfaces.push({ name: iface, address: formatIp(addr), prefix: subnet.prefix, link: index, ...(mtu ? { mtu } : {}) });
      return { node: nodeName, iface, address: formatIp(addr) };
    }) as ResolvedLink['endpoints'];
    const [a, b] = ends;
    nodes.get(a.node)!.interfaces.at(-1)!.peer = { node: b.node, iface: b.iface };
    nodes.get(b.node)!.interfaces.at(-1)!.peer = { node: a.node, iface: a.iface };
    const impairments = (link.impairment ?? []).flatMap(({ from, ...shape }) =>
      ends.filter((e) => !from || e.node === from).map((e) => ({ node: e.node, iface: e.iface, ...shape })),
    );
    return { index, subnet: formatCidr(subnet), endpoints: ends, impairments, description: link.description };
  });

  for (const node of nodes.values()) node.routes = routesFor(node, nodes, links, forwarders);

  const containers: ResolvedNode[] = [];
  for (const [hostName, spec] of Object.entries(lab.nodes)) {
    if (spec.profile !== 'docker-host') continue;
    const host = nodes.get(hostName)!;
    const bridgeSubnet = parseCidr(spec.docker?.subnet ?? '172.17.0.0/16')!;
    const gateway = formatIp(hostAddress(bridgeSubnet, 1)!);
    host.docker = {
      bridge: spec.docker?.bridge ?? 'docker0',
      subnet: formatCidr(bridgeSubnet),
      gateway,
      prefix: bridgeSubnet.prefix,
      userlandProxy: spec.docker?.userlandProxy ?? true,
      ...(spec.docker?.bridgeNetfilter === undefined ? {} : { bridgeNetfilter: spec.docker.bridgeNetfilter }),
      publish: [],
      ...(spec.docker?.engine ? { engine: spec.docker.engine } : {}),
    };
    const taken = new Set(Object.values(spec.containers ?? {}).flatMap((c) => (c.address ? [parseIp(c.address)!] : [])));
    let next = 2;
    for (const [cname, c] of Object.entries(spec.containers ?? {})) {
      let addr = c.address ? parseIp(c.address)! : undefined;
      while (addr === undefined) {
        const candidate = hostAddress(bridgeSubnet, next++)!;
        if (!taken.has(candidate)) addr = candidate;
      }
      taken.add(addr);
      host.containers.push(cname);
      containers.push({
        name: cname,
        kind: 'container',
        profile: 'container',
        description: c.description,
        host: hostName,
        interfaces: [{ name: 'eth0', address: formatIp(addr), prefix: bridgeSubnet.prefix, peer: { node: hostName, iface: host.docker.bridge } }],
        routes: [{ to: 'default', via: gateway, dev: 'eth0' }],
        sysctls: {},
        containers: [],
      });
    }
    for (const p of spec.docker?.publish ?? []) {
      const container = containers.find((c) => c.name === p.container)!;
      host.docker.publish.push({
        container: p.container,
        containerIp: container.interfaces[0]!.address,
        containerPort: p.containerPort ?? p.hostPort,
        hostIp: p.hostIp,
        hostPort: p.hostPort,
        proto: p.proto,
      });
    }
  }

  for (const d of expansion.desktops) {
    const host = nodes.get(d.host)!;
    const vm = nodes.get(d.vm)!;
    const sw = host.interfaces.find((i) => i.peer?.node === d.vm)!;
    const vmIp = vm.interfaces.find((i) => i.peer?.node === d.host)!.address;
    host.profile = 'docker-desktop-host';
    host.desktop = {
      vm: d.vm,
      switchIface: sw.name,
      switchSubnet: d.switchSubnet,
      forwards: (vm.docker?.publish ?? []).map((p) => ({ proto: p.proto, hostPort: p.hostPort, vmIp, vmPort: p.hostPort })),
    };
  }

  return { nodes: [...nodes.values(), ...containers], links };
}

function allocateSubnets(lab: LabFile): Cidr[] {
  const pool = parseCidr(lab.addressPool)!;
  const explicit = lab.links.flatMap((l) => (l.subnet ? [parseCidr(l.subnet)!] : []));
  const bridges = Object.values(lab.nodes).flatMap((n) => (n.profile === 'docker-host' ? [parseCidr(n.docker?.subnet ?? '172.17.0.0/16')!] : []));
  const used = [...explicit, ...bridges];
  const step = 2 ** (32 - ALLOCATED_PREFIX);
  let cursor = pool.network;
  return lab.links.map((link, i) => {
    if (link.subnet) return parseCidr(link.subnet)!;
    while (cursor + step <= pool.network + cidrSize(pool)) {
      const candidate = { network: cursor, prefix: ALLOCATED_PREFIX };
      cursor += step;
      if (!used.some((u) => overlaps(u, candidate))) {
        used.push(candidate);
        return candidate;
      }
    }
    throw new LabError(`links[${i}]: the address pool ${lab.addressPool} has no free /${ALLOCATED_PREFIX} left`, {
      hint: 'give the link a subnet or widen addressPool',
    });
  });
}

function routesFor(node: ResolvedNode, nodes: Map<string, ResolvedNode>, links: ResolvedLink[], forwarders: Set<string>): Route[] {
  const attached = new Set(node.interfaces.map((i) => i.link));
  const first = node.interfaces[0];
  const forwards = (name: string) => nodes.get(name)?.kind === 'router' || forwarders.has(name);
  if (node.kind === 'host' && node.interfaces.length === 1 && first?.peer && forwards(first.peer.node)) {
    const link = links[first.link!]!;
    const via = link.endpoints.find((e) => e.node === first.peer!.node)!.address;
    return [{ to: 'default', via, dev: first.name }];
  }
  const reached = firstHops(node, nodes, links, forwards);
  const routes: Route[] = [];
  for (const link of links) {
    if (attached.has(link.index)) continue;
    // The endpoint the search reached first, as a search for this link alone would have stopped at.
    let nearest: { order: number; hop: Hop } | undefined;
    for (const e of link.endpoints) {
      const r = reached.get(e.node);
      if (r && (!nearest || r.order < nearest.order)) nearest = r;
    }
    if (nearest) routes.push({ to: link.subnet, ...nearest.hop });
  }
  return routes;
}

type Hop = { via: string; dev: string };

/**
 * Breadth-first search from `from`, forwarding only through routers: every node it reaches, in the order reached,
 * with the first hop towards it. One search per node, not one per node and link (a 500-node line took 24 s).
 */
function firstHops(
  from: ResolvedNode,
  nodes: Map<string, ResolvedNode>,
  links: ResolvedLink[],
  forwards: (name: string) => boolean,
): Map<string, { order: number; hop: Hop }> {
  const reached = new Map<string, { order: number; hop: Hop }>();
  const queue: Array<{ name: string; hop: Hop | undefined }> = [{ name: from.name, hop: undefined }];
  const seen = new Set([from.name]);
  for (let i = 0; i < queue.length; i++) {
    const { name, hop } = queue[i]!;
    const node = nodes.get(name)!;
    if (name !== from.name) {
      reached.set(name, { order: i, hop: hop! });
      if (!forwards(node.name)) continue;
    }
    for (const iface of node.interfaces as Interface[]) {
      if (!iface.peer || seen.has(iface.peer.node)) continue;
      seen.add(iface.peer.node);
      const link = links[iface.link!]!;
      const peerAddr = link.endpoints.find((e) => e.node === iface.peer!.node)!.address;
      queue.push({ name: iface.peer.node, hop: hop ?? { via: peerAddr, dev: iface.name } });
    }
  }
  return reached;
}
