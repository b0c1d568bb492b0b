/** Run the real `lab` binary as a user would, with its own state folder. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const labBin = path.join(root, 'bin', 'lab.cjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const made: string[] = [];
// The test process's folders go when it ends (after every hook has taken its labs down); LAB_KEEP_TEST_HOMES=1 keeps them.
process.on('exit', () => {
  if (process.env.LAB_KEEP_TEST_HOMES) return;
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

export function tempHome(prefix = 'lab-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function envFor(home: string): NodeJS.ProcessEnv {
  return { ...process.env, LAB_HOME: path.join(home, 'home'), LAB_RESULTS: path.join(home, 'results') };
}

export function lab(args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 240_000, cwd = root): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [labBin, ...args], { env, cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export function labSpawn(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [labBin, ...args], { env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function sh(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => (error ? reject(error) : resolve(String(stdout))));
  });
}

/** A copy of a lab from labs/ under another name, in a temp folder, so tests never collide with a user's lab. */
export function labCopy(name: string, newName: string, home: string): string {
  const text = fs.readFileSync(path.join(root, 'labs', name, 'lab.yaml'), 'utf8').replace(/^name: .*$/m, `name: ${newName}`);
  const dir = path.join(home, 'labs', newName);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'lab.yaml'), text);
  return path.join(dir, 'lab.yaml');
}
