/**
 * The host end of the exec channel: a unix socket that QEMU joins to the guest's virtio-serial port
 * `lab.0`, where guest/server.py answers. Same discipline as src/transport/process.ts: argument
 * arrays only, exit codes returned, a failure to start is a LabError.
 */
import net from 'node:net';
import { LabError } from '../errors.js';
import type { CommandResult, LongProcess, RunOptions } from '../transport/process.js';
import { LineDecoder, encodeMessage } from './framing.js';

type Message = Record<string, unknown>;

export class GuestChannel {
  /** Ids start at random: a request left unanswered by an earlier connection (guest still booting) must not match ours. */
  private nextId = 1 + Math.floor(Math.random() * 1e9);
  private readonly waiting = new Map<number, (m: Message) => void>();
  private readonly decoder = new LineDecoder();
  private readonly helloWaiters: Array<(release: string) => void> = [];
  private closed = false;

  private constructor(
    private readonly socket: net.Socket,
    readonly socketPath: string,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      for (const m of this.decoder.push(chunk)) {
        if (typeof m.id === 'number') this.waiting.get(m.id)?.(m);
        else if (typeof m.hello === 'string') for (const waiter of this.helloWaiters.splice(0)) waiter(m.hello);
      }
    });
    socket.on('close', () => {
      this.closed = true;
      for (const listener of this.waiting.values()) listener({ error: 'the guest channel closed', closed: true });
    });
    socket.on('error', () => undefined);
    socket.unref();
  }

  /** The socket holds the process open only while a request waits for its answer. */
  private track(): void {
    if (this.waiting.size > 0) this.socket.ref();
    else this.socket.unref();
  }

  /** Open without waiting: requests are queued until the socket connects, and fail if it cannot. */
  static open(socketPath: string): GuestChannel {
    return new GuestChannel(net.createConnection(socketPath), socketPath);
  }

  static connect(socketPath: string, timeoutMs = 5000): Promise<GuestChannel> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(socketPath);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no answer on ${socketPath}`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new GuestChannel(socket, socketPath));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  /** Send a request; `listener` gets every message with its id until it returns true (done). */
  private request(body: Message, listener: (m: Message) => boolean): number {
    const id = this.nextId++;
    if (this.closed) {
      setImmediate(() => listener({ error: 'the guest channel is closed', closed: true }));
      return id;
    }
    this.waiting.set(id, (m) => {
      if (listener(m)) {
        this.waiting.delete(id);
        this.track();
      }
    });
    this.track();
    this.socket.write(encodeMessage({ id, ...body }));
    return id;
  }

  private once(body: Message, timeoutMs: number): Promise<Message> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ error: `no answer from the guest within ${timeoutMs} ms` }), timeoutMs);
      this.request(body, (m) => {
        clearTimeout(timer);
        resolve(m);
        return true;
      });
    });
  }

  async ping(timeoutMs = 2000): Promise<string | undefined> {
    const m = await this.once({ op: 'ping' }, timeoutMs);
    return typeof m.kernel === 'string' ? m.kernel : undefined;
  }

  /** The guest's kernel release once its exec server answers: the hello it sends when its port opens, or a ping. */
  async ready(timeoutMs: number): Promise<string | undefined> {
    const hello = new Promise<string>((resolve) => this.helloWaiters.push(resolve));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.closed) {
      const release = await Promise.race([hello, this.ping(500)]);
      if (release) return release;
    }
    return undefined;
  }

  async exec(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const m = await this.once({ op: 'exec', argv, input: options.input ?? '', timeoutMs, env: options.env ?? {} }, timeoutMs + 30_000);
    if (typeof m.error === 'string') {
      throw new LabError(`command failed in the guest: ${argv.join(' ')}`, {
        details: [m.error],
        hint: m.enoent ? `'${argv[0]}' is not installed on this machine (the guest uses the host's own tools)` : undefined,
        kind: 'failure',
      });
    }
    const out: CommandResult = { stdout: String(m.stdout ?? ''), stderr: String(m.stderr ?? ''), exitCode: Number(m.exitCode ?? 1) };
    if (options.check !== false && out.exitCode !== 0) {
      const details = out.stderr.trim().split('\n').filter(Boolean).slice(-5);
      throw new LabError(`command failed in the guest (exit ${out.exitCode}): ${argv.join(' ')}`, { details, kind: 'failure' });
    }
    return out;
  }

  start(argv: readonly string[], options: { env?: Record<string, string> } = {}): LongProcess {
    const listeners: Array<(line: string) => void> = [];
    const pending: string[] = [];
    let stderr = '';
    let pid: number | undefined;
    let resolveExit: (code: number | null) => void = () => undefined;
    const exited = new Promise<number | null>((r) => (resolveExit = r));
    const id = this.request({ op: 'start', argv, env: options.env ?? {} }, (m) => {
      if (typeof m.pid === 'number') pid = m.pid;
      if (typeof m.line === 'string') {
        if (listeners.length === 0) pending.push(m.line);
        for (const l of listeners) l(m.line);
      }
      if (typeof m.stderr === 'string') stderr = (stderr + m.stderr).slice(-8192);
      if ('exit' in m || 'error' in m) {
        if (typeof m.error === 'string') stderr += m.error;
        resolveExit(typeof m.exit === 'number' ? m.exit : null);
        return true;
      }
      return false;
    });
    return {
      get pid() {
        return pid;
      },
      exited,
      onLine(listener) {
        listeners.push(listener);
        for (const line of pending.splice(0)) listener(line);
      },
      stderrText: () => stderr,
      signal: (name) => void this.once({ op: 'signal', target: id, signal: name }, 10_000),
    };
  }

  async service(argv: readonly string[], logFile: string, readyTimeoutMs = 3000): Promise<{ pid: number; readiness: string }> {
    const m = await this.once({ op: 'service', argv, log: logFile, readyMs: readyTimeoutMs }, readyTimeoutMs + 30_000);
    if (typeof m.pid !== 'number')
      throw new LabError(`could not start ${argv.join(' ')} in the guest`, { details: [String(m.error ?? 'no answer')], kind: 'failure' });
    return { pid: m.pid, readiness: String(m.readiness ?? '') };
  }

  close(): void {
    this.socket.end();
    this.socket.unref();
  }
}
