/** A running agent: its JSON lines, kept in memory and written to its log file as they arrive. */
import fs from 'node:fs';
import path from 'node:path';
import type { LongProcess, Transport } from '../transport/types.js';
import { LabError } from '../errors.js';
import { agentsDir } from '../paths.js';

/** Modules every agent may import, deployed beside it. */
const AGENT_KIT = ['labagent.py', 'rawtcp.py', 'bulkdata.py'];

/** Copy an agent and the shared kit into the node's agents folder; returns the agent's path there. */
export async function deployAgent(transport: Transport, agentFile: string): Promise<string> {
  const dir = `${transport.workDir}/agents`;
  const files = [...AGENT_KIT, agentFile].map((f) => path.join(agentsDir, f));
  if (transport.putInto) await transport.putInto(files, dir);
  else for (const file of files) await transport.put(file, `${dir}/${path.basename(file)}`);
  return `${dir}/${agentFile}`;
}

export interface AgentEvent {
  event: string;
  t: number;
  [key: string]: unknown;
}

export class AgentRun {
  readonly events: AgentEvent[] = [];
  private readonly waiters: Array<() => void> = [];
  private exitCode: number | null | undefined;
  private readonly log: fs.WriteStream;

  constructor(
    readonly label: string,
    readonly node: string,
    private readonly process: LongProcess,
    readonly logFile: string,
  ) {
    this.log = fs.createWriteStream(logFile);
    process.onLine((line) => {
      this.log.write(`${line}\n`);
      try {
        const parsed = JSON.parse(line) as AgentEvent;
        if (parsed && typeof parsed.event === 'string') this.events.push(parsed);
      } catch {
        this.events.push({ event: 'unparsed_output', t: Date.now() / 1000, line });
      }
      for (const w of this.waiters.splice(0)) w();
    });
    void process.exited.then((code) => {
      this.exitCode = code;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  find(event: string): AgentEvent | undefined {
    return this.events.find((e) => e.event === event);
  }

  all(event: string): AgentEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  summary(): AgentEvent | undefined {
    return this.find('summary');
  }

  /** Wait until the agent emits `event` (matching `where`); fails with the agent's stderr when it exits first or time runs out. */
  async waitFor(event: string, timeoutMs: number, where: (e: AgentEvent) => boolean = () => true): Promise<AgentEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((e) => e.event === event && where(e));
      if (found) return found;
      if (!this.running) throw this.failure(`exited (code ${this.exitCode}) before "${event}"`);
      const left = deadline - Date.now();
      if (left <= 0) throw this.failure(`did not report "${event}" within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Wait for the agent to end by itself; past the timeout it is asked to stop (SIGTERM), then killed. */
  async finish(timeoutMs: number): Promise<number | null> {
    const timer = setTimeout(() => this.process.signal('SIGTERM'), timeoutMs);
    const killer = setTimeout(() => this.process.signal('SIGKILL'), timeoutMs + 5000);
    const code = await this.process.exited;
    clearTimeout(timer);
    clearTimeout(killer);
    await new Promise<void>((r) => this.log.end(r));
    return code;
  }

  /** SIGUSR1: an agent started with --wait-for-go acts now, without the delay of starting Python. */
  go(): void {
    this.process.signal('SIGUSR1');
  }

  async stop(): Promise<void> {
    if (this.running) this.process.signal('SIGTERM');
    await this.finish(3000);
  }

  stderr(): string {
    return this.process.stderrText();
  }

  private failure(what: string): LabError {
    const err = this.process.stderrText().trim().split('\n').slice(-5);
    return new LabError(`agent ${this.label} on ${this.node} ${what}`, { details: err, kind: 'failure' });
  }
}
