import type { ArgumentsCamelCase, Argv } from 'yargs';
import { labArg } from './shared.js';

export const command = 'show <lab>';
export const describe = 'Show a lab: topology, addresses, variants, what it proves';
export const builder = (y: Argv) => labArg(y);

export async function handler(argv: ArgumentsCamelCase<{ lab: string }>) {
  const { loadCheckedLab } = await import('../checked-lab.js');
  const { describeTopology, expectationTable } = await import('../report/console.js');
  const { getScenario } = await import('../run/scenarios/registry.js');
  const { describeCodedRules, describeDeclared } = await import('../run/declarative/describe.js');
  const lab = loadCheckedLab(argv.lab);
  const scenario = getScenario(lab.scenario.kind);
  const out = [
    `${lab.name}: ${lab.title}`,
    ...lab.upstream.map((u) => `  upstream: ${u}`),
    '',
    lab.description.trim(),
    '',
    'topology:',
    describeTopology(lab),
    '',
    `scenario: ${scenario.kind}: ${scenario.summary}`,
    ...(scenario.kind === 'declared'
      ? describeDeclared(lab.scenario.params)
      : Object.entries(lab.scenario.params).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)),
    ...(lab.scenario.verdict !== undefined && scenario.rules ? describeCodedRules(lab.scenario.verdict, scenario.rules.measures) : []),
    '',
    'variants:',
    ...lab.variants.flatMap((v) => [
      `  ${v.name}: ${v.description.trim()}`,
      ...(v.overrides ?? []).map((o) => `    sets ${o}${v.topology ? '' : ' (on the live lab)'}`),
      ...v.changes.map(
        (c) =>
          `    change on ${c.node}: ${'sysctl' in c ? `sysctl ${c.sysctl.key}=${c.sysctl.value}` : `iptables -t ${c.iptables.table} ${c.iptables.position ? `-I ${c.iptables.chain} ${c.iptables.position}` : `-A ${c.iptables.chain}`} ${c.iptables.rule}`}`,
      ),
      ...Object.entries(v.params)
        .filter(([k, val]) => lab.scenario.params[k] !== val)
        .map(([k, val]) => `    ${k}: ${JSON.stringify(val)}`),
    ]),
    '',
    'expected verdicts by kernel:',
    expectationTable(lab),
    '',
  ];
  process.stdout.write(out.join('\n'));
}
