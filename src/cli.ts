/** The command line: an explicit list of commands and the one place errors are printed. */
import { createRequire } from 'node:module';
import { EXIT, LabError, formatError } from './errors.js';
import { closeProviders } from './providers/opened.js';
import { quickArgs, type CommandModule } from './quick-args.js';
/** Each command's module, loaded only when that command runs (all of them only for help or a typo). */
const commandModules: Record<string, () => Promise<object>> = {
  up: () => import('./commands/up.js'),
  down: () => import('./commands/down.js'),
  run: () => import('./commands/run.js'),
  list: () => import('./commands/list.js'),
  show: () => import('./commands/show.js'),
  validate: () => import('./commands/validate.js'),
  status: () => import('./commands/status.js'),
  exec: () => import('./commands/exec.js'),
  ssh: () => import('./commands/ssh.js'),
  graph: () => import('./commands/graph.js'),
  report: () => import('./commands/report.js'),
  matrix: () => import('./commands/matrix.js'),
  exercise: () => import('./commands/exercise.js'),
  check: () => import('./commands/check.js'),
  render: () => import('./commands/render.js'),
  new: () => import('./commands/new.js'),
  kernels: () => import('./commands/kernels.js'),
  engines: () => import('./commands/engines.js'),
};

function commandsFor(name: string | undefined): Promise<object[]> {
  const only = name !== undefined && Object.hasOwn(commandModules, name) ? [commandModules[name]!] : Object.values(commandModules);
  return Promise.all(only.map((load) => load()));
}

async function main(): Promise<void> {
  try {
    await dispatch(process.argv.slice(2));
  } finally {
    closeProviders();
  }
}

async function dispatch(args: string[]): Promise<void> {
  const name = args[0];
  if (name !== undefined && Object.hasOwn(commandModules, name)) {
    // A well-formed line is read without yargs (see quick-args.ts); anything else goes to yargs below.
    const module = (await commandModules[name]!()) as CommandModule;
    const argv = quickArgs(module, args);
    if (argv) return module.handler(argv);
  }
  // Through require: the bundle bin/lab.cjs runs is a script, which has no import() of its own (src/bundle-entry.cts).
  const yargs = createRequire(import.meta.url)('yargs') as typeof import('yargs').default;
  let cli = yargs(args)
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
  for (const c of await commandsFor(name)) cli = cli.command(c as never);
  await cli.parseAsync();
}

/**
 * The reader of the output went away (`lab list | head -1`): stop quietly, as a tool killed by SIGPIPE does, once
 * whatever was coming up is down again (the cleanups of Ctrl-C). Later write errors of the same kind are expected then.
 */
let outputClosed = false;
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    if (outputClosed) return;
    outputClosed = true;
    void import('./lifecycle.js').then(({ stopAfterCleanup }) => stopAfterCleanup('output closed', EXIT.outputClosed));
  });
}

main().catch((error: unknown) => {
  if (error instanceof LabError) {
    process.stderr.write(`${formatError(error)}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`internal error (a bug in lab, please report it):\n${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = EXIT.internal;
  }
});
