/**
 * The netns plan: the exact commands that build a resolved lab, grouped in named steps.
 * Every command runs inside one of the lab's namespaces (`ip -n`, `ip netns exec`);
 * only `ip netns add` touches the machine, and it adds a namespace, nothing else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type Handlebars from 'handlebars';
import { needsNetem, type DockerBridge, type LinkImpairment, type ResolvedLab, type ResolvedNode } from '../../lab/model.js';
import { templatesDir } from '../../paths.js';
import { containerPort, namespaceOf } from './names.js';

export interface PlannedCommand {
  argv: string[];
  input?: string;
}

export interface PlannedStep {
  title: string;
  commands: PlannedCommand[];
}

export interface NetnsPlan {
  namespaces: string[];
  steps: PlannedStep[];
  services: PlannedService[];
}

/** A process the lab keeps running while it is up (e.g. docker-proxy), started in a node's namespace. */
export interface PlannedService {
  node: string;
  name: string;
  argv: string[];
  /** What a printed plan shows instead of argv, when argv carries a whole program (python3 -c). */
  shown?: string[];
}

let handlebars: typeof Handlebars | undefined;
let dockerRules: Handlebars.TemplateDelegate | undefined;
let desktopRules: Handlebars.TemplateDelegate | undefined;

/** Handlebars loads with the first template, from its one-file build (its package entry is some fifty modules). */
function template(name: string): Handlebars.TemplateDelegate {
  if (!handlebars) {
    handlebars = (createRequire(import.meta.url)('handlebars/dist/handlebars.js') as typeof Handlebars).create();
    handlebars.registerHelper('isAny', (ip: string) => ip === '0.0.0.0');
  }
  return handlebars.compile(fs.readFileSync(path.join(templatesDir, 'netns', name), 'utf8'), { noEscape: true, strict: true });
}

export function desktopHostRules(node: ResolvedNode): string {
  desktopRules ??= template('docker-desktop-host.rules.hbs');
  return desktopRules({ switchIface: node.desktop!.switchIface, switchSubnet: node.desktop!.switchSubnet });
}

export function dockerHostRules(node: ResolvedNode): string {
  dockerRules ??= template('docker-host.rules.hbs');
  const d = node.docker!;
  return dockerRules({ bridge: d.bridge, subnet: d.subnet, publish: d.publish, userlandProxy: d.userlandProxy });
}

/**
 * The sysctls dockerd's bridge driver leaves in its namespace, beside its rules. bridge-nf-call-iptables: dockerd
 * modprobes br_netfilter when /proc/sys/net/bridge is missing, whose default is 1, and writes 1 itself only when ICC is
 * off (bridge_linux.go configure and createNetwork, setup_bridgenetfiltering.go). Written only when the lab file sets
 * docker.bridgeNetfilter: loading br_netfilter would change every bridge of the machine, and a stock Debian kernel has it
 * as a module. route_localnet on the bridge: setupLoopbackAddressesRouting, with the userland proxy off only.
 */
const BRIDGE_NF_KEY = 'net.bridge.bridge-nf-call-iptables';

export function dockerHostSysctls(d: DockerBridge): Array<[string, string]> {
  return [
    ...(d.bridgeNetfilter === undefined ? [] : [[BRIDGE_NF_KEY, d.bridgeNetfilter ? '1' : '0'] as [string, string]]),
    ...(d.userlandProxy ? [] : [[`net.ipv4.conf.${d.bridge}.route_localnet`, '1'] as [string, string]]),
  ];
}

/** docker-proxy as dockerd starts it for each published port when the userland proxy is on (its default). */
export function dockerProxies(lab: ResolvedLab, dockerProxyPath: string): PlannedService[] {
  const forwarders = lab.nodes.flatMap((n) =>
    (n.desktop?.forwards ?? []).map((f) => ({
      node: n.name,
      name: `port forwarder ${f.proto} :${f.hostPort} -> ${f.vmIp}:${f.vmPort}`,
      argv: [
        dockerProxyPath,
        '-proto',
        f.proto,
        '-host-ip',
        '0.0.0.0',
        '-host-port',
        String(f.hostPort),
        '-container-ip',
        f.vmIp,
        '-container-port',
        String(f.vmPort),
      ],
    })),
  );
  return [
    ...forwarders,
    ...lab.nodes.flatMap((n) =>
      n.docker?.userlandProxy
        ? n.docker.publish.map((p) => ({
            node: n.name,
            name: `docker-proxy ${p.proto} ${p.hostIp}:${p.hostPort} -> ${p.containerIp}:${p.containerPort}`,
            argv: [
              dockerProxyPath,
              '-proto',
              p.proto,
              '-host-ip',
              p.hostIp,
              '-host-port',
              String(p.hostPort),
              '-container-ip',
              p.containerIp,
              '-container-port',
              String(p.containerPort),
            ],
          }))
        : [],
    ),
  ];
}

