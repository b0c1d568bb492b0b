/** The command line: an explicit list of commands and the one place errors are printed. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { LabError, formatError } from './errors.js';
import { closeProviders } from './providers/opened.js';
import * as up from './commands/up.js';
import * as down from './commands/down.js';
import * as run from './commands/run.js';
import * as list from './commands/list.js';
import * as show from './commands/show.js';
import * as validate from './commands/validate.js';
import * as status from './commands/status.js';
import * as exec from './commands/exec.js';
import * as report from './commands/report.js';
import * as graph from './commands/graph.js';
import * as matrix from './commands/matrix.js';
import * as exercise from './commands/exercise.js';
import * as check from './commands/check.js';
import * as render from './commands/render.js';
import * as kernels from './commands/kernels.js';

const commands = [up, down, run, list, show, validate, status, exec, graph, report, matrix, exercise, check, render, kernels];

async function main(): Promise<void> {
  let cli = yargs(hideBin(process.argv))
    .scriptName('lab')
    .usage('$0 <command> [options]\n\nTurn a container-networking bug report into a lab with an honest verdict.')
    .parserConfiguration({ 'populate--': true })
    .strict()
    .demandCommand(1, 'name a command')
    .recommendCommands()
    .help()
    .fail((message, error) => {
      throw error ?? new LabError(message, { hint: 'lab --help' });
    });
  for (const c of commands) cli = cli.command(c as never);
  try {
    await cli.parseAsync();
  } finally {
    closeProviders();
  }
}

main().catch((error: unknown) => {
  if (error instanceof LabError) {
    process.stderr.write(`${formatError(error)}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`internal error (a bug in lab, please report it):\n${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 70;
  }
});
