/** State files record what a lab created, written before it is created, so `down` works after a crash. */
import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedLab } from './lab/model.js';
import { labHome } from './paths.js';
import { LabError } from './errors.js';

/**
 * What `lab down` needs to remove a lab, written before anything is created. `R` is the provider's own record
 * (its descriptor's type parameter); lifecycle.ts writes the state, a provider only adds to its resources.
 */
export interface LabState<R = Record<string, unknown>> {
  /** The lab's id: its name, or name+instance. */
  lab: string;
  name: string;
  instance?: string;
  file: string;
  /** The name of the provider's descriptor in providers/registry.ts. */
  provider: string;
  status: 'creating' | 'up';
  createdAt: string;
  /** The Debian kernel series the lab runs on inside a QEMU guest; absent on this machine's kernel. */
  kernel?: string;
  /** The Docker engine(s) of the lab's docker hosts, as its provider says it once up ("emulated on dhost"); absent without one. */
  engine?: string;
  /** Provider-specific record of what was created, enough for `down` after a crash. */
  resources: R;
}

/** The state written first, before anything is created: status creating, with what the provider's down needs. */
export function creatingState<R>(lab: Pick<ResolvedLab, 'id' | 'name' | 'instance' | 'file' | 'kernel'>, provider: string, resources: R): LabState<R> {
  const instance = lab.instance ? { instance: lab.instance } : {};
  const kernel = lab.kernel ? { kernel: lab.kernel } : {};
  return { lab: lab.id, name: lab.name, ...instance, file: lab.file, provider, status: 'creating', createdAt: new Date().toISOString(), ...kernel, resources };
}

/** Adds to the resources of a lab being brought up: what a step is about to create, before it creates it. */
export function addResources<R>(labId: string, patch: Partial<R>): void {
  const state = readState(labId);
  if (!state) throw new Error(`internal: lab ${labId} has no state to add resources to`);
  writeState({ ...state, resources: { ...state.resources, ...patch } });
}

function stateDir(): string {
  return path.join(labHome(), 'state');
}

export function statePath(lab: string): string {
  return path.join(stateDir(), `${lab}.json`);
}

/** The lab's state, undefined when there is none; a state that cannot be read is an error, never "no state". */
export function readState(lab: string): LabState | undefined {
  const file = statePath(lab);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw corruptState(lab, file, (error as Error).message);
  }
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch (error) {
    throw corruptState(lab, file, `not JSON: ${(error as Error).message}`);
  }
  const s = state as Partial<LabState> | null;
  if (!s || typeof s !== 'object' || s.lab !== lab || typeof s.provider !== 'string' || typeof s.status !== 'string') {
    throw corruptState(lab, file, `not a state of lab ${lab} (expected an object with lab "${lab}", provider and status)`);
  }
  return state as LabState;
}

function corruptState(lab: string, file: string, why: string): LabError {
  const [name, instance] = lab.split('+');
  const down = `lab down ${name}${instance ? ` --instance ${instance}` : ''}`;
  return new LabError(`the state file of lab ${lab} is corrupt: ${file}`, {
    details: [why],
    hint: `move it aside (mv ${file} ${file}.corrupt), then "${down}" removes what carries the lab's names`,
    kind: 'failure',
  });
}

export function writeState<R>(state: LabState<R>): void {
  fs.mkdirSync(stateDir(), { recursive: true });
  const file = statePath(state.lab);
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  fs.renameSync(`${file}.tmp`, file);
}

export function removeState(lab: string): void {
  fs.rmSync(statePath(lab), { force: true });
}

export function listStates(): LabState[] {
  if (!fs.existsSync(stateDir())) return [];
  return fs
    .readdirSync(stateDir())
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      const s = readState(f.slice(0, -5));
      return s ? [s] : [];
    });
}

export function workDir(lab: string): string {
  return path.join(labHome(), 'work', lab);
}