let portHolder: string | undefined;

/** With the userland proxy off dockerd still binds each published port itself, a socket it never reads (port-holder.py). */
export function portHolders(lab: ResolvedLab): PlannedService[] {
  return lab.nodes.flatMap((n) =>
    n.docker && !n.docker.userlandProxy
      ? n.docker.publish.map((p) => {
          portHolder ??= fs.readFileSync(path.join(templatesDir, 'netns', 'port-holder.py'), 'utf8');
          const args = [p.proto, p.hostIp, String(p.hostPort)];
          return {
            node: n.name,
            name: `port held by dockerd ${p.proto} ${p.hostIp}:${p.hostPort} (userland proxy off)`,
            argv: ['python3', '-I', '-S', '-c', portHolder, ...args],
            shown: ['python3', 'templates/netns/port-holder.py', ...args],
          };
        })
      : [],
  );
}

/**
 * `real`: docker-host nodes whose Docker is a real dockerd (src/providers/netns/engine.ts). The plan leaves their
 * bridge, containers, rules and docker-proxy to that daemon; their containers' namespaces are attached once running.
 */
export function planLab(
  lab: ResolvedLab,
  dockerProxyPath = 'docker-proxy',
  real: ReadonlySet<string> = new Set(),
  // Nodes whose namespace exists already (an existing engine's host): attached by the engine step, never made or changed here.
  attached: ReadonlySet<string> = new Set(),
): NetnsPlan {
  const ns = (node: string) => namespaceOf(lab.id, node);
  const ipn = (node: string, ...args: string[]): PlannedCommand => ({ argv: ['ip', '-n', ns(node), ...args] });
  const inNs = (node: string, ...args: string[]): PlannedCommand => ({ argv: ['ip', 'netns', 'exec', ns(node), ...args] });
  const namespaces = lab.nodes.filter((n) => !attached.has(n.name)).map((n) => ns(n.name));
  const byDocker = (n: ResolvedNode) => n.kind === 'container' && real.has(n.host!);
  const nodes = lab.nodes.filter((n) => !byDocker(n) && !attached.has(n.name));

  const create: PlannedCommand[] = nodes.flatMap((n) => [{ argv: ['ip', 'netns', 'add', ns(n.name)] }, ipn(n.name, 'link', 'set', 'lo', 'up')]);

  const wire: PlannedCommand[] = lab.links.map((link) => {
    const [a, b] = link.endpoints;
    return ipn(a.node, 'link', 'add', a.iface, 'type', 'veth', 'peer', 'name', b.iface, 'netns', ns(b.node));
  });

  const bridges: PlannedCommand[] = [];
  for (const host of lab.nodes.filter((n) => n.docker && !real.has(n.name))) {
    const d = host.docker!;
    bridges.push(
      ipn(host.name, 'link', 'add', d.bridge, 'type', 'bridge'),
      ipn(host.name, 'addr', 'add', `${d.gateway}/${d.prefix}`, 'dev', d.bridge),
      ipn(host.name, 'link', 'set', d.bridge, 'up'),
    );
    for (const cname of host.containers) {
      const port = containerPort(cname);
      bridges.push(
        ipn(host.name, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns(cname)),
        ipn(host.name, 'link', 'set', port, 'master', d.bridge),
        ipn(host.name, 'link', 'set', port, 'up'),
        // With the userland proxy off dockerd turns hairpin mode on for each container's port (CreateEndpoint, setHairpinMode).
        ...(d.userlandProxy ? [] : [ipn(host.name, 'link', 'set', port, 'type', 'bridge_slave', 'hairpin', 'on')]),
      );
    }
  }

  const addresses: PlannedCommand[] = nodes.flatMap((n) =>
    n.interfaces.flatMap((i) => [
      ...(i.mtu ? [ipn(n.name, 'link', 'set', i.name, 'mtu', String(i.mtu))] : []),
      ipn(n.name, 'addr', 'add', `${i.address}/${i.prefix}`, 'dev', i.name),
      ipn(n.name, 'link', 'set', i.name, 'up'),
    ]),
  );

  const routes: PlannedCommand[] = nodes.flatMap((n) => n.routes.map((r) => ipn(n.name, 'route', 'add', r.to, 'via', r.via, 'dev', r.dev)));

  // A real dockerd turns forwarding on itself and then sets FORWARD's policy to DROP, as on a machine where Docker was the
  // one to turn it on; found on already, it leaves the policy ACCEPT (moby's integration/network/bridge/iptablesdoc,
  // new-daemon.md). Measured: that policy was the only difference between iptables-save of the imitation and of 20.10/26.1.
  // The bridge's own sysctls are the daemon's to write there; bridge filtering is the machine's (br_netfilter loaded, or
  // switched off by the administrator), written before dockerd starts, which leaves it as found when /proc/sys/net/bridge exists.
  const ownSysctls = (n: ResolvedNode) => Object.entries(n.sysctls).filter(([k]) => !(real.has(n.name) && k === 'net.ipv4.ip_forward'));
  const bridgeSysctls = (n: ResolvedNode) =>
    !n.docker ? [] : real.has(n.name) ? dockerHostSysctls(n.docker).filter(([k]) => k === BRIDGE_NF_KEY) : dockerHostSysctls(n.docker);
  const sysctls: PlannedCommand[] = nodes.flatMap((n) => [...ownSysctls(n), ...bridgeSysctls(n)].map(([k, v]) => inNs(n.name, 'sysctl', '-qw', `${k}=${v}`)));

  const impairments: PlannedCommand[] = lab.links.flatMap((link) =>
    link.impairments.map((i) => inNs(i.node, 'tc', 'qdisc', 'add', 'dev', i.iface, 'root', ...qdiscArgs(i))),
  );

  const firewall: PlannedCommand[] = lab.nodes
    .filter((n) => (n.profile === 'docker-host' && !real.has(n.name)) || n.desktop)
    .map((n) => ({ ...inNs(n.name, 'iptables-restore'), input: n.desktop ? desktopHostRules(n) : dockerHostRules(n) }));

  const steps: PlannedStep[] = [
    { title: `Create ${nodes.length} namespaces`, commands: create },
    { title: `Wire ${lab.links.length} links`, commands: wire },
    { title: 'Bridges and containers', commands: bridges },
    { title: 'Addresses', commands: addresses },
    { title: 'Routes', commands: routes },
    { title: 'Sysctls', commands: sysctls },
    { title: 'Firewall rules (Docker profiles)', commands: firewall },
    { title: 'Link impairment', commands: impairments },
  ];
  const services = [...dockerProxies(lab, dockerProxyPath), ...portHolders(lab)].filter((s) => !real.has(s.node));
  return { namespaces, steps: steps.filter((s) => s.commands.length > 0), services };
}

