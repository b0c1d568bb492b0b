/**
 * How the tool reaches a node: run a command (collected or streamed), copy files in and out.
 * The netns transport runs commands inside a network namespace; the ssh2 transport on a remote host.
 */
import type { CommandResult, LongProcess, RunOptions } from './process.js';

export type { CommandResult, LongProcess, RunOptions };

/** Under QEMU software emulation (a kernel guest, a Vagrant VM on TCG) Python starts about 28x slower; waits for a start get 6x. */
export const SOFTWARE_EMULATION_SLOWDOWN = 6;

export interface Transport {
  readonly node: string;
  /** A folder on the node for agents and artifacts of this lab. */
  readonly workDir: string;
  /** Commands run as root inside a user namespace, not as the machine's root (tcpdump cannot drop privileges there). */
  readonly rootless?: boolean;
  /** How many times slower programs start here than on this machine (a guest under software emulation); waits for a start scale by it. */
  readonly slowdown?: number;
  exec(argv: readonly string[], options?: RunOptions): Promise<CommandResult>;
  start(argv: readonly string[]): LongProcess;
  /** Run with the user's terminal attached; resolves with the exit code. */
  attach(argv: readonly string[]): Promise<number>;
  put(localPath: string, remotePath: string): Promise<void>;
  /** Copy several files into one remote folder, where that is cheaper than one put each (a container: one `docker cp`). */
  putInto?(localPaths: readonly string[], remoteDir: string): Promise<void>;
  get(remotePath: string, localPath: string): Promise<void>;
  /** Make a folder (and its parents) on the node without starting a process there, where its files are this machine's. */
  makeDir?(remoteDir: string): Promise<void>;
}
