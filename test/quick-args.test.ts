/** The command line read without yargs gives the handler exactly what yargs gives it, or is left to yargs. */
import test from 'ava';
import yargs from 'yargs';
import { quickArgs, type CommandModule } from '../src/quick-args.js';

const modules: Record<string, () => Promise<object>> = {
  up: () => import('../src/commands/up.js'),
  down: () => import('../src/commands/down.js'),
  run: () => import('../src/commands/run.js'),
  list: () => import('../src/commands/list.js'),
  status: () => import('../src/commands/status.js'),
  validate: () => import('../src/commands/validate.js'),
  render: () => import('../src/commands/render.js'),
  new: () => import('../src/commands/new.js'),
  exec: () => import('../src/commands/exec.js'),
  graph: () => import('../src/commands/graph.js'),
  kernels: () => import('../src/commands/kernels.js'),
  report: () => import('../src/commands/report.js'),
};

/** The argv yargs hands the handler, parsed as src/cli.ts configures it, or the message it fails with. */
async function yargsArgv(module: CommandModule, args: string[]): Promise<Record<string, unknown> | string> {
  let seen: Record<string, unknown> | undefined;
  try {
    await yargs(args)
      .scriptName('lab')
      .parserConfiguration({ 'populate--': true })
      .strict()
      .demandCommand(1)
      .help()
      .exitProcess(false)
      .fail((message, error) => {
        throw error ?? new Error(message);
      })
      .command({ ...module, handler: (argv: Record<string, unknown>) => void (seen = argv) } as never)
      .parseAsync();
  } catch (error) {
    return (error as Error).message;
  }
  return seen ?? 'no handler ran';
}

const READ_QUICKLY = [
  ['validate', 'docker-1090'],
  ['validate', 'labs/docker-1090/lab.yaml', '--provider', 'ssh'],
  ['validate', 'docker-1090', '--provider=vagrant'],
  ['up', 'docker-1090', '--instance', 'a1'],
  ['up', 'docker-1090', '--instance=a1', '--dry-run'],
  ['up', 'docker-1090', '--copies', '3', '--kernel', '5.10'],
  ['up', 'docker-1090', '--provider', 'vagrant', '--verbose', '--box', 'debian'],
  ['up', '--instance', 'x', 'docker-1090'],
  ['down', 'docker-1090', '--instance', 'a1'],
  ['down', '--all'],
  ['down'],
  ['list'],
  ['status'],
  ['status', '--kernel', '5.10,host'],
  ['run', 'docker-1090', '--json', '--keep', '--instance', 'b'],
  ['render', 'docker-1090', '--out', '/tmp/x', '--kvm'],
  ['new', 'my-lab', '--dir', '/tmp/labs'],
  ['kernels', '--fetch', '5.10'],
  ['report', 'results/docker-1090/x'],
  ['run', 'docker-1090', '--variant', 'baseline'],
  ['run', 'docker-1090', '--variant', 'baseline', '--variant=no-nat', '--serial'],
  ['run', 'docker-1090', '--keep', '--variant', 'be-liberal', '--instance', 'w1'],
];

const LEFT_TO_YARGS = [
  ['validate'],
  ['validate', 'a', 'b'],
  ['validate', 'docker-1090', '--provider', 'nope'],
  ['validate', 'docker-1090', '--help'],
  ['validate', '--provider'],
  ['up', 'docker-1090', '--instanse', 'a1'],
  ['up', 'docker-1090', '-h'],
  ['up', 'docker-1090', '--no-dry-run'],
  ['up', 'docker-1090', '--dry-run', 'false'],
  ['up', 'docker-1090', '--dry-run=true'],
  ['up', 'docker-1090', '--copies', 'many'],
  ['up', 'docker-1090', '--instance', 'a', '--instance', 'b'],
  ['up', 'docker-1090', '--instance'],
  ['up', 'docker-1090', '--dryRun'],
  ['down', 'docker-1090', '--', 'x'],
  ['run', 'docker-1090', '--variant', 'baseline', 'drop-invalid'],
  ['run', 'docker-1090', '--variant', 'baseline', '--serial', 'x'],
  ['exec', 'docker-1090', 'client', '--', 'ip', 'route'],
  ['graph', 'docker-1090', '--format', 'dot'],
  ['render', 'docker-1090'],
  ['new'],
];

test('a well-formed line gives the handler what yargs gives it', async (t) => {
  for (const args of READ_QUICKLY) {
    const module = (await modules[args[0]!]!()) as CommandModule;
    const quick = quickArgs(module, args);
    t.truthy(quick, `read quickly: ${args.join(' ')}`);
    const expected = await yargsArgv(module, args);
    t.is(typeof expected, 'object', `yargs reads ${args.join(' ')}: ${String(expected)}`);
    t.deepEqual(quick, expected as Record<string, unknown>, args.join(' '));
  }
});

test('anything unusual is left to yargs, whose messages stay the only ones', async (t) => {
  for (const args of LEFT_TO_YARGS) {
    const module = (await modules[args[0]!]!()) as CommandModule;
    t.is(quickArgs(module, args), undefined, args.join(' '));
  }
});
