/**
 * Applying a plan step with as few processes as possible: every `ip -n <ns> ...` command of a step
 * goes into one `ip -n <ns> -batch -` per namespace, namespaces in parallel; `ip netns add` lines go
 * into one `ip -batch -`; sysctls of a namespace into one `sysctl` call. The plan itself (and its
 * golden text) stays one command per line; this only changes how it is executed.
 */
import { localRunner, type Runner } from '../../transport/runner.js';
import type { PlannedCommand } from './plan.js';

const PARALLEL = 8;

export async function applyCommands(commands: PlannedCommand[], runner: Runner = localRunner): Promise<void> {
  const runCommand = (argv: string[], options?: Parameters<Runner['run']>[1]) => runner.run(argv, options);
  const adds: string[] = [];
  const batches = new Map<string, string[]>();
  const sysctls = new Map<string, string[]>();
  const others: PlannedCommand[] = [];
  for (const c of commands) {
    const [tool, a1, a2, a3, a4, ...rest] = c.argv;
    if (tool === 'ip' && a1 === 'netns' && a2 === 'add' && a3 && c.argv.length === 4) adds.push(`netns add ${a3}`);
    else if (tool === 'ip' && a1 === '-n' && a2 && !c.input) batches.set(a2, [...(batches.get(a2) ?? []), c.argv.slice(3).join(' ')]);
    else if (tool === 'ip' && a1 === 'netns' && a2 === 'exec' && a3 && a4 === 'sysctl' && rest[0] === '-qw' && rest.length === 2) sysctls.set(a3, [...(sysctls.get(a3) ?? []), rest[1]!]);
    else others.push(c);
  }
  if (adds.length) await runCommand(['ip', '-batch', '-'], { input: `${adds.join('\n')}\n` });
  await inParallel([...batches.entries()], ([ns, lines]) => runCommand(['ip', '-n', ns, '-batch', '-'], { input: `${lines.join('\n')}\n`, timeoutMs: 300_000 }));
  await inParallel([...sysctls.entries()], ([ns, settings]) => runCommand(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', ...settings]));
  for (const c of others) await runCommand(c.argv, { input: c.input });
}

async function inParallel<T>(items: T[], work: (item: T) => Promise<unknown>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}
