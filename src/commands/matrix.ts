import fs from 'node:fs';
import type { ArgumentsCamelCase, Argv } from 'yargs';

export const command = 'matrix <run-dirs..>';
export const describe = 'Tabulate the verdicts of one lab across runs (kernels, providers, boxes)';
export const builder = (y: Argv) =>
  y
    .positional('run-dirs', { type: 'string', array: true, demandOption: true })
    .option('html', { type: 'string', describe: 'also write the table as HTML to this file' });

export async function handler(argv: ArgumentsCamelCase<{ runDirs: string[]; html?: string }>) {
  const { readRun } = await import('../report/json.js');
  const { matrixHtml, matrixMarkdown, buildMatrix } = await import('../report/matrix.js');
  const matrix = buildMatrix(argv.runDirs.map((d) => readRun(d).run));
  process.stdout.write(matrixMarkdown(matrix));
  if (argv.html) fs.writeFileSync(argv.html, matrixHtml(matrix));
}
