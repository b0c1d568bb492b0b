import path from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { instanceOption, kernelOption, kernelsOf, labArg, loadWithProvider, providerOption } from './shared.js';
import { readState } from '../state.js';
import fs from 'node:fs';
import { defaultResultsDir } from '../paths.js';
import { EXIT, LabError } from '../errors.js';
import { providerCan } from '../providers/registry.js';
import { labRef } from '../lab/names.js';
import type { ResolvedLab } from '../lab/model.js';
import type { RunResult } from '../run/run-lab.js';

export const command = 'run <lab>';
export const describe = 'Run every variant of a lab and write verdicts with their evidence';
export const builder = (y: Argv) =>
  kernelOption(instanceOption(providerOption(labArg(y))))
    .option('variant', { type: 'string', array: true, describe: 'run only these variants' })
    .option('keep', { type: 'boolean', default: false, describe: 'leave the lab up afterwards when run brought it up' })
    .option('json', { type: 'boolean', default: false, describe: 'print exactly one JSON object on stdout' })
    .option('serial', { type: 'boolean', default: false, describe: 'one copy of the lab, variants one after another (default when the lab is already up)' })
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
      describe: 'exit 1 when a verdict differs from what the lab file expects on this kernel, or is an INCONCLUSIVE it does not expect (for CI)',
    });

type RunArgs = {
  lab: string;
  provider?: string;
  instance?: string;
  kernel?: string;
  variant?: string[];
  keep: boolean;
  json: boolean;
  serial: boolean;
  concurrent: boolean;
  results?: string;
  junit?: string;
  check: boolean;
  docker?: string;
};

/** One run per kernel (--kernel 5.10,host), one after the other: a verdict per kernel and variant. */
export async function handler(argv: ArgumentsCamelCase<RunArgs>) {
  const kernels = await kernelsOf(argv.kernel);
  if ((kernels.length > 1 || argv.docker?.includes(',')) && argv.junit)
    throw new LabError('--junit writes one run; with several kernels or engines, run them one by one');
  const outputs: Array<Record<string, unknown>> = [];
  const runs: RunResult[] = [];
  let passed = true;
  const { columnOfEngine, dockerEnginesOf } = await import('../run/engines.js');
  const engines = await dockerEnginesOf(argv.docker);
  for (const kernel of kernels) {
    for (const docker of engines) {
      const { json, ok, run } = await runOnKernel({ ...argv, docker }, kernel);
      outputs.push(json);
      runs.push(engines.length > 1 ? columnOfEngine(run, docker) : run);
      passed &&= ok;
    }
  }
  if (runs.length > 1 && !argv.json) {
    const { buildMatrix, matrixMarkdown } = await import('../report/matrix.js');
    process.stdout.write(`\n${matrixMarkdown(buildMatrix(runs))}`);
  }
  if (argv.json) process.stdout.write(`${JSON.stringify(outputs.length === 1 ? outputs[0] : { runs: outputs })}\n`);
  process.exitCode = passed ? EXIT.ok : EXIT.failure;
}

