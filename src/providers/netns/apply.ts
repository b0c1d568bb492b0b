/**
 * Applying a plan with as few processes as the kernel allows. The plan (and its golden text) stays
 * one command per line, step by step; only its execution is grouped, in an order that keeps every
 * dependency of the plan:
 *   1. one `ip -batch -` adds every namespace and creates every veth pair with both ends directly in
 *      their namespaces (`link add A netns X type veth peer name B netns Y`: nothing in the root namespace);
 *   2. one `ip -n <ns> -batch -` per namespace, all at once, with that namespace's remaining ip lines
 *      in plan order (lo, bridges, ports, addresses, routes: they only depend on their own namespace
 *      once every link exists);
 *   3. one `ip -batch -` of `netns exec <ns> sysctl -qw ...` lines for every namespace (ip forks
 *      sysctl itself: measured 0.75 s for 100 namespaces where 100 processes started from here took ~4 s);
 *   4. the rest (iptables-restore, tc), one at a time, in plan order.
 */
import { localRunner, type Runner } from '../../transport/runner.js';
import type { PlannedCommand, PlannedStep } from './plan.js';

/** Processes started at once in phase 2: enough to keep the kernel busy, few enough not to thrash two cores. */
const PARALLEL = 8;

export async function applySteps(steps: PlannedStep[], runner: Runner = localRunner, progress: Progress = () => undefined): Promise<void> {
  await applyCommands(
    steps.flatMap((s) => s.commands),
    runner,
    progress,
  );
}

type Progress = (text: string) => void;

export async function applyCommands(commands: PlannedCommand[], runner: Runner = localRunner, progress: Progress = () => undefined): Promise<void> {
  const run = (argv: string[], options?: { input?: string; timeoutMs?: number }) => runner.run(argv, options);
  const root: string[] = [];
  const batches = new Map<string, string[]>();
  const sysctls = new Map<string, string[]>();
  const others: PlannedCommand[] = [];
  for (const c of commands) {
    const [tool, a1, a2, a3, a4, ...rest] = c.argv;
    const veth = vethIntoNamespaces(c);
    if (tool === 'ip' && a1 === 'netns' && a2 === 'add' && a3 && c.argv.length === 4) root.push(`netns add ${a3}`);
    else if (veth) root.push(veth);
    else if (tool === 'ip' && a1 === '-n' && a2 && !c.input) batches.set(a2, [...(batches.get(a2) ?? []), c.argv.slice(3).join(' ')]);
    else if (tool === 'ip' && a1 === 'netns' && a2 === 'exec' && a3 && a4 === 'sysctl' && rest[0] === '-qw' && rest.length === 2)
      sysctls.set(a3, [...(sysctls.get(a3) ?? []), rest[1]!]);
    else others.push(c);
  }
  if (root.length) {
    progress(`${root.length} namespaces and links in one batch`);
    await run(['ip', '-batch', '-'], { input: `${root.join('\n')}\n`, timeoutMs: 300_000 });
  }
  progress(`addresses and routes: ${batches.size} namespaces at once`);
  await inParallel([...batches.entries()], ([ns, lines]) => run(['ip', '-n', ns, '-batch', '-'], { input: `${lines.join('\n')}\n`, timeoutMs: 300_000 }));
  if (sysctls.size) {
    progress(`sysctls of ${sysctls.size} namespaces in one batch`);
    const lines = [...sysctls.entries()].map(([ns, settings]) => `netns exec ${ns} sysctl -qw ${settings.join(' ')}`);
    await run(['ip', '-batch', '-'], { input: `${lines.join('\n')}\n`, timeoutMs: 300_000 });
  }
  for (const c of others) {
    progress(c.argv.slice(0, 6).join(' '));
    await run(c.argv, { input: c.input });
  }
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

async function inParallel<T>(items: T[], work: (item: T) => Promise<unknown>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}
