/**
 * The only module that starts processes (the only execa import). Arguments are always
 * passed as an array, never through a shell, so no value can be interpreted as a command.
 * runCommand and startProcess are plain child_process with execa's semantics: execa itself (a hundred modules) loads
 * only for an attached process (lab exec) or a pipe (an ssh ProxyCommand).
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Options, ResultPromise } from 'execa';
import { LabError } from '../errors.js';

// Loaded on first use, synchronously (startProcess and spawnPipe return at once): child_process brings net, dgram and
// streams with it, a few milliseconds that `lab validate` and `lab list`, which start no process, would pay for nothing.
const require = createRequire(import.meta.url);
let execaModule: typeof import('execa') | undefined;
function execa(file: string, args: readonly string[], options: Options): ResultPromise {
  execaModule ??= require('execa') as typeof import('execa');
  return execaModule.execa(file, args, options) as ResultPromise;
}
const childProcess = () => require('node:child_process') as typeof import('node:child_process');
const readline = () => require('node:readline') as typeof import('node:readline');

/**
 * Lab commands and agents see the machine's system PATH, never the tool's own (npm puts
 * node_modules/.bin first, and a package there is named nft).
 */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** An executable of that name in one of SYSTEM_PATH's folders. */
export function onSystemPath(tool: string): boolean {
  return SYSTEM_PATH.split(':').some((dir) => {
    try {
      fs.accessSync(path.join(dir, tool), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
const systemEnv = (env?: Record<string, string>) => ({ PATH: SYSTEM_PATH, ...env });

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  /** When false, a non-zero exit is returned instead of thrown. */
  check?: boolean;
  env?: Record<string, string>;
}

export async function runCommand(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (!file) throw new LabError('internal: empty command');
  const result = await buffered(file, args, options.input, options.timeoutMs ?? 60_000, systemEnv(options.env));
  if (result.exitCode === undefined) {
    const why = result.timedOut ? `timed out after ${options.timeoutMs ?? 60_000} ms` : (result.startError ?? 'could not start');
    throw new LabError(`command failed: ${argv.join(' ')}`, { details: [why], hint: missingToolHint(file, result.startError), kind: 'failure' });
  }
  const out: CommandResult = { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode };
  if (options.check !== false && out.exitCode !== 0) {
    throw new LabError(`command failed (exit ${out.exitCode}): ${argv.join(' ')}`, {
      details: out.stderr.trim().split('\n').filter(Boolean).slice(-5),
      kind: 'failure',
    });
  }
  return out;
}

interface Buffered {
  stdout: string;
  stderr: string;
  /** undefined when it could not start, timed out or was killed by a signal. */
  exitCode: number | undefined;
  timedOut: boolean;
  startError?: string;
}

/** Children still running, stopped when this process exits (as execa's cleanup does). */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill();
});

/**
 * Runs to completion with the output buffered, as execa did for runCommand: the environment extended, stdin open
 * (closed after input when there is input), SIGTERM at the timeout and SIGKILL 5 s later.
 */
function buffered(file: string, args: string[], input: string | undefined, timeoutMs: number, env: Record<string, string>): Promise<Buffered> {
  return new Promise((resolve) => {
    const child = childProcess().spawn(file, args, { env: { ...process.env, ...env } });
    running.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let startError: string | undefined;
    let forceKill: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin.on('error', () => undefined);
    if (input !== undefined) child.stdin.end(input);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      forceKill = setTimeout(() => child.kill('SIGKILL'), 5000);
    }, timeoutMs);
    child.on('error', (error) => {
      startError = error.message;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      clearTimeout(forceKill);
      running.delete(child);
      resolve({ stdout, stderr, exitCode: startError !== undefined || code === null ? undefined : code, timedOut, startError });
    });
  });
}

function missingToolHint(file: string, message: string | undefined): string | undefined {
  if (message?.includes('ENOENT')) return `'${file}' is not installed; see the README for the packages a lab needs`;
  return undefined;
}

export interface LongProcess {
  readonly pid: number | undefined;
  /** Resolves with the exit code (or null when killed by a signal). */
  readonly exited: Promise<number | null>;
  onLine(listener: (line: string) => void): void;
  stderrText(): string;
  signal(name: NodeJS.Signals): void;
}

