/**
 * The docker-desktop-wsl2 profile, as Docker Desktop on WSL2 carries a published port: a host side
 * (standing in for Windows) whose port forwarder listens on the published port, a NATed virtual
 * switch, the utility VM running the engine (Docker's rules and docker-proxy), and the containers.
 * A node with this profile is expanded, before addresses are resolved, into that host node, a VM
 * node "<name>-vm" with the node's containers and publish list, and the switch link between them.
 *
 * On a real engine (`--docker 20.10|26.1`) the VM's dockerd is configured as Docker Desktop's is: its userland proxy on,
 * every published port exposed through the proxy (Docker Desktop swaps dockerd's docker-proxy for its own port exposer,
 * moby/vpnkit#462); so a node of this profile cannot turn `docker.userlandProxy` off. The host side's forwarder stays
 * docker-proxy: Docker Desktop's own (com.docker.backend) is closed source.
 */
import type { LabFile, NodeSpec } from '../schema.js';
import { overlaps, parseCidr, formatIp, hostAddress } from '../ip.js';
import type { Problem } from '../problems.js';

export const VM_SUFFIX = '-vm';

export interface DesktopExpansion {
  lab: LabFile;
  desktops: Array<{ host: string; vm: string; switchSubnet: string }>;
  problems: Problem[];
}

export function expandDesktops(lab: LabFile): DesktopExpansion {
  const desktops: DesktopExpansion['desktops'] = [];
  const problems: Problem[] = [];
  const nodes: Record<string, NodeSpec> = {};
  const links = [...lab.links];
  for (const [name, spec] of Object.entries(lab.nodes)) {
    if (spec.profile !== 'docker-desktop-wsl2') {
      nodes[name] = spec;
      continue;
    }
    const vm = `${name}${VM_SUFFIX}`;
    const switchSubnet = spec.wsl?.subnet ?? '172.22.16.0/24';
    const cidr = parseCidr(switchSubnet)!;
    const clash = lab.links.find((l) => l.subnet && overlaps(parseCidr(l.subnet)!, cidr));
    if (clash)
      problems.push({
        path: ['nodes', name, 'wsl', 'subnet'],
        message: `the WSL switch subnet ${switchSubnet} overlaps link subnet ${clash.subnet}; give wsl.subnet another range`,
      });
    if (spec.docker?.userlandProxy === false)
      problems.push({
        path: ['nodes', name, 'docker', 'userlandProxy'],
        message:
          "Docker Desktop publishes every port through dockerd's userland proxy (its own port exposer in place of docker-proxy, moby/vpnkit#462): the docker-desktop-wsl2 profile keeps it on; remove userlandProxy: false, or use profile docker-host",
      });
    if (lab.nodes[vm]) problems.push({ path: ['nodes', vm], message: `the name ${vm} is taken by the VM of ${name}` });
    nodes[name] = {
      role: 'host',
      profile: 'plain',
      description: spec.description ?? 'Docker Desktop host side (standing in for Windows)',
      sysctls: { 'net.ipv4.ip_forward': '1', ...(spec.sysctls ?? {}) },
    };
    nodes[vm] = { role: 'host', profile: 'docker-host', description: `Docker Desktop utility VM of ${name}`, docker: spec.docker, containers: spec.containers };
    links.push({
      endpoints: [name, vm],
      subnet: switchSubnet,
      addresses: { [name]: formatIp(hostAddress(cidr, 1)!), [vm]: formatIp(hostAddress(cidr, 2)!) },
      description: 'WSL2 virtual switch (NATed by the host side)',
    });
    desktops.push({ host: name, vm, switchSubnet });
  }
  return { lab: { ...lab, nodes, links }, desktops, problems };
}
