/**
 * Applying a plan with as few processes as the kernel allows. The plan (and its golden text) stays
 * one command per line, step by step; only its execution is grouped, in an order that keeps every
 * dependency of the plan:
 *   1. one `ip -batch -` adds every namespace and creates every veth pair with both ends directly in
 *      their namespaces (`link add A netns X type veth peer name B netns Y`: nothing in the root namespace);
 *   2. one python3 (templates/netns/apply-in-namespaces.py) enters each namespace in turn and applies that
 *      namespace's remaining ip lines in plan order (lo, bridges, ports, addresses, routes: they only depend
 *      on their own namespace once every link exists): over rtnetlink itself when every line is a plain link
 *      up, IPv4 address or IPv4 route via a gateway (no process at all), otherwise with `ip -batch -` started
 *      inside the namespace, a few at once; then it writes that namespace's sysctls to /proc/sys itself
 *      (why not `ip -n` per namespace: docs/measurements.md, "Applying a plan");
 *   3. the rest (iptables-restore, tc), one at a time, in plan order.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../../errors.js';
import { templatesDir } from '../../paths.js';
import { localRunner, type Runner } from '../../transport/runner.js';
import type { PlannedCommand, PlannedStep } from './plan.js';

/** Batches running at once in phase 2: the kernel work serialises on rtnl anyway; a few hide the process starts on two cores. */
const PARALLEL = 4;

export async function applySteps(steps: PlannedStep[], runner: Runner = localRunner, progress: Progress = () => undefined): Promise<void> {
  await applyCommands(
    steps.flatMap((s) => s.commands),
    runner,
    progress,
  );
}

type Progress = (text: string) => void;

interface NamespaceWork {
  name: string;
  ip: string[];
  sysctls: Array<[string, string]>;
}

export async function applyCommands(commands: PlannedCommand[], runner: Runner = localRunner, progress: Progress = () => undefined): Promise<void> {
  const run = (argv: string[], options?: { input?: string; timeoutMs?: number }) => runner.run(argv, options);
  const root: string[] = [];
  const namespaces = new Map<string, NamespaceWork>();
  const work = (name: string) => {
    let w = namespaces.get(name);
    if (!w) namespaces.set(name, (w = { name, ip: [], sysctls: [] }));
    return w;
  };
  const others: PlannedCommand[] = [];
  for (const c of commands) {
    const [tool, a1, a2, a3, a4, ...rest] = c.argv;
    const veth = vethIntoNamespaces(c);
    const setting = rest.length === 2 && rest[0] === '-qw' ? /^([^=]+)=(.*)$/.exec(rest[1]!) : null;
    if (tool === 'ip' && a1 === 'netns' && a2 === 'add' && a3 && c.argv.length === 4) root.push(`netns add ${a3}`);
    else if (veth) root.push(veth);
    else if (tool === 'ip' && a1 === '-n' && a2 && !c.input) work(a2).ip.push(c.argv.slice(3).join(' '));
    else if (tool === 'ip' && a1 === 'netns' && a2 === 'exec' && a3 && a4 === 'sysctl' && setting) work(a3).sysctls.push([setting[1]!, setting[2]!]);
    else others.push(c);
  }
  if (root.length) {
    progress(`${root.length} namespaces and links in one batch`);
    await run(['ip', '-batch', '-'], { input: `${root.join('\n')}\n`, timeoutMs: 300_000 });
  }
  if (namespaces.size) {
    progress(`addresses, routes and sysctls: ${namespaces.size} namespaces, ${PARALLEL} at once`);
    const request = {
      parallel: PARALLEL,
      namespaces: [...namespaces.values()].map((w) => ({ name: w.name, ip: w.ip.length ? `${w.ip.join('\n')}\n` : '', sysctls: w.sysctls })),
    };
    const out = await runner.run(['python3', '-I', '-S', '-c', helperSource()], { input: JSON.stringify(request), timeoutMs: 300_000, check: false });
    // Its argv is the whole script: say what failed in the lab's words instead of echoing it.
    if (out.exitCode !== 0)
      throw new LabError(`configuring the lab's namespaces failed (exit ${out.exitCode})`, {
        details: out.stderr.trim().split('\n').filter(Boolean).slice(-8),
        kind: 'failure',
      });
  }
  for (const c of others) {
    progress(c.argv.slice(0, 6).join(' '));
    await run(c.argv, { input: c.input });
  }
}

let source: string | undefined;

/** Given as `python3 -c` so it runs the same through every runner (rootless nsenter prefix, a kernel guest's channel). */
function helperSource(): string {
  source ??= fs.readFileSync(path.join(templatesDir, 'netns', 'apply-in-namespaces.py'), 'utf8');
  return source;
}

/**
 * `ip -n X link add A type veth peer name B netns Y` as a root batch line creating A in X and B in Y
 * directly; undefined for anything else.
 */
function vethIntoNamespaces(c: PlannedCommand): string | undefined {
  const [tool, n, ns, link, add, name, type, veth, peer, nameWord, peerName, netns, peerNs, ...rest] = c.argv;
  const shaped = tool === 'ip' && n === '-n' && link === 'link' && add === 'add' && type === 'type' && veth === 'veth';
  const peered = peer === 'peer' && nameWord === 'name' && netns === 'netns';
  if (!shaped || !peered || c.input || rest.length || !ns || !name || !peerName || !peerNs) return undefined;
  return `link add ${name} netns ${ns} type veth peer name ${peerName} netns ${peerNs}`;
}
