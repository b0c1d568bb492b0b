/**
 * Verdict soak (`npm run soak:verdicts`, as root, not in CI): `lab run <lab> --check --json` repeated per lab and
 * per kernel, to measure how often each lab's verdicts are the ones its lab file expects ("10 of 10").
 * Writes bench/results/verdict-soak.json and .md: per lab and kernel, runs passed, and for every failed run the
 * variants that did not match, with their verdicts and reasons; the runs' evidence stays in a folder under the
 * system's temporary folder, named on stderr and in the JSON.
 *
 * SOAK_LABS (comma-separated, default every lab in labs/), SOAK_KERNELS (default `host`; e.g. `host,5.10`),
 * SOAK_DOCKER (an engine for --docker, default the machine's default), SOAK_RUNS (default 10), SOAK_INSTANCE
 * (default `vsoak`), SOAK_PROVIDERS (default `netns`; `netns,qemu` runs each round on both, the qemu provider's lab
 * brought up before and down after its run, and counts the rounds in which both gave the same verdicts). A kernel is
 * `host`, a series (`5.10`: every node of a qemu lab on it) or a mix (`client=5.10`). Runs are serial: one lab at a
 * time, so the figures do not depend on each other's load.
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
  /** `lab up` of a provider that is brought up before its run (qemu). */
  upMs?: number;
  /** name=VERDICT per variant, in the lab's order. */
  verdicts: string[];
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
const providers = (process.env.SOAK_PROVIDERS ?? 'netns').split(',').filter(Boolean);
const resultsRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-soak-'));
const outDir = path.join(packageRoot, 'bench', 'results');

function labArgs(verb: string, lab: string, kernel: string, provider: string): string[] {
  const args = [labBin, verb, lab, '--instance', provider === 'netns' ? instance : `${instance}q`];
  if (kernel !== 'host') args.push('--kernel', kernel);
  return args;
}

function lab(args: string[]): Promise<{ error: Error | null; stdout: string; stderr: string; ms: number }> {
  const start = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, args, { maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ error, stdout: String(stdout), stderr: String(stderr), ms: Math.round(performance.now() - start) }),
    );
  });
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' / ');
}

async function runOnce(labName: string, kernel: string, provider: string): Promise<Attempt> {
  const load = os.loadavg()[0]!;
  let upMs: number | undefined;
  if (provider !== 'netns') {
    const up = await lab([...labArgs('up', labName, kernel, provider), '--provider', provider]);
    upMs = up.ms;
    if (up.error) {
      await lab(labArgs('down', labName, kernel, provider));
      return { code: 2, ms: 0, upMs, load, verdicts: [], mismatches: [], error: `lab up: ${lastLines(up.stderr)}` };
    }
  }
  const args = [...labArgs('run', labName, kernel, provider), '--check', '--json', '--results', resultsRoot];
  if (docker) args.push('--docker', docker);
  const run = await lab(args);
  if (provider !== 'netns') await lab(labArgs('down', labName, kernel, provider));
  const exit = (run.error as { code?: unknown } | null)?.code;
  const code = run.error ? (typeof exit === 'number' ? exit : 1) : 0;
  try {
    const json = JSON.parse(run.stdout) as { kernelVersion?: string; engine?: string; resultsDir?: string; variants: VariantLine[] };
    const verdicts = json.variants.map((v) => `${v.name}=${v.verdict}`);
    const mismatches = json.variants
      .filter((v) => v.matchesExpected !== true)
      .map(({ name, verdict, expected, check, matchesExpected, reason }) => ({ name, verdict, expected, check, matchesExpected, reason }));
    return { code, ms: run.ms, upMs, load, kernelVersion: json.kernelVersion, engine: json.engine, resultsDir: json.resultsDir, verdicts, mismatches };
  } catch {
    return { code, ms: run.ms, upMs, load, verdicts: [], mismatches: [], error: lastLines(run.stderr) || 'no JSON on stdout' };
  }
}

