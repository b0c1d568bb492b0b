import path from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { instanceOption, kernelChoicesOf, kernelOption, labArg, loadWithProvider, providerOption, sshOptionNote } from './shared.js';
import { EXIT, LabError } from '../errors.js';
import { labRef } from '../lab/names.js';
import type { RunTarget, TargetOutcome } from '../run/orchestrate.js';
import type { KernelChoice } from '../lab/node-kernels.js';

export const command = 'run <lab>';
export const describe = 'Run every variant of a lab and write verdicts with their evidence';
export const builder = (y: Argv) =>
  kernelOption(instanceOption(providerOption(labArg(y))))
    .option('variant', { type: 'string', array: true, describe: 'run only these variants' })
    .option('keep', { type: 'boolean', default: false, describe: 'leave the lab up afterwards when run brought it up' })
    .option('json', { type: 'boolean', default: false, describe: 'print exactly one JSON object on stdout' })
    .option('serial', {
      type: 'boolean',
      default: false,
      describe: 'variants one after another on one copy of the lab (default when the lab is already up); a variant with set: on a copy built for it',
    })
    .option('concurrent', {
      type: 'boolean',
      default: false,
      describe: 'variants at once on their own copies, also when the lab is already up (it is left as it is)',
    })
    .option('results', { type: 'string', describe: 'results folder (default ./results)' })
    .option('junit', { type: 'string', describe: 'also write JUnit XML (one test case per variant) to this file' })
    .option('check', {
      type: 'boolean',
      default: false,
      describe: 'exit 1 unless every verdict is what the lab file expects on this kernel (for CI); a variant with no expectation here fails it too',
    })
    .option('allow-unchecked', { type: 'boolean', default: false, describe: 'with --check: a decided verdict nothing is expected of on this kernel passes' });

type RunFlags = Record<'keep' | 'json' | 'serial' | 'concurrent' | 'check' | 'allowUnchecked', boolean>;
type RunArgs = RunFlags & {
  lab: string;
  provider?: string;
  instance?: string;
  kernel?: string | string[];
  docker?: string;
  variant?: string[];
  results?: string;
  junit?: string;
  ssh?: boolean;
};

/** Each choice of kernels (undefined: the lab file's) with each engine, kernels first: the runs of one `lab run`. */
export function runTargets(choices: ReadonlyArray<KernelChoice | undefined>, engines: ReadonlyArray<string | undefined>): RunTarget[] {
  return choices.flatMap((kernels) =>
    engines.map((docker) => ({ ...(kernels ? { kernels } : {}), kernel: kernels?.lab === 'host' ? undefined : kernels?.lab, docker })),
  );
}

/**
 * Every target (a kernel of --kernel 5.10,host, times each node's of --kernel router=5.10,6.1, times an engine of --docker
 * 20.10,26.1) in turn, by the run module; this prints what it gives back.
 */
export async function handler(argv: ArgumentsCamelCase<RunArgs>) {
  const { columnOfEngine, dockerEnginesOf } = await import('../run/engines.js');
  const { kernelLabel } = await import('../run/kernel-version.js');
  const engines = await dockerEnginesOf(argv.docker);
  const targets = runTargets(argv.kernel === undefined ? [undefined] : await kernelChoicesOf(argv.kernel), engines);
  if (targets.length > 1 && argv.junit) throw new LabError('--junit writes one run; with several kernels or engines, run them one by one');
  if (argv.serial && argv.concurrent) throw new LabError('--serial and --concurrent exclude each other');
  const { orchestrateRun } = await import('../run/orchestrate.js');
  const { runSteps } = await import('../ui/progress.js');
  const { writeRunReports } = await import('../report/write.js');
  const { verdictTable } = await import('../report/console.js');
  const quiet = argv.json;
  const printVerdicts = ({ run, reports }: TargetOutcome) =>
    process.stdout.write(
      `${verdictTable(run)}\nresults: ${path.relative(process.cwd(), run.resultsDir) || run.resultsDir}\nreport:  ${path.relative(process.cwd(), reports!.markdown)} (and report.html)\n`,
    );
  const { targets: done, passed } = await orchestrateRun(
    {
      targets,
      open: async ({ kernels, docker }) => {
        const opened = await loadWithProvider(argv.lab, { ...argv, kernels, docker });
        const note = sshOptionNote(opened.provider.name, argv.ssh, labRef(opened.lab));
        if (note && !quiet) process.stderr.write(`note: ${note}\n`);
        return opened;
      },
      variants: argv.variant,
      keep: argv.keep,
      serial: argv.serial,
      concurrent: argv.concurrent,
      resultsRoot: argv.results ? path.resolve(argv.results) : undefined,
      policy: { check: argv.check, allowUnchecked: argv.allowUnchecked },
    },
    {
      quiet,
      runSteps: (steps) => runSteps(steps, { quiet }),
      lifecycle: await import('../lifecycle.js'),
      publish: (lab, run) => writeRunReports(lab, run, { junit: argv.junit }),
      ...(quiet ? {} : { onTarget: printVerdicts }),
    },
  );
  for (const t of done.filter((x) => x.checkFailures.length))
    process.stderr.write(`--check failed${done.length > 1 ? ` (kernel ${kernelLabel(t.run)})` : ''}:\n${t.checkFailures.map((f) => `  ${f}\n`).join('')}`);
  const runs = done.map((t) => (engines.length > 1 ? columnOfEngine(t.run, t.target.docker) : t.run));
  if (runs.length > 1 && !quiet) {
    const { buildMatrix, matrixMarkdown } = await import('../report/matrix.js');
    process.stdout.write(`\n${matrixMarkdown(buildMatrix(runs))}`);
  }
  if (quiet) {
    const { verdictJson } = await import('../report/json.js');
    process.stdout.write(`${JSON.stringify(runs.length === 1 ? verdictJson(runs[0]!) : { runs: runs.map(verdictJson) })}\n`);
  }
  process.exitCode = passed ? EXIT.ok : EXIT.failure;
}
