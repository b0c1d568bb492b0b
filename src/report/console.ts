/** What the terminal shows after `up`, `run` and `show`. */
import { needsNetem, type LinkImpairment, type ResolvedLab } from '../lab/model.js';
import type { RunResult } from '../run/run-lab.js';
import { expectationLine } from '../run/expect.js';
import { labRef } from '../lab/names.js';

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
    if (n.docker)
      lines.push(`    ${n.docker.bridge.padEnd(8)} ${`${n.docker.gateway}/${n.docker.prefix}`.padEnd(18)} bridge, MASQUERADE for ${n.docker.subnet}`);
    for (const r of n.routes) lines.push(`    route ${r.to} via ${r.via}`);
  }
  return lines.join('\n');
}

export function describeImpairment(i: LinkImpairment): string {
  return (
    [
      i.delay && `delay ${i.delay}${i.jitter ? ` ± ${i.jitter}` : ''}`,
      i.loss && `loss ${i.loss}`,
      i.reorder && `reorder ${i.reorder}`,
      i.rate && `rate ${i.rate}`,
    ]
      .filter(Boolean)
      .join(', ') + (needsNetem(i) ? ' (tc netem)' : ' (tc tbf)')
  );
}

export function describeRunningLab(lab: ResolvedLab): string {
  const client = lab.nodes.find((n) => n.kind === 'container') ?? lab.nodes[0]!;
  const ref = labRef(lab);
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

/** The verdicts, each with the expected one for this kernel; every difference spelled out under the table. */
export function verdictTable(run: RunResult): string {
  const width = Math.max(7, ...run.variants.map((v) => v.name.length));
  const lines = [
    `${run.lab} on ${run.provider}, kernel ${run.kernel}${run.engine ? `, ${run.engine}` : ''}`,
    `${'variant'.padEnd(width)}  ${'verdict'.padEnd(15)} ${'expected'.padEnd(15)} reason`,
  ];
  for (const v of run.variants) {
    const expected = v.expected ? (v.matchesExpected === false ? `DIFFERS: ${v.expected.verdict}` : v.expected.verdict) : '—';
    lines.push(`${v.name.padEnd(width)}  ${v.verdict.padEnd(15)} ${expected.padEnd(15)} ${v.reason}`);
  }
  const notes = run.variants.filter((v) => v.matchesExpected === false || !v.expected || v.expected.verdict === 'unknown');
  const line = (v: (typeof notes)[number]) =>
    expectationLine({ expected: v.expected ?? null, matchesExpected: v.matchesExpected ?? null }, v.verdict, run.kernel);
  if (notes.length) lines.push('', ...notes.map((v) => `${v.name}: ${line(v)}`));
  return lines.join('\n');
}

/** `lab show`: every variant's expectations, one line per kernel range. */
export function expectationTable(lab: ResolvedLab): string {
  const rows = lab.variants.flatMap((v) => v.expect.map((e) => [v.name, e.kernel, e.verdict, e.why, e.source, e.measured ?? '']));
  if (rows.length === 0) return '  (none: no variant says what it is expected to give)';
  const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['variant', 'kernel', 'expected'][i]!.length));
  const lines = [`  ${'variant'.padEnd(w[0]!)}  ${'kernel'.padEnd(w[1]!)}  ${'expected'.padEnd(w[2]!)}  why (source; measured)`];
  for (const [variant, kernel, verdict, why, source, measured] of rows) {
    lines.push(
      `  ${variant!.padEnd(w[0]!)}  ${kernel!.padEnd(w[1]!)}  ${verdict!.padEnd(w[2]!)}  ${why} (${source}${measured ? `; measured ${measured}` : ''})`,
    );
  }
  const bare = lab.variants.filter((v) => v.expect.length === 0).map((v) => v.name);
  if (bare.length) lines.push(`  no expectation at all: ${bare.join(', ')}`);
  return lines.join('\n');
}
