/** The resolved lab: every address, interface and route decided, ready for a provider. */
import type { Change } from './schema.js';
import type { Expectation } from './expect.js';

export type NodeKind = 'host' | 'router' | 'container';

export interface Interface {
  name: string;
  address: string;
  prefix: number;
  /** The link this interface belongs to (index into ResolvedLab.links), absent for container/bridge ports. */
  link?: number;
  /** Set by the lab file (`mtu:` on its link); absent means the kernel's default. */
  mtu?: number;
  peer?: { node: string; iface: string };
}

export interface Route {
  to: string; // 'default' or a CIDR
  via: string;
  dev: string;
}

export interface PublishedPort {
  container: string;
  containerIp: string;
  containerPort: number;
  hostIp: string;
  hostPort: number;
  proto: 'tcp' | 'udp';
}

export interface DockerBridge {
  bridge: string;
  subnet: string;
  gateway: string;
  prefix: number;
  userlandProxy: boolean;
  /** Whether frames bridged on `bridge` pass iptables (net.bridge.bridge-nf-call-iptables in the host's namespace); absent: as the kernel has it. */
  bridgeNetfilter?: boolean;
  publish: PublishedPort[];
  /** The lab file's engine for this node (emulated, host or a series such as 26.1); absent: emulated unless --docker says. */
  engine?: string;
}

export interface ResolvedNode {
  name: string;
  kind: NodeKind;
  profile: 'plain' | 'docker-host' | 'docker-desktop-host' | 'container';
  description?: string;
  /** For a container: the docker host it runs on. */
  host?: string;
  interfaces: Interface[];
  routes: Route[];
  sysctls: Record<string, string>;
  docker?: DockerBridge;
  /** docker-desktop-wsl2 host side: its VM, the NATed switch, and the ports its forwarder carries. */
  desktop?: DesktopHost;
  containers: string[];
  /**
   * This host's or router's own kernel (a Debian series, 5.10) when the lab's nodes run different kernels; absent when
   * they share one (ResolvedLab.kernel). Read it with nodeKernel() (lab/node-kernels.ts), which falls back to the lab's.
   */
  kernel?: string;
}

export interface DesktopHost {
  vm: string;
  switchIface: string;
  switchSubnet: string;
  forwards: Array<{ proto: 'tcp' | 'udp'; hostPort: number; vmIp: string; vmPort: number }>;
}

export interface ResolvedLink {
  index: number;
  subnet: string;
  endpoints: [LinkEnd, LinkEnd];
  /** Egress impairments, one per (endpoint, interface) that shapes traffic leaving it. */
  impairments: LinkImpairment[];
  description?: string;
}

export interface LinkImpairment {
  node: string;
  iface: string;
  delay?: string;
  jitter?: string;
  loss?: string;
  reorder?: string;
  rate?: string;
}

/** netem is needed for everything but a plain rate limit (tbf does that). */
export function needsNetem(i: LinkImpairment): boolean {
  return Boolean(i.delay || i.loss || i.reorder);
}

export interface LinkEnd {
  node: string;
  iface: string;
  address: string;
}

export interface ResolvedVariant {
  name: string;
  description: string;
  changes: Change[];
  params: Record<string, unknown>;
  /** Expected verdicts by kernel range, as written in the lab file (possibly empty). */
  expect: Expectation[];
  /** The node and link settings the variant sets (set:), as a report lists them: "node client: docker.userlandProxy = false". */
  overrides?: string[];
  /** The lab's nodes and links as those settings make them: the variant runs on a copy of the lab built from these. */
  topology?: Pick<ResolvedLab, 'nodes' | 'links'>;
}

export interface ResolvedLab {
  name: string;
  /** What names this copy of the lab on the machine: the lab's name, or name+instance. */
  id: string;
  instance?: string;
  /**
   * The Debian kernel series (5.10, 6.1, 6.12) every node runs (--kernel, or the same `kernel:` on every node); absent on
   * this machine's kernel, and when the nodes' kernels differ (then each node has its own, ResolvedNode.kernel).
   */
  kernel?: string;
  /** The --kernel that named this lab's kernels ("5.10", "client=6.1"), which its id carries: for the commands shown to a user. */
  kernelArg?: string;
  title: string;
  description: string;
  upstream: string[];
  file: string;
  dir: string;
  nodes: ResolvedNode[];
  links: ResolvedLink[];
  /** verdict: a coded scenario's rules as the lab file wrote them (run/declarative/coded.ts parses them). */
  scenario: { kind: string; params: Record<string, unknown>; verdict?: unknown };
  variants: ResolvedVariant[];
  /** Each provider's own section of the lab file, by provider name; only when the file has one. */
  settings?: Readonly<Record<string, unknown>>;
}

export function nodeByName(lab: ResolvedLab, name: string): ResolvedNode {
  const node = lab.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`internal: no node ${name} in resolved lab ${lab.name}`);
  return node;
}

/** The address other nodes reach this node at: its first interface's address. */
export function primaryAddress(node: ResolvedNode): string {
  const first = node.interfaces[0];
  if (!first) throw new Error(`internal: node ${node.name} has no interface`);
  return first.address;
}
