import fs from 'node:fs/promises';
import path from 'node:path';
import { localRunner, type Runner } from './runner.js';
import type { Transport } from './types.js';

/** Commands run inside one network namespace; the file system is the machine's own. */
export class NetnsTransport implements Transport {
  constructor(
    readonly node: string,
    readonly namespace: string,
    readonly workDir: string,
    /** Where commands run: here, inside a rootless lab's holder, or inside a kernel's guest. */
    private readonly runner: Runner = localRunner,
  ) {}

  get slowdown(): number | undefined {
    return this.runner.slowdown;
  }

  get rootless(): boolean {
    return this.runner.rootless;
  }

  private wrap(argv: readonly string[]): string[] {
    return ['ip', 'netns', 'exec', this.namespace, ...argv];
  }

  exec(argv: readonly string[], options?: Parameters<Transport['exec']>[1]) {
    return this.runner.run(this.wrap(argv), options);
  }

  start(argv: readonly string[]) {
    return this.runner.start(this.wrap(argv));
  }

  attach(argv: readonly string[]) {
    return this.runner.attach(this.wrap(argv));
  }

  async put(localPath: string, remotePath: string): Promise<void> {
    await fs.mkdir(path.dirname(remotePath), { recursive: true });
    await fs.copyFile(localPath, remotePath);
  }

  async makeDir(remoteDir: string): Promise<void> {
    await fs.mkdir(remoteDir, { recursive: true });
  }

  async get(remotePath: string, localPath: string): Promise<void> {
    await fs.mkdir(path.dirname(localPath), { recursive: true });
    await fs.copyFile(remotePath, localPath);
  }
}
