/** State files record what a lab created, written before it is created, so `down` works after a crash. */
import fs from 'node:fs';
import path from 'node:path';
import { labHome } from './paths.js';
import { LabError } from './errors.js';
import type { LabState } from './providers/types.js';

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
    exitCode: 1,
  });
}

export function writeState(state: LabState): void {
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
