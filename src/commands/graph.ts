import fs from 'node:fs';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { labArg } from './shared.js';

export const command = 'graph <lab>';
export const describe = 'Print the topology as Mermaid or DOT, or write it as SVG';
export const builder = (y: Argv) =>
  labArg(y)
    .option('format', { choices: ['mermaid', 'dot', 'svg'] as const, default: 'mermaid' as const })
    .option('out', { type: 'string', describe: 'write to this file instead of stdout' });

export async function handler(argv: ArgumentsCamelCase<{ lab: string; format: 'mermaid' | 'dot' | 'svg'; out?: string }>) {
  const { loadCheckedLab } = await import('../checked-lab.js');
  const { topologyDot, topologyMermaid, topologySvg } = await import('../report/topology.js');
  const lab = loadCheckedLab(argv.lab);
  const text = argv.format === 'dot' ? topologyDot(lab) : argv.format === 'svg' ? `${topologySvg(lab)}\n` : topologyMermaid(lab);
  if (argv.out) fs.writeFileSync(argv.out, text);
  else process.stdout.write(text);
}
