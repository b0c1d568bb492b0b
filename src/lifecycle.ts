/** Bringing a lab up and down, with cleanup when interrupted (Ctrl-C, SIGTERM) or failed half way. */
import { LabError } from './errors.js';
import type { ResolvedLab } from './lab/model.js';
import { getProvider, providerOf } from './providers/registry.js';
import type { Provider } from './providers/types.js';
import { readState, removeState } from './state.js';
import { runSteps } from './ui/progress.js';

export async function labUp(lab: ResolvedLab, provider: Provider, options: { quiet?: boolean } = {}): Promise<void> {
  const state = readState(lab.id);
  if (state?.status === 'up') {
    throw new LabError(`lab ${lab.id} is already up (provider ${state.provider}, since ${state.createdAt})`, { hint: `use it as it is, or "lab down ${downArgs(lab)}" first`, exitCode: 1 });
  }
  if (state) {
    throw new LabError(`lab ${lab.id} was left half-created by an earlier run`, { hint: `run "lab down ${downArgs(lab)}" to remove what it created`, exitCode: 1 });
  }
  const problems = await provider.preflight(lab);
  if (problems.length) throw new LabError(`lab ${lab.id} cannot be brought up with the ${provider.name} provider here`, { details: problems, exitCode: 1 });
  await withCleanupOnInterrupt(
    () => labDown(lab.id, { quiet: true }),
    async () => {
      try {
        await runSteps(provider.upSteps(lab), options);
      } catch (error) {
        await labDown(lab.id, { quiet: true });
        throw error instanceof LabError ? error : new LabError(`lab up ${lab.id} failed; everything it created was removed`, { details: [String((error as Error).message)], exitCode: 1 });
      }
    },
  );
}

const downs = new Map<string, Promise<string[]>>();

/**
 * Take down a lab by its id (name or name+instance). A second call while one runs (Ctrl-C during a
 * failing `lab up`) waits for the first instead of racing it.
 */
export function labDown(labId: string, options: { quiet?: boolean } = {}): Promise<string[]> {
  let pending = downs.get(labId);
  if (!pending) {
    pending = takeDown(labId, options).finally(() => downs.delete(labId));
    downs.set(labId, pending);
  }
  return pending;
}

async function takeDown(labId: string, options: { quiet?: boolean }): Promise<string[]> {
  const state = readState(labId);
  // Without a state (lost, or another LAB_HOME's lab), whatever carries the lab's names is removed, from every local provider.
  const providers = state ? [providerOf(state)] : [getProvider('netns'), getProvider('vagrant')];
  const removed: string[] = [];
  await runSteps(
    providers.map((provider) => ({ title: `Remove lab ${labId} (${provider.name})`, run: async () => void removed.push(...(await provider.down(labId, state)).removed) })),
    options,
  );
  removeState(labId);
  return removed;
}

export function downArgs(lab: ResolvedLab): string {
  return lab.instance ? `${lab.name} --instance ${lab.instance}` : lab.name;
}

const interruptCleanups = new Set<() => Promise<unknown>>();
let interrupted = false;

/**
 * While fn runs, SIGINT/SIGTERM run the cleanup once and exit 130 instead of leaving things behind.
 * Calls may overlap (variant copies coming up at once): a signal runs every cleanup registered then.
 */
export async function withCleanupOnInterrupt<T>(cleanup: () => Promise<unknown>, fn: () => Promise<T>): Promise<T> {
  const entry = () => cleanup();
  interruptCleanups.add(entry);
  const handler = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${signal}: cleaning up...\n`);
    const all = [...interruptCleanups].map((c) => Promise.resolve(c()).catch((e) => process.stderr.write(`cleanup failed: ${String(e)}\n`)));
    void Promise.all(all).finally(() => process.exit(130));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  try {
    return await fn();
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
    interruptCleanups.delete(entry);
  }
}