/**
 * Start a process that runs until stopped; stdout is delivered line by line. Plain child_process with what execa gave
 * it (the environment extended, stdin closed, stopped when this process exits, SIGKILL 5 s after a SIGTERM it ignores):
 * a run starts a few long processes per variant, and execa's load and its work per process were a tenth of lab's CPU.
 */
export function startProcess(argv: readonly string[], options: { env?: Record<string, string> } = {}): LongProcess {
  const [file, ...args] = argv;
  if (!file) throw new LabError('internal: empty command');
  const child = childProcess().spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...systemEnv(options.env) } });
  running.add(child);
  const listeners: Array<(line: string) => void> = [];
  const pending: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8192);
  });
  readline()
    .createInterface({ input: child.stdout })
    .on('line', (line) => {
      if (listeners.length === 0) pending.push(line);
      for (const listener of listeners) listener(line);
    });
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (error) => {
      stderr += `${error.message}\n`;
      running.delete(child);
      resolve(null);
    });
    child.on('close', (code) => {
      running.delete(child);
      resolve(code);
    });
  });
  return {
    pid: child.pid,
    exited,
    onLine(listener) {
      listeners.push(listener);
      for (const line of pending.splice(0)) listener(line);
    },
    stderrText: () => stderr,
    signal(name) {
      child.kill(name);
      if (name === 'SIGTERM') setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    },
  };
}

/**
 * Start a process that outlives this one (a lab service such as docker-proxy): detached, output to a
 * log file, and a pipe on fd 3 on which it may report readiness the way dockerd expects ("0" ok, "1\n<error>").
 */
export async function startService(argv: readonly string[], logFile: string, readyTimeoutMs = 3000): Promise<{ pid: number; readiness: string }> {
  const [file, ...args] = argv;
  if (!file) throw new LabError('internal: empty command');
  const log = fs.openSync(logFile, 'a');
  const child = childProcess().spawn(file, args, { detached: true, stdio: ['ignore', log, log, 'pipe'], env: { ...process.env, PATH: SYSTEM_PATH } });
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined);
  const signal = child.stdio[3] as NodeJS.ReadableStream | null;
  let readiness = '';
  const outcome = await new Promise<'ready' | 'failed' | 'exited' | 'silent'>((resolve) => {
    const timer = setTimeout(() => resolve('silent'), readyTimeoutMs);
    signal?.on('data', (chunk: Buffer) => {
      readiness += chunk.toString();
      if (/^0/.test(readiness)) resolve('ready');
      else if (/^1/.test(readiness)) setTimeout(() => resolve('failed'), 50);
    });
    void exited.then(() => resolve('exited'));
    void timer;
  });
  signal?.removeAllListeners('data');
  (signal as unknown as { destroy?: () => void })?.destroy?.();
  if (outcome === 'failed' || outcome === 'exited' || !child.pid) {
    throw new LabError(`could not start ${argv.join(' ')}`, {
      details: [readiness.replace(/^1\n?/, '').trim() || `it exited; see ${logFile}`],
      kind: 'failure',
    });
  }
  child.unref();
  return { pid: child.pid, readiness: outcome };
}

/** Run with the terminal attached (for `lab exec`); resolves with the exit code. */
export async function runAttached(argv: readonly string[]): Promise<number> {
  const [file, ...args] = argv;
  if (!file) throw new LabError('internal: empty command');
  const result = await execa(file, args, { stdio: 'inherit', reject: false, env: systemEnv() });
  if (result.exitCode === undefined) throw new LabError(`could not run ${argv.join(' ')}`, { details: [result.originalMessage ?? ''], kind: 'failure' });
  return result.exitCode;
}

/** A command whose stdin and stdout together are a byte stream (a ProxyCommand for ssh, e.g. socat into a namespace). */
export function spawnPipe(argv: readonly string[]): { stream: import('node:stream').Duplex; kill: () => void; stderrText: () => string } {
  const [file, ...args] = argv;
  if (!file) throw new LabError('internal: empty command');
  const child = execa(file, args, { reject: false, buffer: false, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', env: systemEnv() });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4096);
  });
  const stream = child.duplex({ from: 'stdout', to: 'stdin', binary: true });
  return { stream, kill: () => void child.kill('SIGKILL'), stderrText: () => stderr };
}
