/**
 * Verdict soak (`npm run soak:verdicts`, as root, not in CI): `lab run <lab> --check --json` repeated per lab and
 * per kernel, to measure how often each lab's verdicts are the ones its lab file expects ("10 of 10").
 * Writes bench/results/verdict-soak.json and .md: per lab and kernel, runs passed, and for every failed run the
 * variants that did not match, with their verdicts and reasons; the runs' evidence stays in a folder under the
 * system's temporary folder, named on stderr and in the JSON.
 *
 * SOAK_LABS (comma-separated, default every lab in labs/), SOAK_KERNELS (default `host`; e.g. `host,5.10`),
 * SOAK_DOCKER (an engine for --docker, default the machine's default), SOAK_RUNS (default 10), SOAK_INSTANCE
 * (default `vsoak`). Runs are serial: one lab at a time, so the figures do not depend on each other's load.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../src/paths.js';
import { expectedVerdictText, type ExpectedVerdict } from '../src/run/expect.js';

interface VariantLine {
  name: string;
  verdict: string;
  expected: ExpectedVerdict | null;
  check: string;
  matchesExpected: boolean | null;
  reason: string;
}

interface Attempt {
  code: number;
  ms: number;
  load: number;
  kernelVersion?: string;
  engine?: string;
  resultsDir?: string;
  mismatches: VariantLine[];
  error?: string;
}

const labBin = path.join(packageRoot, 'bin', 'lab.cjs');
const labsDir = path.join(packageRoot, 'labs');
const labs = (
  process.env.SOAK_LABS ??
  fs
    .readdirSync(labsDir)
    .filter((d) => fs.existsSync(path.join(labsDir, d, 'lab.yaml')))
    .join(',')
)
  .split(',')
  .filter(Boolean);
const kernels = (process.env.SOAK_KERNELS ?? 'host').split(',').filter(Boolean);
const runs = Number(process.env.SOAK_RUNS ?? 10);
const instance = process.env.SOAK_INSTANCE ?? 'vsoak';
const docker = process.env.SOAK_DOCKER;
const resultsRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-soak-'));
const outDir = path.join(packageRoot, 'bench', 'results');

function runOnce(lab: string, kernel: string): Promise<Attempt> {
  const args = [labBin, 'run', lab, '--check', '--json', '--instance', instance, '--results', resultsRoot];
  if (kernel !== 'host') args.push('--kernel', kernel);
  if (docker) args.push('--docker', docker);
  const load = os.loadavg()[0]!;
  const start = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, args, { maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      const ms = Math.round(performance.now() - start);
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      try {
        const json = JSON.parse(stdout) as { kernelVersion?: string; engine?: string; resultsDir?: string; variants: VariantLine[] };
        const mismatches = json.variants
          .filter((v) => v.matchesExpected !== true)
          .map(({ name, verdict, expected, check, matchesExpected, reason }) => ({ name, verdict, expected, check, matchesExpected, reason }));
        resolve({ code, ms, load, kernelVersion: json.kernelVersion, engine: json.engine, resultsDir: json.resultsDir, mismatches });
      } catch {
        resolve({ code, ms, load, mismatches: [], error: String(stderr).trim().split('\n').slice(-3).join(' / ') || 'no JSON on stdout' });
      }
    });
  });
}

function markdown(rows: { lab: string; kernel: string; attempts: Attempt[] }[]): string {
  const lines = [
    `# Verdict soak (${new Date().toISOString()}, ${os.hostname()}, ${os.cpus().length} cores, kernel ${os.release()})`,
    '',
    `\`lab run <lab> --check\`, ${runs} runs per lab and kernel${docker ? `, --docker ${docker}` : ''}.`,
    '',
    '| lab | kernel | passed | median s | load (min-max) | failures |',
    '|---|---|---|---|---|---|',
  ];
  for (const { lab, kernel, attempts } of rows) {
    const passed = attempts.filter((a) => a.code === 0).length;
    const ms = attempts.map((a) => a.ms).sort((a, b) => a - b);
    const loads = attempts.map((a) => a.load);
    const failures = attempts
      .filter((a) => a.code !== 0)
      .map(
        (a) =>
          a.error ??
          a.mismatches.map((m) => `${m.name}: ${m.verdict} (expected ${m.expected ? expectedVerdictText(m.expected) : 'nothing'}; ${m.check})`).join('; '),
      )
      .join(' / ');
    lines.push(
      `| ${lab} | ${kernel} | ${passed}/${attempts.length} | ${((ms[Math.floor(ms.length / 2)] ?? 0) / 1000).toFixed(1)} | ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} | ${failures || '-'} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the soak builds labs in network namespaces: run it as root');
  const rows: { lab: string; kernel: string; attempts: Attempt[] }[] = [];
  for (const kernel of kernels)
    for (const lab of labs) {
      const row = { lab, kernel, attempts: [] as Attempt[] };
      rows.push(row);
      for (let i = 0; i < runs; i++) {
        const attempt = await runOnce(lab, kernel);
        row.attempts.push(attempt);
        process.stderr.write(
          `${lab} ${kernel} run ${i + 1}/${runs}: ${attempt.code === 0 ? 'as expected' : `exit ${attempt.code}`} (${(attempt.ms / 1000).toFixed(1)} s)\n`,
        );
      }
    }
  const suffix = process.env.SOAK_NAME ? `-${process.env.SOAK_NAME}` : '';
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(
    path.join(outDir, `verdict-soak${suffix}.json`),
    `${JSON.stringify({ at: new Date().toISOString(), runs, docker, evidence: resultsRoot, rows }, null, 2)}\n`,
  );
  fs.writeFileSync(path.join(outDir, `verdict-soak${suffix}.md`), markdown(rows));
  process.stdout.write(markdown(rows));
  process.stderr.write(`evidence of every run: ${resultsRoot}\n`);
  if (rows.some((r) => r.attempts.some((a) => a.code !== 0))) process.exitCode = 1;
}

await main();
