/**
 * The ssh2 transport (the only module importing ssh2): exec with streamed output and exit code,
 * long-running processes, SFTP put/get, sudo for a non-root login, keepalive, one connection reused
 * for every command, timeouts, and retries with backoff while a host is still booting. Host keys
 * are checked against the SHA-256 fingerprint the inventory or `vagrant ssh-config` gives; turning
 * that off is an explicit `hostKey: 'insecure-accept-any'`.
 */
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import path from 'node:path';
import type { Duplex } from 'node:stream';
// ssh2 is CommonJS: Node's ESM loader finds `Client` among its named exports but not `utils`, which the default has.
import ssh2, { Client, type ClientChannel, type PseudoTtyOptions, type SFTPWrapper } from 'ssh2';
import { LabError } from '../errors.js';
import { spawnPipe, type CommandResult, type LongProcess, type RunOptions } from './process.js';
import type { Transport } from './types.js';
import { shellQuote } from './quote.js';

export interface SshTarget {
  node: string;
  /** See Transport.slowdown: a VM under software emulation. */
  slowdown?: number;
  host: string;
  port?: number;
  username: string;
  privateKey: string | Buffer;
  /** "SHA256:<base64>" as ssh-keygen -lf prints it, or the explicit opt-out. */
  hostKey: string | 'insecure-accept-any';
  /** Told the key a host presented when checking is off, so a caller can pin it (trust on first use). */
  onHostKey?: (fingerprint: string) => void;
  sudo?: boolean;
  workDir: string;
  /** Reach the host through a command's stdin/stdout instead of TCP (like OpenSSH's ProxyCommand). */
  proxyCommand?: string[];
  /** Reach the host through a stream this opens (a qemu guest's serial port); host and port then only name it. */
  connect?: () => Promise<Duplex>;
  connectTimeoutMs?: number;
  /** How long to keep retrying while the host is not up yet. */
  retryForMs?: number;
}

export { shellQuote };

export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The fingerprint of a public key as an authorized_keys or known_hosts line writes it ("ssh-ed25519 AAAA... comment"). */
export function lineFingerprint(line: string): string {
  const blob = line.trim().split(/\s+/)[1];
  if (!blob || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) throw new LabError(`not an OpenSSH public key: ${line.slice(0, 60)}`, { kind: 'failure' });
  return fingerprint(Buffer.from(blob, 'base64'));
}

/** A new ed25519 key pair: the private key in OpenSSH's format (ssh -i takes it), the public one as a single line. */
export function generateClientKey(comment: string): { privateKey: string; publicKey: string } {
  const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment });
  return { privateKey: pair.private, publicKey: pair.public };
}

export class SshTransport implements Transport {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private proxyKill: (() => void) | undefined;

  constructor(private readonly target: SshTarget) {}

  get node(): string {
    return this.target.node;
  }

  get workDir(): string {
    return this.target.workDir;
  }

  get slowdown(): number | undefined {
    return this.target.slowdown;
  }

  private command(argv: readonly string[]): string {
    const line = argv.map(shellQuote).join(' ');
    return this.target.sudo ? `sudo -n -- sh -c ${shellQuote(line)}` : line;
  }

