/**
 * A Docker container on a host the tool reaches through another transport (a VM over ssh): commands
 * go through `docker exec`, files through `docker cp` and the host's own folder.
 */
import path from 'node:path';
import type { LongProcess, RunOptions, Transport } from './types.js';

export class ContainerTransport implements Transport {
  private batches = 0;
  private readonly madeDirs = new Set<string>();

  constructor(
    readonly node: string,
    private readonly host: Transport,
    private readonly container: string,
  ) {}

  get workDir(): string {
    return `/tmp/lab/${this.node}`;
  }

  get slowdown(): number | undefined {
    return this.host.slowdown;
  }

  exec(argv: readonly string[], options: RunOptions = {}) {
    return this.host.exec(['docker', 'exec', ...(options.input !== undefined ? ['-i'] : []), this.container, ...argv], options);
  }

  /** The pid inside the container comes first on stdout, so signals reach the process, not the docker client. */
  start(argv: readonly string[]): LongProcess {
    const proc = this.host.start(['docker', 'exec', this.container, 'sh', '-c', 'echo "lab-cpid $$"; exec "$@"', 'sh', ...argv]);
    let pid: string | undefined;
    const listeners: Array<(line: string) => void> = [];
    proc.onLine((line) => {
      if (pid === undefined && line.startsWith('lab-cpid ')) {
        pid = line.slice(9).trim();
        return;
      }
      for (const l of listeners) l(line);
    });
    return {
      pid: undefined,
      exited: proc.exited,
      onLine: (listener) => void listeners.push(listener),
      stderrText: () => proc.stderrText(),
      signal: (name) => {
        if (pid) void this.exec(['kill', `-${name.replace(/^SIG/, '')}`, pid], { check: false, timeoutMs: 15_000 }).catch(() => undefined);
        else proc.signal(name);
      },
    };
  }

  attach(argv: readonly string[]) {
    return this.host.attach(['docker', 'exec', process.stdin.isTTY ? '-it' : '-i', this.container, ...argv]);
  }

  async put(localPath: string, remotePath: string): Promise<void> {
    const staged = this.staged(remotePath);
    await this.host.put(localPath, staged);
    await this.exec(['mkdir', '-p', path.posix.dirname(remotePath)]);
    await this.host.exec(['docker', 'cp', staged, `${this.container}:${remotePath}`]);
  }

  /** Every docker command costs seconds on a VM under software emulation: the files go in with one `docker cp` of a staged folder. */
  async putInto(localPaths: readonly string[], remoteDir: string): Promise<void> {
    const stage = path.posix.join(this.host.workDir, 'container-files', this.node, `batch-${++this.batches}`);
    for (const local of localPaths) await this.host.put(local, path.posix.join(stage, path.basename(local)));
    if (!this.madeDirs.has(remoteDir)) {
      await this.exec(['mkdir', '-p', remoteDir]);
      this.madeDirs.add(remoteDir);
    }
    await this.host.exec(['docker', 'cp', `${stage}/.`, `${this.container}:${remoteDir}`]);
  }

  async get(remotePath: string, localPath: string): Promise<void> {
    const staged = this.staged(remotePath);
    await this.host.exec(['mkdir', '-p', path.posix.dirname(staged)]);
    await this.host.exec(['docker', 'cp', `${this.container}:${remotePath}`, staged]);
    await this.host.get(staged, localPath);
  }

  private staged(remotePath: string): string {
    return path.posix.join(this.host.workDir, 'container-files', this.node, remotePath.replace(/^\/+/, ''));
  }
}
