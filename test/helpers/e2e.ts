/**
 * End-to-end helpers: run a lab as a user would and pin every verdict to the lab file's expectation
 * for the kernel at hand; skip (with the reason printed) what cannot run here, but fail under CI=true.
 */
import test, { type ExecutionContext, type ImplementationFn } from 'ava';
import fs from 'node:fs';
import { loadLab } from '../../src/lab/load.js';
import { checkPasses } from '../../src/run/expect.js';
import { kernelSelectorText } from '../../src/lab/expect.js';
import { dockerProxyPath } from '../../src/providers/netns/docker-proxy.js';
import { envFor, lab, tempHome, type CliResult } from './cli.js';
import { namespacesWithPrefix } from './host.js';

/** Why a lab cannot run on this machine, or undefined when it can. */
export function cannotRunHere(needs: { dockerProxy?: boolean } = {}): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'needs root (network namespaces, iptables, conntrack)';
  const missing = ['ip', 'iptables', 'conntrack', 'tcpdump', 'python3'].filter((tool) => !onPath(tool));
  if (missing.length) return `missing tools: ${missing.join(', ')} (scripts/setup.sh installs them)`;
  if (needs.dockerProxy && !fs.existsSync(dockerProxyPath())) return `no docker-proxy at ${dockerProxyPath()} (scripts/fetch-docker-proxy.sh fetches it)`;
  return undefined;
}

/** A test that runs when `reason` is undefined; otherwise skipped with the reason printed, or failed when CI=true. */
export function testUnless(reason: string | undefined, title: string, fn: ImplementationFn<[]>): void {
  if (!reason) {
    test.serial(title, fn);
  } else if (process.env.CI === 'true') {
    test.serial(title, (t) => t.fail(`cannot run here, and CI must run it: ${reason}`));
  } else {
    process.stderr.write(`skipping "${title}": ${reason}\n`);
    test.skip(`${title} (skipped: ${reason})`, fn);
  }
}

export interface VariantJson {
  name: string;
  verdict: 'REPRODUCED' | 'NOT_REPRODUCED' | 'INCONCLUSIVE';
  reason: string;
  expected: { verdict: string; kernel: string; why: string; source: string } | null;
  matchesExpected: boolean | null;
  evidence: Record<string, unknown>;
}

export interface RunJson {
  lab: string;
  instance?: string;
  provider: string;
  kernel: string;
  resultsDir: string;
  variants: VariantJson[];
}

/**
 * `lab run <lab> --instance <instance> --json --check` in its own LAB_HOME, torn down in t.teardown (also when an
 * assertion fails), then: the variants are those the lab file declares, each has an expectation for this kernel,
 * each verdict equals it, and --check exited 0. Returns the run for the lab's own evidence checks.
 */
export async function runPinned(
  t: ExecutionContext,
  labName: string,
  instance: string,
  env = envFor(tempHome()),
): Promise<{ json: RunJson; result: CliResult }> {
  t.teardown(async () => {
    await lab(['down', labName, '--instance', instance], env);
  });
  const result = await lab(['run', labName, '--instance', instance, '--json', '--check'], env);
  t.log(result.stderr.split('\n').slice(-4).join('\n'));
  let json: RunJson;
  try {
    json = JSON.parse(result.stdout) as RunJson;
  } catch {
    t.fail(`lab run ${labName} printed no JSON (exit ${result.code}): ${result.stderr.slice(-2000)}`);
    throw new Error('no JSON');
  }
  t.is(json.lab, labName);
  t.is(json.instance, instance);
  t.is(json.kernel, fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
  t.deepEqual(
    json.variants.map((v) => v.name),
    loadLab(labName).variants.map((v) => v.name),
    'every variant the lab file declares ran',
  );
  for (const v of json.variants) {
    t.log(`${v.name}: ${v.verdict} (expected ${v.expected ? `${v.expected.verdict} on ${kernelSelectorText(v.expected.kernel)}` : 'nothing'}): ${v.reason}`);
    t.not(v.expected, null, `${v.name}: the lab file has no expectation for kernel ${json.kernel}`);
    // Pinned: the verdict is the one expected on this kernel. INCONCLUSIVE passes only where the lab file expects it
    // (a lab that says it cannot observe a report's mechanism), never by accident.
    t.is(
      v.matchesExpected,
      true,
      `${v.name}: ${v.verdict} differs from expected ${v.expected?.verdict} on ${v.expected ? kernelSelectorText(v.expected.kernel) : 'nothing'}: ${v.reason}`,
    );
    if (v.expected) t.is(v.verdict as string, v.expected.verdict);
  }
  const passes = checkPasses(json.variants);
  t.is(result.code, passes ? 0 : 1, 'lab run --check exits 0 only when every verdict is what its expectation says');
  t.is(result.code, 0, `lab run ${labName} --check exit code`);
  const saved = JSON.parse(fs.readFileSync(`${json.resultsDir}/verdict.json`, 'utf8')) as RunJson;
  t.deepEqual(
    saved.variants.map((v) => [v.name, v.verdict, v.expected, v.matchesExpected]),
    json.variants.map((v) => [v.name, v.verdict, v.expected, v.matchesExpected]),
    'verdict.json carries the same expectations as --json',
  );
  t.regex(fs.readFileSync(`${json.resultsDir}/report.md`, 'utf8'), /\| variant \| verdict \| expected \| reason \|/);
  return { json, result };
}

/** After a run, nothing of the lab instance is left. */
export async function assertGone(t: ExecutionContext, labName: string, instance: string): Promise<void> {
  t.deepEqual(await namespacesWithPrefix(`lab.${labName}+${instance}.`), [], 'no namespace of the lab left');
}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && fs.existsSync(`${dir}/${tool}`));
}
