/** Bringing a lab up and down, with cleanup when interrupted (Ctrl-C, SIGTERM) or failed half way. */
import fs from 'node:fs';
import { LabError } from './errors.js';
import type { ResolvedLab } from './lab/model.js';
import { labRef } from './lab/names.js';
import { leftoverRemovers, providerOf } from './providers/registry.js';
import type { Provider } from './providers/types.js';
import { addResources, creatingState, readState, removeState, workDir, writeState } from './state.js';
import { runSteps } from './ui/progress.js';
import type { Step } from './ui/steps.js';
import { withLabLock } from './lock.js';

export function labUp(lab: ResolvedLab, provider: Provider, options: { quiet?: boolean } = {}): Promise<void> {
  return withLabLock(lab.id, 'up', () => bringUp(lab, provider, options));
}

async function bringUp(lab: ResolvedLab, provider: Provider, options: { quiet?: boolean }): Promise<void> {
  const state = readState(lab.id);
  if (state?.status === 'up') {
    throw new LabError(`lab ${lab.id} is already up (provider ${state.provider}, since ${state.createdAt})`, {
      hint: `use it as it is, or "lab down ${labRef(lab)}" first`,
      kind: 'failure',
    });
  }
  if (state) {
    throw new LabError(`lab ${lab.id} was left half-created by an earlier run`, {
      hint: `run "lab down ${labRef(lab)}" to remove what it created`,
      kind: 'failure',
    });
  }
  const problems = await provider.preflight(lab);
  if (problems.length) throw new LabError(`lab ${lab.id} cannot be brought up with the ${provider.name} provider here`, { details: problems, kind: 'failure' });
  const stop = new AbortController();
  let steps: Promise<void> = Promise.resolve();
  await withCleanupOnInterrupt(
    async () => {
      stop.abort();
      // The step under way finishes first: what it creates after the down looked would be left behind. A long one
      // (a guest booting) is not waited for past STEP_GRACE_MS; the down stops it by its state.
      await Promise.race([steps.catch(() => undefined), new Promise((r) => setTimeout(r, STEP_GRACE_MS))]);
      return labDown(lab.id, { quiet: true });
    },
    async () => {
      try {
        steps = runSteps(
          stateSteps(lab, provider).map((step) => unlessStopped(step, stop.signal)),
          options,
        );
        await steps;
      } catch (error) {
        await labDown(lab.id, { quiet: true });
        throw error instanceof LabError
          ? error
          : new LabError(`lab up ${lab.id} failed; everything it created was removed`, { details: [String((error as Error).message)], kind: 'failure' });
      }
    },
  );
}

const STEP_GRACE_MS = 10_000;

/**
 * The state protocol, the same for every provider: the state (status creating, with what `down` needs) is written
 * before anything is created, each step adds to it before it creates, and the lab is marked up after the last.
 */
function stateSteps(lab: ResolvedLab, provider: Provider): Step[] {
  const record: Step = {
    title: 'Record state',
    run: async () => {
      fs.mkdirSync(workDir(lab.id), { recursive: true });
      writeState(creatingState(lab, provider.name, provider.resourcesOf(lab)));
    },
  };
  const done: Step = {
    title: 'Mark lab up',
    run: async () => {
      const engine = provider.engine?.(lab);
      writeState({ ...readState(lab.id)!, status: 'up', ...(engine === undefined ? {} : { engine }) });
    },
  };
  return [record, ...provider.upSteps(lab, (patch) => addResources(lab.id, patch)), done];
}

/** A step that does not start once the user has interrupted `lab up`. */
function unlessStopped(step: Step, signal: AbortSignal): Step {
  return {
    ...step,
    run: (progress) => {
      if (signal.aborted) return Promise.reject(new LabError('interrupted', { kind: 'failure' }));
      return step.run(progress);
    },
  };
}

const downs = new Map<string, Promise<string[]>>();

/**
 * Take down a lab by its id (name or name+instance). A second call while one runs (Ctrl-C during a
 * failing `lab up`) waits for the first instead of racing it.
 */
export function labDown(labId: string, options: { quiet?: boolean } = {}): Promise<string[]> {
  let pending = downs.get(labId);
  if (!pending) {
    pending = withLabLock(labId, 'down', () => takeDown(labId, options)).finally(() => downs.delete(labId));
    downs.set(labId, pending);
  }
  return pending;
}

async function takeDown(labId: string, options: { quiet?: boolean }): Promise<string[]> {
  const state = readState(labId);
  // Without a state (lost, or another LAB_HOME's lab), whatever carries the lab's names is removed, by every provider that can.
  const removers = state
    ? [{ provider: state.provider, remove: async () => (await (await providerOf(state)).down(labId, state)).removed }]
    : leftoverRemovers(labId);
  const removed: string[] = [];
  await runSteps(
    removers.map((r) => ({ title: `Remove lab ${labId} (${r.provider})`, run: async () => void removed.push(...(await r.remove())) })),
    options,
  );
  removeState(labId);
  return removed;
}

const interruptCleanups = new Set<() => Promise<unknown>>();
let interrupted = false;

/**
 * Stop the process now (a signal, or no one left to read the output): every cleanup registered by
 * withCleanupOnInterrupt runs once, then the process exits with exitCode; with none registered, it exits at once.
 */
export function stopAfterCleanup(reason: string, exitCode: number): void {
  if (interrupted) return;
  interrupted = true;
  if (interruptCleanups.size === 0) process.exit(exitCode);
  process.stderr.write(`\n${reason}: cleaning up...\n`);
  const all = [...interruptCleanups].map((c) => Promise.resolve(c()).catch((e) => process.stderr.write(`cleanup failed: ${String(e)}\n`)));
  void Promise.all(all).finally(() => process.exit(exitCode));
}

/**
 * While fn runs, SIGINT/SIGTERM run the cleanup once and exit 130 instead of leaving things behind.
 * Calls may overlap (variant copies coming up at once): a signal runs every cleanup registered then.
 */
export async function withCleanupOnInterrupt<T>(cleanup: () => Promise<unknown>, fn: () => Promise<T>): Promise<T> {
  const entry = () => cleanup();
  interruptCleanups.add(entry);
  const handler = (signal: NodeJS.Signals) => stopAfterCleanup(signal, 130);
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
