import path from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { instanceOption, labArg, loadWithProvider, providerOption } from './shared.js';
import { readState } from '../state.js';
import fs from 'node:fs';
import { defaultResultsDir } from '../paths.js';
import { EXIT, LabError } from '../errors.js';

export const command = 'run <lab>';
export const describe = 'Run every variant of a lab and write verdicts with their evidence';
export const builder = (y: Argv) =>
  instanceOption(providerOption(labArg(y)))
    .option('variant', { type: 'string', array: true, describe: 'run only these variants' })
    .option('keep', { type: 'boolean', default: false, describe: 'leave the lab up afterwards when run brought it up' })
    .option('json', { type: 'boolean', default: false, describe: 'print exactly one JSON object on stdout' })
    .option('results', { type: 'string', describe: 'results folder (default ./results)' })
    .option('junit', { type: 'string', describe: 'also write JUnit XML (one test case per variant) to this file' })
    .option('check', { type: 'boolean', default: false, describe: 'exit 1 also when a decided verdict differs from what the lab file expects on this kernel (for CI)' });

export async function handler(argv: ArgumentsCamelCase<{ lab: string; provider?: string; instance?: string; variant?: string[]; keep: boolean; json: boolean; results?: string; junit?: string; check: boolean }>) {
  const { labDown, labUp, withCleanupOnInterrupt } = await import('../lifecycle.js');
  const { newRunId, runVariants } = await import('../run/run-lab.js');
  const { runSteps } = await import('../ui/progress.js');
  const { verdictJson, writeLabJson, writeVerdictJson } = await import('../report/json.js');
  const { writeHtml } = await import('../report/html.js');
  const { renderJunit } = await import('../report/junit.js');
  const { writeMarkdown } = await import('../report/markdown.js');
  const { verdictTable } = await import('../report/console.js');
  const { lab, provider } = await loadWithProvider(argv.lab, argv);
  const variants = argv.variant?.length ? argv.variant.map((name) => lab.variants.find((v) => v.name === name) ?? unknownVariant(name, lab.variants.map((v) => v.name))) : lab.variants;
  (await import('../lock.js')).acquireLabLock(lab.id, 'run'); // held until this process exits, so no up or down slips in
  const state = readState(lab.id);
  if (state && state.provider !== provider.name) throw new LabError(`lab ${lab.id} is up on provider ${state.provider}, not ${provider.name}`, { hint: `pass --provider ${state.provider}` });
  const broughtUp = state?.status !== 'up';
  const runId = newRunId();
  const resultsDir = path.join(argv.results ? path.resolve(argv.results) : defaultResultsDir(), lab.id, runId);
  const quiet = argv.json;

  const { checkPasses, withExpectations } = await import('../run/expect.js');
  const ran = await withCleanupOnInterrupt(
    () => (broughtUp ? labDown(lab.id, { quiet: true }) : Promise.resolve()),
    async () => {
      if (broughtUp) await labUp(lab, provider, { quiet });
      try {
        return await runVariants(lab, provider, { variants, resultsDir, runId, runSteps: (steps) => runSteps(steps, { quiet }) });
      } finally {
        if (broughtUp && !argv.keep) await labDown(lab.id, { quiet });
      }
    },
  );
  const run = withExpectations(lab, ran);
  writeVerdictJson(run);
  writeLabJson(lab, run);
  const report = writeMarkdown(lab, run);
  await writeHtml(lab, run);
  if (argv.junit) fs.writeFileSync(path.resolve(argv.junit), renderJunit(run));
  if (argv.json) process.stdout.write(`${JSON.stringify(verdictJson(run))}\n`);
  else process.stdout.write(`${verdictTable(run)}\nresults: ${path.relative(process.cwd(), run.resultsDir) || run.resultsDir}\nreport:  ${path.relative(process.cwd(), report)} (and report.html)\n`);
  const decided = run.variants.every((v) => v.verdict !== 'INCONCLUSIVE');
  process.exitCode = (argv.check ? checkPasses(run.variants) : decided) ? EXIT.ok : EXIT.failure;
}

function unknownVariant(name: string, known: string[]): never {
  throw new LabError(`no variant "${name}"`, { hint: `variants: ${known.join(', ')}` });
}
