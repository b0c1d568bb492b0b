/**
 * Where a provider's commands run: on this machine (local), inside a rootless lab's holder namespaces
 * (a prefix in front of every argv), or inside a kernel's QEMU guest (src/kernels/runner.ts).
 */
import { runAttached, runCommand, startProcess, startService, type CommandResult, type LongProcess, type RunOptions } from './process.js';

export interface Runner {
  run(argv: readonly string[], options?: RunOptions): Promise<CommandResult>;
  start(argv: readonly string[]): LongProcess;
  /** A process that outlives the command that started it (docker-proxy), with its output in logFile. */
  service(argv: readonly string[], logFile: string, readyTimeoutMs?: number): Promise<{ pid: number; readiness: string }>;
  attach(argv: readonly string[]): Promise<number>;
  /** True when commands run as root of a user namespace rather than of the machine. */
  readonly rootless: boolean;
  /** Programs start this many times slower than here (see Transport.slowdown). */
  readonly slowdown?: number;
}

export function prefixedRunner(prefix: readonly string[]): Runner {
  const wrap = (argv: readonly string[]) => [...prefix, ...argv];
  return {
    run: (argv, options) => runCommand(wrap(argv), options),
    start: (argv) => startProcess(wrap(argv)),
    service: (argv, logFile, readyTimeoutMs) => startService(wrap(argv), logFile, readyTimeoutMs),
    attach: (argv) => runAttached(wrap(argv)),
    rootless: prefix.length > 0,
  };
}

export const localRunner: Runner = prefixedRunner([]);
