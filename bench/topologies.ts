/** Generated lab files for scale benchmarks: a line of routers between two hosts, and a star of hosts around a router. */
export type Shape = 'line' | 'star';

export interface GeneratedTopology {
  shape: Shape;
  nodes: number;
  yaml: string;
  /** Node names and the links between them, for the floor script and Mininet. */
  names: string[];
  links: Array<[string, string]>;
}

export function generate(shape: Shape, nodes: number, name = `bench-${shape}-${nodes}`): GeneratedTopology {
  if (nodes < 3) throw new Error('a generated topology has at least 3 nodes');
  const names: string[] = [];
  const links: Array<[string, string]> = [];
  const roles: Record<string, 'host' | 'router'> = {};
  if (shape === 'line') {
    names.push('h1');
    roles.h1 = 'host';
    for (let i = 1; i <= nodes - 2; i++) {
      names.push(`r${i}`);
      roles[`r${i}`] = 'router';
    }
    names.push('h2');
    roles.h2 = 'host';
    for (let i = 0; i + 1 < names.length; i++) links.push([names[i]!, names[i + 1]!]);
  } else {
    names.push('hub');
    roles.hub = 'router';
    for (let i = 1; i <= nodes - 1; i++) {
      names.push(`h${i}`);
      roles[`h${i}`] = 'host';
      links.push(['hub', `h${i}`]);
    }
  }
  const [client, server] = shape === 'line' ? ['h1', 'h2'] : ['h1', 'h2'];
  const yaml = [
    `name: ${name}`,
    `title: Generated ${shape} of ${nodes} nodes for benchmarks`,
    'upstream: [https://github.com/docker/libnetwork/issues/1090]',
    'description: A generated topology; only its lifecycle is measured.',
    // One /24 per link: a /16 holds 256 links, too few for 500 and 1000 nodes.
    'addressPool: 10.64.0.0/10',
    'nodes:',
    ...names.map((n) => `  ${n}: { role: ${roles[n]} }`),
    'links:',
    ...links.map(([a, b]) => `  - endpoints: [${a}, ${b}]`),
    'scenario:',
    `  kind: oow-rst`,
    `  params: { client: ${client}, server: ${server} }`,
    'variants:',
    '  baseline: { description: Connectivity across the generated topology. }',
    '',
  ].join('\n');
  return { shape, nodes, yaml, names, links };
}
