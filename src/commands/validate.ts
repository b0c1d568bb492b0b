import type { ArgumentsCamelCase, Argv } from 'yargs';
import { labArg } from './shared.js';

export const command = 'validate <lab>';
export const describe = 'Check a lab file and report every problem at once';
export const builder = (y: Argv) => labArg(y);

export async function handler(argv: ArgumentsCamelCase<{ lab: string }>) {
  const { loadLab, displayPath } = await import('../labs.js');
  const lab = loadLab(argv.lab);
  process.stdout.write(`${displayPath(lab.file)}: valid (${lab.nodes.length} nodes, ${lab.links.length} links, ${lab.variants.length} variants)\n`);
}
