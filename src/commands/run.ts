import path from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { instanceOption, kernelOption, kernelsOf, labArg, loadWithProvider, providerOption } from './shared.js';
import { readState } from '../state.js';
import fs from 'node:fs';
import { defaultResultsDir } from '../paths.js';
import { LabError } from '../errors.js';

export const command = 'run <lab>';
export const describe = 'Run every variant of a lab and write verdicts with their evidence';
export const builder = (y: Argv) =>
  kernelOption(instanceOption(providerOption(labArg(y))))
    .option('variant', { type: 'string', array: true, describe: 'run only these variants' })
    .option('keep', { type: 'boolean', default: false, describe: 'leave the lab up afterwards when run brought it up' })
    .option('json', { type: 'boolean', default: false, describe: 'print exactly one JSON object on stdout' })
    .option('results', { type: 'string', describe: 'results folder (default ./results)' })
    .option('junit', { type: 'string', describe: 'also write JUnit XML (one test case per variant) to this file' });

type RunArgs = ArgumentsCamelCase<{ lab: string; provider?: string; inventory?: string; box?: string; verbose: boolean; instance?: string; variant?: string[]; keep: boolean; json: boolean; results?: string; junit?: string; kernel?: string }>;

/** One run per kernel (--kernel 5.10,host), one after the other: a verdict per kernel and variant. */
export async function handler(argv: RunArgs) {
  const kernels = await kernelsOf(argv.kernel);
  if (kernels.length > 1 && argv.junit) throw new LabError('--junit writes one run; with several kernels, run them one by one');
  const outputs: Array<Record<string, unknown>> = [];
  const runs: Array<Awaited<ReturnType<typeof runOnKernel>>['run']> = [];
  let exitCode = 0;
  for (const kernel of kernels) {
    const { json, code, run } = await runOnKernel(argv, kernel);
    outputs.push(json);
    runs.push(run);
    exitCode = Math.max(exitCode, code);
  }
  if (runs.length > 1 && !argv.json) {
    const { buildMatrix, matrixMarkdown } = await import('../report/matrix.js');
    process.stdout.write(`\n${matrixMarkdown(buildMatrix(runs))}`);
  }
  if (argv.json) process.stdout.write(`${JSON.stringify(outputs.length === 1 ? outputs[0] : { runs: outputs })}\n`);
  process.exitCode = exitCode;
}

async function runOnKernel(argv: RunArgs, kernel: string | undefined) {
  const { labDown, labUp, withCleanupOnInterrupt } = await import('../lifecycle.js');
  const { newRunId, runVariants } = await import('../run/run-lab.js');
  const { verdictJson, writeLabJson, writeVerdictJson } = await import('../report/json.js');
  const { writeHtml } = await import('../report/html.js');
  const { renderJunit } = await import('../report/junit.js');
  const { writeMarkdown } = await import('../report/markdown.js');
  const { verdictTable } = await import('../report/console.js');
  const { lab, provider } = await loadWithProvider(argv.lab, { ...argv, kernel });
  const variants = argv.variant?.length ? argv.variant.map((name) => lab.variants.find((v) => v.name === name) ?? unknownVariant(name, lab.variants.map((v) => v.name))) : lab.variants;
  const state = readState(lab.id);
  if (state && state.provider !== provider.name) throw new LabError(`lab ${lab.id} is up on provider ${state.provider}, not ${provider.name}`, { hint: `pass --provider ${state.provider}` });
  const broughtUp = state?.status !== 'up';
  const runId = newRunId();
  const resultsDir = path.join(argv.results ? path.resolve(argv.results) : defaultResultsDir(), lab.id, runId);
  const quiet = argv.json;

  const run = await withCleanupOnInterrupt(
    () => (broughtUp ? labDown(lab.id, { quiet: true }) : Promise.resolve()),
    async () => {
      if (broughtUp) await labUp(lab, provider, { quiet });
      try {
        return await runVariants(lab, provider, { variants, resultsDir, runId, quiet });
      } finally {
        if (broughtUp && !argv.keep) await labDown(lab.id, { quiet });
      }
    },
  );
  writeVerdictJson(run);
  writeLabJson(lab, run);
  const report = writeMarkdown(lab, run);
  await writeHtml(lab, run);
  if (argv.junit) fs.writeFileSync(path.resolve(argv.junit), renderJunit(run));
  if (!argv.json) process.stdout.write(`${verdictTable(run)}\nresults: ${path.relative(process.cwd(), run.resultsDir) || run.resultsDir}\nreport:  ${path.relative(process.cwd(), report)} (and report.html)\n`);
  return { run, json: verdictJson(run) as unknown as Record<string, unknown>, code: run.variants.every((v) => v.verdict !== 'INCONCLUSIVE') ? 0 : 1 };
}

function unknownVariant(name: string, known: string[]): never {
  throw new LabError(`no variant "${name}"`, { hint: `variants: ${known.join(', ')}` });
}