/** netem when delay, loss or reorder is asked for; a plain rate limit uses tbf, which every kernel has. */
export function qdiscArgs(i: LinkImpairment): string[] {
  if (!needsNetem(i)) return ['tbf', 'rate', i.rate!, 'burst', '32kbit', 'latency', '400ms'];
  const args = ['netem'];
  if (i.delay) args.push('delay', i.delay, ...(i.jitter ? [i.jitter] : []));
  if (i.loss) args.push('loss', i.loss);
  if (i.reorder) args.push('reorder', i.reorder);
  if (i.rate) args.push('rate', i.rate);
  return args;
}

/** The plan as text, one command a line, for `lab up --dry-run` and golden tests. */
export function renderPlan(plan: NetnsPlan): string {
  const lines: string[] = [];
  for (const step of plan.steps) {
    lines.push(`# ${step.title}`);
    for (const c of step.commands) {
      lines.push(c.argv.join(' ') + (c.input ? ' <<EOF' : ''));
      if (c.input) lines.push(c.input.trimEnd(), 'EOF');
    }
  }
  if (plan.services.length) lines.push('# Services (kept running in the background)');
  for (const s of plan.services) lines.push(`ip netns exec ${namespaceOfService(plan, s)} ${(s.shown ?? s.argv).join(' ')} &`);
  return `${lines.join('\n')}\n`;
}

function namespaceOfService(plan: NetnsPlan, service: PlannedService): string {
  return plan.namespaces.find((n) => n.endsWith(`.${service.node}`)) ?? service.node;
}
