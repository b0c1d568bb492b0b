/** What the terminal shows after `up`, `run` and `show`. */
import { needsNetem, type LinkImpairment, type ResolvedLab } from '../lab/model.js';
import type { RunResult } from '../run/run-lab.js';
import { checkOf, expectationLine, expectedVerdictText, kernelsToMatchText } from '../run/expect.js';
import { kernelSelectorText } from '../lab/expect.js';
import { kernelLabel } from '../run/kernel-version.js';
import { seenMark, verdictText } from './facets.js';
import { labRef } from '../lab/names.js';

export function describeTopology(lab: ResolvedLab): string {
  const lines: string[] = [];
  for (const n of lab.nodes) {
    const kind =
      n.kind === 'container' ? `container on ${n.host}` : n.kind + (n.profile !== 'plain' ? `, ${n.profile}` : '') + (n.kernel ? `, kernel ${n.kernel}` : '');
    lines.push(`  ${n.name} (${kind})`);
    for (const i of n.interfaces) {
      const mtu = i.mtu ? ` mtu ${i.mtu}` : '';
      lines.push(`    ${i.name.padEnd(8)} ${`${i.address}/${i.prefix}`.padEnd(18)} ${i.peer ? `-> ${i.peer.node}` : ''}${mtu}`);
      const shaped = i.link === undefined ? undefined : lab.links[i.link]?.impairments.find((x) => x.node === n.name && x.iface === i.name);
      if (shaped) lines.push(`    ${''.padEnd(8)} egress impaired: ${describeImpairment(shaped)}`);
    }
    if (n.docker)
      lines.push(
        `    ${n.docker.bridge.padEnd(8)} ${`${n.docker.gateway}/${n.docker.prefix}`.padEnd(18)} bridge, MASQUERADE for ${n.docker.subnet}, ` +
          `userland proxy ${n.docker.userlandProxy ? 'on' : 'off'}, bridge filtering ${n.docker.bridgeNetfilter === undefined ? 'as the kernel has it' : n.docker.bridgeNetfilter ? 'on' : 'off'}`,
      );
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

/**
 * The verdicts, each with the expected verdict for this kernel and what the outcome and the mechanism showed (yes, no,
 * ?, or — when the judge gives no such facet); every difference and every unchecked variant spelled out under the table.
 */
export function verdictTable(run: RunResult): string {
  const kernel = kernelsToMatchText(run);
  const rows = run.variants.map((v) => {
    const check = checkOf(v);
    const expected = check === 'unchecked' ? 'unchecked' : `${check === 'differs' ? 'DIFFERS: ' : ''}${v.expected ? expectedVerdictText(v.expected) : ''}`;
    return [v.name, verdictText(v), expected, seenMark(v.outcome), seenMark(v.mechanism), v.reason];
  });
  const head = ['variant', 'verdict', 'expected', 'outcome', 'mechanism', 'reason'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const lines = [`${run.lab} on ${run.provider}, kernel ${kernelLabel(run)}${run.engine ? `, ${run.engine}` : ''}`, line(head), ...rows.map(line)];
  const notes = run.variants.filter((v) => checkOf(v) !== 'matches');
  const note = (v: (typeof notes)[number]) => expectationLine({ expected: v.expected ?? null, matchesExpected: v.matchesExpected ?? null }, v.verdict, kernel);
  if (notes.length) lines.push('', ...notes.map((v) => `${v.name}: ${note(v)}`));
  return lines.join('\n');
}

/** `lab show`: every variant's expectations, one line per kernel range. */
export function expectationTable(lab: ResolvedLab): string {
  const rows = lab.variants.flatMap((v) =>
    v.expect.map((e) => [v.name, kernelSelectorText(e.kernel), expectedVerdictText(e), e.why, e.source, e.measured ?? '']),
  );
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
