/** What a declared scenario may name: the lab's nodes, which share a link, and the addresses ${<node>.address} stands for. */
import type { DeclaredTopology } from '../../lab/declared/parse.js';
import { primaryAddress, type ResolvedLab } from '../../lab/model.js';

export function declaredTopology(lab: ResolvedLab): DeclaredTopology {
  return {
    nodes: lab.nodes.map((n) => n.name),
    linked: lab.links.map((l) => [l.endpoints[0].node, l.endpoints[1].node]),
    addresses: Object.fromEntries(lab.nodes.filter((n) => n.interfaces.length > 0).map((n) => [n.name, primaryAddress(n)])),
    docker: Object.fromEntries(
      lab.nodes
        .filter((n) => n.profile === 'docker-host' && n.docker)
        .map((n) => [
          n.name,
          {
            containers: n.containers,
            subnet: n.docker!.subnet,
            taken: [n.docker!.gateway, ...n.containers.map((c) => primaryAddress(lab.nodes.find((x) => x.name === c)!))],
          },
        ]),
    ),
  };
}
