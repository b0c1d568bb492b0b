/** What the terminal shows after `up`, `run` and `show`. */
import { needsNetem, type LinkImpairment, type ResolvedLab } from '../lab/model.js';
import type { RunResult } from '../run/run-lab.js';

export function describeTopology(lab: ResolvedLab): string {
  const lines: string[] = [];
  for (const n of lab.nodes) {
    const kind = n.kind === 'container' ? `container on ${n.host}` : n.kind + (n.profile !== 'plain' ? `, ${n.profile}` : '');
    lines.push(`  ${n.name} (${kind})`);
    for (const i of n.interfaces) {
      lines.push(`    ${i.name.padEnd(8)} ${`${i.address}/${i.prefix}`.padEnd(18)} ${i.peer ? `-> ${i.peer.node}` : ''}`);
      const shaped = i.link === undefined ? undefined : lab.links[i.link]?.impairments.find((x) => x.node === n.name && x.iface === i.name);
      if (shaped) lines.push(`    ${''.padEnd(8)} egress impaired: ${describeImpairment(shaped)}`);
    }
    if (n.docker) lines.push(`    ${n.docker.bridge.padEnd(8)} ${`${n.docker.gateway}/${n.docker.prefix}`.padEnd(18)} bridge, MASQUERADE for ${n.docker.subnet}`);
    for (const r of n.routes) lines.push(`    route ${r.to} via ${r.via}`);
  }
  return lines.join('\n');
}

export function describeImpairment(i: LinkImpairment): string {
  return [i.delay && `delay ${i.delay}${i.jitter ? ` ± ${i.jitter}` : ''}`, i.loss && `loss ${i.loss}`, i.reorder && `reorder ${i.reorder}`, i.rate && `rate ${i.rate}`]
    .filter(Boolean)
    .join(', ') + (needsNetem(i) ? ' (tc netem)' : ' (tc tbf)');
}

export function describeRunningLab(lab: ResolvedLab): string {
  const client = lab.nodes.find((n) => n.kind === 'container') ?? lab.nodes[0]!;
  const ref = `${lab.name}${lab.instance ? ` --instance ${lab.instance}` : ''}${lab.kernel ? ` --kernel ${lab.kernel}` : ''}`;
  return [
    `lab ${lab.id} is up:`,
    describeTopology(lab),
    '',
    'look around:',
    `  lab exec ${ref} ${client.host ?? client.name} -- conntrack -L`,
    `  lab exec ${ref} ${client.name} -- ip route`,
    `  lab exec ${ref} ${client.host ?? client.name} -- iptables -S`,
    `run it:   lab run ${ref}`,
    `stop it:  lab down ${ref}`,
    '',
  ].join('\n');
}

export function verdictTable(run: RunResult): string {
  const width = Math.max(7, ...run.variants.map((v) => v.name.length));
  const lines = [`${run.lab} on ${run.provider}, kernel ${run.kernel}`, `${'variant'.padEnd(width)}  ${'verdict'.padEnd(15)} reason`];
  for (const v of run.variants) lines.push(`${v.name.padEnd(width)}  ${v.verdict.padEnd(15)} ${v.reason}`);
  return lines.join('\n');
}