  private async connection(): Promise<Client> {
    if (this.client) return this.client;
    this.connecting ??= this.connectWithRetries().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connectWithRetries(): Promise<Client> {
    const deadline = Date.now() + (this.target.retryForMs ?? 0);
    let delay = 500;
    for (;;) {
      try {
        const client = await this.connectOnce();
        this.client = client;
        return client;
      } catch (error) {
        const final = error instanceof LabError && error.message.includes('host key');
        if (final || Date.now() + delay > deadline) throw error;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  private connectOnce(): Promise<Client> {
    const t = this.target;
    return new Promise((resolve, reject) => {
      const client = new Client();
      let mismatch: string | undefined;
      const proxy = t.proxyCommand ? spawnPipe(t.proxyCommand) : undefined;
      this.proxyKill = proxy?.kill;
      const opened = t.connect ? t.connect() : Promise.resolve(proxy?.stream);
      client
        .on('ready', () => resolve(client))
        .on('error', (err) => {
          proxy?.kill();
          reject(
            mismatch
              ? new LabError(`host key of ${t.node} (${t.host}) does not match`, {
                  details: [mismatch],
                  hint: 'the host was rebuilt, or this is not the host you meant; update the expected key',
                  kind: 'failure',
                })
              : new LabError(`cannot reach ${t.node} over ssh (${t.username}@${t.host}:${t.port ?? 22})`, {
                  details: [err.message, ...(proxy ? [proxy.stderrText().trim()] : [])].filter(Boolean),
                  kind: 'failure',
                }),
          );
        })
        .on('close', () => {
          if (this.client === client) this.client = undefined;
          proxy?.kill();
        });
      const settings = {
        host: t.host,
        port: t.port ?? 22,
        username: t.username,
        privateKey: t.privateKey,
        readyTimeout: t.connectTimeoutMs ?? 20_000,
        keepaliveInterval: 5_000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          const got = fingerprint(key);
          if (t.hostKey === 'insecure-accept-any') {
            t.onHostKey?.(got);
            return true;
          }
          if (got === t.hostKey) return true;
          mismatch = `expected ${t.hostKey}, the host presented ${got}`;
          return false;
        },
      };
      opened.then(
        (sock) => client.connect({ ...settings, sock }),
        (error: Error) =>
          reject(error instanceof LabError ? error : new LabError(`cannot reach ${t.node} over ssh`, { details: [error.message], kind: 'failure' })),
      );
    });
  }

  private async channel(argv: readonly string[], pty = false, sudo = true): Promise<ClientChannel> {
    const client = await this.connection();
    return new Promise((resolve, reject) => {
      client.exec(sudo ? this.command(argv) : argv.map(shellQuote).join(' '), { pty }, (err, stream) =>
        err ? reject(new LabError(`ssh exec on ${this.node} failed`, { details: [err.message], kind: 'failure' })) : resolve(stream),
      );
    });
  }

  async exec(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    const stream = await this.channel(argv);
    const timeoutMs = options.timeoutMs ?? 60_000;
    const result = await new Promise<CommandResult>((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        stream.close();
        reject(new LabError(`command on ${this.node} timed out after ${timeoutMs} ms: ${argv.join(' ')}`, { kind: 'failure' }));
      }, timeoutMs);
      stream.on('data', (d: Buffer) => (stdout += d.toString()));
      stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      stream.on('close', (code: number | null) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (code === null || code === undefined) reject(new LabError(`connection to ${this.node} lost while running: ${argv.join(' ')}`, { kind: 'failure' }));
        else resolve({ stdout, stderr, exitCode: code });
      });
      if (options.input !== undefined) stream.end(options.input);
      else stream.end();
    });
    if (options.check !== false && result.exitCode !== 0) {
      throw new LabError(`command failed on ${this.node} (exit ${result.exitCode}): ${argv.join(' ')}`, {
        details: result.stderr.trim().split('\n').slice(-5),
        kind: 'failure',
      });
    }
    return result;
  }

