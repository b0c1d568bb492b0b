import fs from 'node:fs/promises';
import path from 'node:path';
import { runAttached, runCommand, startProcess } from './process.js';
import type { Transport } from './types.js';

/** Commands run inside one network namespace; the file system is the machine's own. */
export class NetnsTransport implements Transport {
  constructor(
    readonly node: string,
    readonly namespace: string,
    readonly workDir: string,
    /** For a rootless lab: the nsenter prefix into the holder's namespaces. */
    private readonly prefix: readonly string[] = [],
  ) {}

  get rootless(): boolean {
    return this.prefix.length > 0;
  }

  private wrap(argv: readonly string[]): string[] {
    return [...this.prefix, 'ip', 'netns', 'exec', this.namespace, ...argv];
  }

  exec(argv: readonly string[], options?: Parameters<Transport['exec']>[1]) {
    return runCommand(this.wrap(argv), options);
  }

  start(argv: readonly string[]) {
    return startProcess(this.wrap(argv));
  }

  attach(argv: readonly string[]) {
    return runAttached(this.wrap(argv));
  }

  async put(localPath: string, remotePath: string): Promise<void> {
    await fs.mkdir(path.dirname(remotePath), { recursive: true });
    await fs.copyFile(localPath, remotePath);
  }

  async get(remotePath: string, localPath: string): Promise<void> {
    await fs.mkdir(path.dirname(localPath), { recursive: true });
    await fs.copyFile(remotePath, localPath);
  }
}