async function runOnKernel(argv: RunArgs, kernel: string | undefined) {
  const { labDown, labUp, withCleanupOnInterrupt } = await import('../lifecycle.js');
  const { newRunId, runVariants } = await import('../run/run-lab.js');
  const { runSteps } = await import('../ui/progress.js');
  const { lab, provider } = await loadWithProvider(argv.lab, { ...argv, kernel });
  const variants = argv.variant?.length
    ? argv.variant.map(
        (name) =>
          lab.variants.find((v) => v.name === name) ??
          unknownVariant(
            name,
            lab.variants.map((v) => v.name),
          ),
      )
    : lab.variants;
  if (argv.serial && argv.concurrent) throw new LabError('--serial and --concurrent exclude each other');
  (await import('../lock.js')).acquireLabLock(lab.id, 'run'); // held until this process exits, so no up or down slips in
  const state = readState(lab.id);
  if (state && state.provider !== provider.name)
    throw new LabError(`lab ${lab.id} is up on provider ${state.provider}, not ${provider.name}`, { hint: `pass --provider ${state.provider}` });
  (await import('../run/engines.js')).refuseOtherEngine(lab, state, argv.docker);
  const broughtUp = state?.status !== 'up';
  const runId = newRunId();
  const resultsDir = path.join(argv.results ? path.resolve(argv.results) : defaultResultsDir(), lab.id, runId);
  const quiet = argv.json;
  const show = (steps: Parameters<typeof runSteps>[0]) => runSteps(steps, { quiet });
  const atOnce = await variantsAtOnce(lab, provider.name, variants.length, { ...argv, broughtUp });
  if (atOnce > 1) {
    const { copyOf, leftoverCopies } = await import('../run/variant-copies.js');
    const { runVariantsOnCopies } = await import('../run/run-lab.js');
    const left = leftoverCopies(lab.name, lab.instance);
    if (left.length)
      throw new LabError(`copies of ${lab.id} left by an earlier run are still there: ${left.join(', ')}`, {
        hint: `lab down ${labRef(lab)}`,
        kind: 'failure',
      });
    const copies = variants.map((variant, i) => ({ variant, lab: copyOf(lab, i) }));
    // Ctrl-C: no new copy starts, copies coming up finish coming up, then every copy there is goes down.
    const abort = new AbortController();
    const comingUp = new Set<Promise<void>>();
    const up = (copy: ResolvedLab) => {
      const going = labUp(copy, provider, { quiet: true });
      comingUp.add(going);
      return going.finally(() => comingUp.delete(going));
    };
    const run = await withCleanupOnInterrupt(
      async () => {
        abort.abort();
        await Promise.allSettled([...comingUp]);
        await Promise.all(leftoverCopies(lab.name, lab.instance).map((id) => labDown(id, { quiet: true })));
      },
      () =>
        runVariantsOnCopies(lab, provider, {
          copies,
          atOnce,
          resultsDir,
          runId,
          runSteps: show,
          up,
          down: (copy) => labDown(copy.id, { quiet: true }),
          signal: abort.signal,
        }),
    );
    return finish(lab, run, argv);
  }

  const run = await withCleanupOnInterrupt(
    () => (broughtUp ? labDown(lab.id, { quiet: true }) : Promise.resolve()),
    async () => {
      if (broughtUp) await labUp(lab, provider, { quiet });
      try {
        return await runVariants(lab, provider, { variants, resultsDir, runId, runSteps: show, freshLab: broughtUp });
      } finally {
        if (broughtUp && !argv.keep) await labDown(lab.id, { quiet });
      }
    },
  );
  return finish(lab, run, argv);
}

/**
 * Variants at once when run brings the lab up itself (or --concurrent) on a provider that can bring up copies, the machine has room
 * (variant-copies.ts: cores and available memory) and the copies' instance names fit; else 1 (serial).
 * A lab that is already up stays serial: it is the lab the user is watching (exec, tcpdump, its state).
 */
type RunMode = { serial: boolean; concurrent: boolean; keep: boolean; broughtUp: boolean };

async function variantsAtOnce(lab: ResolvedLab, provider: string, count: number, argv: RunMode): Promise<number> {
  // A lab on another kernel stays serial: each copy would boot a guest of its own.
  if (argv.serial || argv.keep || count < 2 || !providerCan(provider, 'variantCopies') || lab.kernel || !(argv.broughtUp || argv.concurrent)) return 1;
  const { copiesAtOnce, copiesFit } = await import('../run/variant-copies.js');
  return copiesFit(lab, count) ? copiesAtOnce(count) : 1;
}

async function finish(lab: ResolvedLab, ran: RunResult, argv: { junit?: string; json: boolean; check: boolean }) {
  const { verdictJson, writeLabJson, writeVerdictJson } = await import('../report/json.js');
  const { writeHtml } = await import('../report/html.js');
  const { renderJunit } = await import('../report/junit.js');
  const { writeMarkdown } = await import('../report/markdown.js');
  const { verdictTable } = await import('../report/console.js');
  const { checkPasses, withExpectations } = await import('../run/expect.js');
  const run = withExpectations(lab, ran);
  writeVerdictJson(run);
  writeLabJson(lab, run);
  const report = writeMarkdown(lab, run);
  await writeHtml(lab, run);
  if (argv.junit) fs.writeFileSync(path.resolve(argv.junit), renderJunit(run));
  if (!argv.json)
    process.stdout.write(
      `${verdictTable(run)}\nresults: ${path.relative(process.cwd(), run.resultsDir) || run.resultsDir}\nreport:  ${path.relative(process.cwd(), report)} (and report.html)\n`,
    );
  const decided = run.variants.every((v) => v.verdict !== 'INCONCLUSIVE');
  return { run, json: verdictJson(run) as unknown as Record<string, unknown>, ok: argv.check ? checkPasses(run.variants) : decided };
}

function unknownVariant(name: string, known: string[]): never {
  throw new LabError(`no variant "${name}"`, { hint: `variants: ${known.join(', ')}` });
}