  /** A long-running command; its pid (printed first) lets signals reach it through a second channel. */
  start(argv: readonly string[]): LongProcess {
    const listeners: Array<(line: string) => void> = [];
    const pending: string[] = [];
    let stderr = '';
    let remotePid: string | undefined;
    let resolveExit: (code: number | null) => void = () => undefined;
    const exited = new Promise<number | null>((r) => (resolveExit = r));
    const wrapped = ['sh', '-c', 'echo "lab-pid $$"; exec "$@"', 'sh', ...argv];
    void this.channel(wrapped).then(
      (stream) => {
        createInterface({ input: stream }).on('line', (line) => {
          if (remotePid === undefined && line.startsWith('lab-pid ')) {
            remotePid = line.slice(8).trim();
            return;
          }
          if (listeners.length === 0) pending.push(line);
          for (const l of listeners) l(line);
        });
        stream.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8192)));
        stream.on('close', (code: number | null) => resolveExit(code ?? null));
        stream.end();
      },
      (error: Error) => {
        stderr += error.message;
        resolveExit(null);
      },
    );
    return {
      pid: undefined,
      exited,
      onLine(listener) {
        listeners.push(listener);
        for (const line of pending.splice(0)) listener(line);
      },
      stderrText: () => stderr,
      signal: (name) => {
        if (remotePid) void this.exec(['kill', `-${name.replace(/^SIG/, '')}`, remotePid], { check: false, timeoutMs: 15_000 }).catch(() => undefined);
      },
    };
  }

  async attach(argv: readonly string[]): Promise<number> {
    const stream = await this.channel(argv, Boolean(process.stdin.isTTY));
    const { code } = await joinTerminal(stream);
    return code ?? 255;
  }

  /**
   * A login as `ssh host` gives one: the user's shell, or `commandLine` run by it (as OpenSSH sends it, one string the
   * remote shell splits), never under sudo. With a terminal here it gets a pty of the same size, raw, resized along.
   */
  async interactive(commandLine?: string): Promise<number> {
    const client = await this.connection();
    const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
    const pty: PseudoTtyOptions | false = tty ? { term: process.env.TERM ?? 'xterm', rows: process.stdout.rows, cols: process.stdout.columns } : false;
    const stream = await new Promise<ClientChannel>((resolve, reject) => {
      const done = (err: Error | undefined, channel: ClientChannel) =>
        err ? reject(new LabError(`ssh session on ${this.node} failed`, { details: [err.message], kind: 'failure' })) : resolve(channel);
      if (commandLine === undefined) client.shell(pty === false ? false : pty, done);
      else client.exec(commandLine, { pty }, done);
    });
    const resize = () => stream.setWindow(process.stdout.rows, process.stdout.columns, 0, 0);
    if (tty) {
      process.stdin.setRawMode(true);
      process.stdout.on('resize', resize);
    }
    const { code, signalled } = await joinTerminal(stream);
    if (tty) {
      process.stdin.setRawMode(false);
      process.stdout.off('resize', resize);
    }
    // As OpenSSH does: the remote command's status, 255 when the session ended without one.
    return typeof code === 'number' ? code : signalled ? 128 + (SIGNALS[signalled] ?? 0) : 255;
  }

  private async sftp(): Promise<SFTPWrapper> {
    const client = await this.connection();
    return new Promise((resolve, reject) =>
      client.sftp((err, sftp) => (err ? reject(new LabError(`sftp to ${this.node} failed`, { details: [err.message], kind: 'failure' })) : resolve(sftp))),
    );
  }

  async put(localPath: string, remotePath: string): Promise<void> {
    await this.exec(['mkdir', '-p', path.posix.dirname(remotePath)]);
    // Under sudo the lab's folders are root's: the login user uploads to a file of its own, root moves it in place.
    const target = this.target.sudo ? await this.userTempFile() : remotePath;
    const sftp = await this.sftp();
    await new Promise<void>((resolve, reject) =>
      sftp.fastPut(localPath, target, (err) =>
        err ? reject(new LabError(`copying ${localPath} to ${this.node}:${remotePath} failed`, { details: [err.message], kind: 'failure' })) : resolve(),
      ),
    );
    sftp.end();
    if (target !== remotePath) await this.exec(['mv', target, remotePath]);
  }

  async get(remotePath: string, localPath: string): Promise<void> {
    const source = this.target.sudo ? await this.userTempFile() : remotePath;
    if (source !== remotePath) await this.exec(['sh', '-c', 'cp "$1" "$2" && chmod 0644 "$2"', 'sh', remotePath, source]);
    const sftp = await this.sftp();
    await new Promise<void>((resolve, reject) =>
      sftp.fastGet(source, localPath, (err) =>
        err ? reject(new LabError(`copying ${this.node}:${remotePath} failed`, { details: [err.message], kind: 'failure' })) : resolve(),
      ),
    );
    sftp.end();
    if (source !== remotePath) await this.exec(['rm', '-f', source], { check: false });
  }

  /** A fresh file in /tmp owned by the login user (mktemp runs without sudo). */
  private async userTempFile(): Promise<string> {
    const stream = await this.channel(['mktemp', '/tmp/lab-xfer.XXXXXXXX'], false, false);
    return new Promise((resolve, reject) => {
      let out = '';
      stream.on('data', (d: Buffer) => (out += d.toString()));
      stream.on('close', (code: number | null) =>
        code === 0 ? resolve(out.trim()) : reject(new LabError(`mktemp on ${this.node} failed`, { kind: 'failure' })),
      );
      stream.end();
    });
  }

  close(): void {
    this.client?.end();
    this.client = undefined;
    this.proxyKill?.();
  }
}

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, SEGV: 11, PIPE: 13, ALRM: 14, TERM: 15 };

/** This process's stdin, stdout and stderr joined to a session until it closes: its exit code, or the signal that ended it. */
function joinTerminal(stream: ClientChannel): Promise<{ code: number | null; signalled?: string }> {
  return new Promise((resolve) => {
    let signalled: string | undefined;
    stream.on('exit', (_code: number | null, signal?: string) => (signalled = signal));
    process.stdin.pipe(stream);
    stream.pipe(process.stdout);
    stream.stderr.pipe(process.stderr);
    stream.on('close', (code: number | null) => {
      process.stdin.unpipe(stream);
      // A paused stdin no longer keeps the process alive once the remote command is done.
      process.stdin.pause();
      resolve({ code, signalled });
    });
  });
}
