/** `container: { node, name, do, with? }`: stops, starts, restarts or replaces a container of a docker host. */
import * as z from 'zod';
import { cidrSize, contains, parseCidr, parseIp } from '../../ip.js';
import { stepKind, type CheckContext } from '../kind.js';
import type { Recorded } from '../recorded.js';
import type { Path } from '../../problems.js';

/** What a `container` step does to a container of a docker host, as `docker stop|start|restart` and `docker rm -f` + `docker run` would. */
export const CONTAINER_ACTIONS = ['stop', 'start', 'restart', 'replace'] as const;

export const container = stepKind({
  schema: (k) =>
    z
      .strictObject({
        node: k.nodeName,
        name: k.nodeName,
        do: z.enum(CONTAINER_ACTIONS),
        with: z
          .strictObject({
            name: z
              .string()
              .regex(/^[a-z][a-z0-9-]{1,31}$/, 'a container name of 2 to 32 lowercase letters, digits and "-", starting with a letter')
              .optional(),
            address: k.ipv4.optional(),
          })
          .optional(),
      })
      .refine((c) => c.do === 'replace' || c.with === undefined, 'with (a new name or address) only for do: replace'),
  check(spec, c, at) {
    c.node(spec.node, [...at, 'node']);
    containerProblems(spec, c, at);
  },
  async execute(s, rt) {
    const request = { host: s.node, container: s.name, action: s.do, ...(s.with ? { with: s.with } : {}) };
    if (rt.first('container-restore')) {
      rt.onUndo(async () => void rt.rec.commands.push(containerRecord(s.node, ['container', 'restore'], await rt.restoreContainers())));
    }
    const outcome = await rt.container(request);
    const shown = ['container', s.do, s.name, ...(s.with?.name ? [`name=${s.with.name}`] : []), ...(s.with?.address ? [`address=${s.with.address}`] : [])];
    const state = `${outcome.name} ${outcome.running ? 'running' : 'stopped'} at ${outcome.address}`;
    rt.rec.commands.push(containerRecord(s.node, shown, [...outcome.done, `# ${state}`]));
  },
});

function containerRecord(node: string, argv: string[], done: string[]): Recorded['commands'][number] {
  return { node, argv, exitCode: 0, output: done.join('\n').slice(0, 4000) };
}

type ContainerSpec = { node: string; name: string; with?: { name?: string; address?: string } };

/** The container is one of the host's, and a replacement's new address is free on the host's bridge (and then taken). */
function containerProblems(spec: ContainerSpec, c: CheckContext, at: Path): void {
  const { topo } = c;
  if (!topo.nodes.includes(spec.node) || !topo.docker) return;
  const host = topo.docker[spec.node];
  if (!host) {
    const hosts = Object.keys(topo.docker).join(', ') || '(none)';
    return c.problem([...at, 'node'], `found "${spec.node}", expected a docker host of this lab: ${hosts}`);
  }
  if (!host.containers.includes(spec.name)) {
    return c.problem([...at, 'name'], `found "${spec.name}", expected a container of ${spec.node}: ${host.containers.join(', ') || '(none)'}`);
  }
  const address = spec.with?.address;
  if (address === undefined) return;
  const subnet = parseCidr(host.subnet)!;
  const ip = parseIp(address)!;
  if (!contains(subnet, ip) || ip === subnet.network || ip === subnet.network + cidrSize(subnet) - 1) {
    return c.problem([...at, 'with', 'address'], `found ${address}, expected a host address inside ${spec.node}'s bridge subnet ${host.subnet}`);
  }
  // Addresses in use on each docker host's bridge, as earlier replace steps leave them.
  const taken = c.state('container-taken', () => new Map(Object.entries(topo.docker ?? {}).map(([h, d]) => [h, new Set(d.taken)])));
  const used = taken.get(spec.node)!;
  if (used.has(address)) {
    return c.problem([...at, 'with', 'address'], `found ${address}, which is already in use on ${spec.node}'s bridge (${[...used].join(', ')})`);
  }
  used.add(address);
}
