/**
 * A VM names its network devices itself (eth0 is Vagrant's management network): the lab's
 * interfaces are found on the VM by their addresses, and the lab handed to a run uses those names.
 */
import { LabError } from '../../errors.js';
import type { ResolvedLab, ResolvedNode } from '../../lab/model.js';
import type { Transport } from '../../transport/types.js';

/** node -> the lab's interface name -> the VM's device. */
export type DeviceMap = Record<string, Record<string, string>>;

export async function interfaceDevices(t: Transport, node: ResolvedNode): Promise<Record<string, string>> {
  const out = (await t.exec(['ip', '-o', '-4', 'addr', 'show'])).stdout;
  const byAddress = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\//.exec(line);
    if (m) byAddress.set(m[2]!, m[1]!.replace(/@.*$/, ''));
  }
  const devices: Record<string, string> = {};
  for (const i of node.interfaces) {
    const device = byAddress.get(i.address);
    if (!device)
      throw new LabError(`VM ${node.name} has no device with the lab's address ${i.address} (${i.name})`, {
        details: [out.trim()],
        hint: "the Vagrantfile's private network did not come up; see the VM's console log",
        kind: 'failure',
      });
    devices[i.name] = device;
  }
  return devices;
}

export function localizeLab(lab: ResolvedLab, devices: DeviceMap): ResolvedLab {
  const rename = (node: string, iface: string) => devices[node]?.[iface] ?? iface;
  return {
    ...lab,
    nodes: lab.nodes.map((n) => ({
      ...n,
      interfaces: n.interfaces.map((i) => ({
        ...i,
        name: rename(n.name, i.name),
        ...(i.peer ? { peer: { node: i.peer.node, iface: rename(i.peer.node, i.peer.iface) } } : {}),
      })),
      routes: n.routes.map((r) => ({ ...r, dev: rename(n.name, r.dev) })),
    })),
    links: lab.links.map((l) => ({
      ...l,
      endpoints: [
        { ...l.endpoints[0], iface: rename(l.endpoints[0].node, l.endpoints[0].iface) },
        { ...l.endpoints[1], iface: rename(l.endpoints[1].node, l.endpoints[1].iface) },
      ],
    })),
  };
}
