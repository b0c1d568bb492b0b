import path from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';

export const command = 'report <run-dir>';
export const describe = "Regenerate report.md and report.html from a run's saved evidence";
export const builder = (y: Argv) =>
  y.positional('run-dir', { type: 'string', demandOption: true, describe: 'a run folder, e.g. results/docker-1090/<run-id>' });

export async function handler(argv: ArgumentsCamelCase<{ runDir: string }>) {
  const { readRun } = await import('../report/json.js');
  const { writeReports } = await import('../report/write.js');
  const { lab, run } = readRun(argv.runDir);
  const { markdown, html } = await writeReports(lab, run);
  process.stdout.write(`${path.relative(process.cwd(), markdown)}\n${path.relative(process.cwd(), html)}\n`);
}