type Row = { lab: string; kernel: string; provider: string; attempts: Attempt[] };

/** Rounds in which every provider's run gave the same verdict for every variant (and gave verdicts at all). */
function sameVerdictRounds(rows: Row[]): Array<{ lab: string; kernel: string; same: number; rounds: number }> {
  const groups = new Map<string, Row[]>();
  for (const r of rows) groups.set(`${r.lab}\0${r.kernel}`, [...(groups.get(`${r.lab}\0${r.kernel}`) ?? []), r]);
  return [...groups.values()]
    .filter((g) => g.length > 1)
    .map((g) => {
      const rounds = Math.min(...g.map((r) => r.attempts.length));
      let same = 0;
      for (let i = 0; i < rounds; i++) {
        const lists = g.map((r) => r.attempts[i]!.verdicts.join(' '));
        if (lists[0] && lists.every((l) => l === lists[0])) same++;
      }
      return { lab: g[0]!.lab, kernel: g[0]!.kernel, same, rounds };
    });
}

function markdown(rows: Row[]): string {
  const lines = [
    `# Verdict soak (${new Date().toISOString()}, ${os.hostname()}, ${os.cpus().length} cores, kernel ${os.release()})`,
    '',
    `\`lab run <lab> --check\`, ${runs} runs per lab and kernel${docker ? `, --docker ${docker}` : ''}.`,
    '',
    '| lab | kernel | provider | passed | median s (up s) | load (min-max) | failures |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const { lab, kernel, provider, attempts } of rows) {
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
    const ups = attempts.flatMap((a) => (a.upMs === undefined ? [] : [a.upMs])).sort((a, b) => a - b);
    const up = ups.length ? ` (${(ups[Math.floor(ups.length / 2)]! / 1000).toFixed(1)})` : '';
    lines.push(
      `| ${lab} | ${kernel} | ${provider} | ${passed}/${attempts.length} | ${((ms[Math.floor(ms.length / 2)] ?? 0) / 1000).toFixed(1)}${up} | ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} | ${failures || '-'} |`,
    );
  }
  const same = sameVerdictRounds(rows);
  if (same.length) lines.push('', '| lab | kernel | rounds with the same verdicts from every provider |', '|---|---|---|');
  for (const s of same) lines.push(`| ${s.lab} | ${s.kernel} | ${s.same}/${s.rounds} |`);
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the soak builds labs in network namespaces: run it as root');
  const rows: Row[] = [];
  for (const kernel of kernels)
    for (const labName of labs) {
      const group = providers.map((provider) => ({ lab: labName, kernel, provider, attempts: [] as Attempt[] }));
      rows.push(...group);
      for (let i = 0; i < runs; i++)
        for (const row of group) {
          const attempt = await runOnce(labName, kernel, row.provider);
          row.attempts.push(attempt);
          process.stderr.write(
            `${labName} ${kernel} ${row.provider} run ${i + 1}/${runs}: ${attempt.code === 0 ? 'as expected' : `exit ${attempt.code}`} (${(attempt.ms / 1000).toFixed(1)} s${attempt.upMs === undefined ? '' : `, up ${(attempt.upMs / 1000).toFixed(1)} s`})\n`,
          );
        }
    }
  const suffix = process.env.SOAK_NAME ? `-${process.env.SOAK_NAME}` : '';
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(
    path.join(outDir, `verdict-soak${suffix}.json`),
    `${JSON.stringify({ at: new Date().toISOString(), runs, docker, providers, evidence: resultsRoot, rows }, null, 2)}\n`,
  );
  fs.writeFileSync(path.join(outDir, `verdict-soak${suffix}.md`), markdown(rows));
  process.stdout.write(markdown(rows));
  process.stderr.write(`evidence of every run: ${resultsRoot}\n`);
  if (rows.some((r) => r.attempts.some((a) => a.code !== 0))) process.exitCode = 1;
}

await main();
