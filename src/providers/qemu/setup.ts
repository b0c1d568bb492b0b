/**
 * Each guest made into its node: the NICs named as the lab names them, the node's namespace name bound to the guest's
 * root namespace (`ip netns attach <name> 1`), so that the netns provider's plan, its container steps and its transport
 * work there unchanged while every command of the node runs in the root namespace of a kernel of its own (where
 * nf_conntrack_max and the other init-namespace-only knobs can be written). Containers stay namespaces of their host's guest.
 */
import { LabError } from '../../errors.js';
import type { ResolvedLab } from '../../lab/model.js';
import type { Runner } from '../../transport/runner.js';
import { namespaceOf, namespacePrefix } from '../netns/names.js';
import { setsBridgeFiltering } from '../netns/kernel.js';
import type { NetnsPlan, PlannedCommand } from '../netns/plan.js';
import { guestNodeOf, nodesOfGuest, type GuestPlan } from './layout.js';

const MODPROBE = '/run/lab-modprobe';

/** The NICs by MAC as the guest's kernel named them (`ip -o link`), renamed to the lab's names through temporary ones. */
export function renameBatch(ipLinkOutput: string, plan: GuestPlan): string {
  const byMac = new Map<string, string>();
  for (const line of ipLinkOutput.split('\n')) {
    const m = /^\d+:\s+([^:@\s]+)[:@].*link\/ether\s+([0-9a-f:]{17})/.exec(line);
    if (m) byMac.set(m[2]!, m[1]!);
  }
  const missing = plan.nics.filter((n) => !byMac.has(n.mac));
  if (missing.length)
    throw new LabError(`the guest of ${plan.node} has no NIC for ${missing.map((n) => `${n.iface} (links[${n.link}])`).join(', ')}`, { kind: 'failure' });
  const temporary = plan.nics.map((n, i) => `link set dev ${byMac.get(n.mac)} name labnic${i}`);
  const final = plan.nics.map((n, i) => `link set dev labnic${i} name ${n.iface}`);
  return `${[...temporary, ...final].join('\n')}\n`;
}

/** virtio_net, the NICs' names, and the node's namespace name on the root namespace. */
export async function prepareGuest(lab: ResolvedLab, plan: GuestPlan, runner: Runner): Promise<void> {
  const own = nodesOfGuest(lab, plan.node);
  const netfilterSysctls = own.some((n) => Object.keys(n.sysctls).some((k) => k.startsWith('net.netfilter.')));
  // As in the netns provider's --kernel guest (needsBridgeNetfilter): the guest is the node's own machine, where dockerd loads it.
  const bridgeFiltering = own.some(setsBridgeFiltering);
  const modules = [
    ...(plan.nics.length ? ['virtio_net'] : []),
    ...(netfilterSysctls ? ['nf_conntrack'] : []),
    ...(bridgeFiltering ? ['bridge', 'br_netfilter'] : []),
  ];
  // The kernel's hostname is "(none)" until set: a login's prompt and `hostname` name the node. Beside modprobe, no extra wait.
  await Promise.all([runner.run(['hostname', plan.node]), modules.length ? runner.run([MODPROBE, '-a', ...modules], { timeoutMs: 120_000 }) : undefined]);
  if (plan.nics.length) {
    const links = await runner.run(['ip', '-o', 'link', 'show']);
    await runner.run(['ip', '-batch', '-'], { input: renameBatch(links.stdout, plan) });
  }
  await runner.run(['ip', 'netns', 'attach', namespaceOf(lab.id, plan.node), '1']);
}

/** The namespace a plan command acts in (`ip -n NS`, `ip netns add|exec NS`). */
function namespaceIn(argv: readonly string[]): string | undefined {
  if (argv[0] !== 'ip') return undefined;
  if (argv[1] === '-n') return argv[2];
  if (argv[1] === 'netns' && (argv[2] === 'add' || argv[2] === 'exec')) return argv[3];
  return undefined;
}

/** A veth whose peer goes to another guest's namespace: a lab link, which the guests' NICs carry instead. */
function crossesGuests(lab: ResolvedLab, argv: readonly string[], guest: string, nodeOf: (ns: string) => string): boolean {
  const at = argv.lastIndexOf('netns');
  const isVeth = argv.includes('veth') && argv.includes('peer');
  return isVeth && at > 2 && guestNodeOf(lab, nodeOf(argv[at + 1]!)) !== guest;
}

/**
 * The netns plan's commands by guest. Dropped: `ip netns add` of a node that is a guest (its name is the guest's root
 * namespace, attached in prepareGuest) and the veth of a link between two guests (their NICs are that link).
 */
export function commandsByGuest(lab: ResolvedLab, plan: NetnsPlan): Map<string, PlannedCommand[]> {
  const prefix = namespacePrefix(lab.id);
  const nodeOf = (ns: string) => {
    if (!ns.startsWith(prefix)) throw new LabError(`internal: the plan names namespace ${ns} outside the lab`);
    return ns.slice(prefix.length);
  };
  const out = new Map<string, PlannedCommand[]>();
  for (const c of plan.steps.flatMap((s) => s.commands)) {
    const ns = namespaceIn(c.argv);
    if (!ns) throw new LabError(`internal: the plan's command ${c.argv.slice(0, 4).join(' ')} names no namespace`);
    const node = nodeOf(ns);
    const guest = guestNodeOf(lab, node);
    if (c.argv[1] === 'netns' && c.argv[2] === 'add' && guest === node) continue;
    if (crossesGuests(lab, c.argv, guest, nodeOf)) continue;
    out.set(guest, [...(out.get(guest) ?? []), c]);
  }
  return out;
}

/** `lab up --dry-run`: each guest, its kernel, size and NICs, then the commands run in it, one a line. */
export function renderGuestPlan(lab: ResolvedLab, guests: GuestPlan[], plan: NetnsPlan, size: { memoryMib: number; tbSizeMib: number }): string {
  const byGuest = commandsByGuest(lab, plan);
  const lines: string[] = [];
  for (const g of guests) {
    lines.push(`# guest ${g.node}: kernel ${g.series}, ${size.memoryMib} MiB + ${size.tbSizeMib} MiB translation cache, 1 vCPU`);
    for (const n of g.nics) lines.push(`#   NIC ${n.iface} ${n.mac} (links[${n.link}]): dgram ${n.local} -> ${n.remote}`);
    lines.push(`ip netns attach ${namespaceOf(lab.id, g.node)} 1`);
    for (const c of byGuest.get(g.node) ?? []) {
      lines.push(c.argv.join(' ') + (c.input ? ' <<EOF' : ''));
      if (c.input) lines.push(c.input.trimEnd(), 'EOF');
    }
  }
  for (const s of plan.services)
    lines.push(`# in ${guestNodeOf(lab, s.node)}: ip netns exec ${namespaceOf(lab.id, s.node)} ${(s.shown ?? s.argv).join(' ')} &`);
  return `${lines.join('\n')}\n`;
}
