/**
 * What a scenario may do on a lab: start agents, capture packets, take snapshots, and keep every
 * artifact in the variant's folder. Everything started here is stopped by cleanup(), also on errors.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedLab } from '../lab/model.js';
import { nodeByName, primaryAddress } from '../lab/model.js';
import type { ContainerOutcome, ContainerRequest, Provider } from '../providers/types.js';
import { LabError } from '../errors.js';
import type { Transport } from '../transport/types.js';
import { AgentRun, deployAgent } from './agent.js';
import { Capture } from './capture.js';
import { parseConntrackStats, type ConntrackStats } from './conntrack.js';

export interface StoppedCapture {
  file: string;
  captured: number | null;
  droppedByKernel: number | null;
}

export interface CaptureSpec {
  node: string;
  iface: string;
  filter?: string[];
  /** The capture's name and file name; `<node>-<iface>` when not given. */
  label?: string;
}

export class ScenarioContext {
  private readonly agents: AgentRun[] = [];
  private readonly captures: Capture[] = [];
  private readonly transports = new Map<string, Transport>();
  readonly notes: string[] = [];

  constructor(
    readonly lab: ResolvedLab,
    private readonly provider: Provider,
    /** The variant's results folder; artifacts are written below it. */
    readonly dir: string,
  ) {
    fs.mkdirSync(path.join(dir, 'agents'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'pcap'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'snapshots'), { recursive: true });
  }

  transport(node: string): Transport {
    let t = this.transports.get(node);
    if (!t) {
      t = this.provider.transport(this.lab, node);
      this.transports.set(node, t);
    }
    return t;
  }

  node(name: string) {
    return nodeByName(this.lab, name);
  }

  address(node: string): string {
    return primaryAddress(this.node(node));
  }

  /** Path of an artifact relative to the results folder of the run (for reports). */
  relative(file: string): string {
    return path.relative(path.dirname(this.dir), file);
  }

  /** Copy the agent to the node, start it, wait for its "ready" line. */
  async startAgent(node: string, label: string, agentFile: string, args: string[], readyTimeoutMs = 15_000): Promise<AgentRun> {
    const t = this.transport(node);
    const remote = await deployAgent(t, agentFile);
    // -S: agents use the standard library only, and site's start (dist-packages, .pth files) was ~10 ms of CPU per agent.
    const proc = t.start(['python3', '-S', '-u', remote, ...args]);
    const run = new AgentRun(label, node, proc, path.join(this.dir, 'agents', `${label}.jsonl`));
    this.agents.push(run);
    await run.waitFor('ready', readyTimeoutMs * (t.slowdown ?? 1));
    return run;
  }

  async capture(node: string, iface: string, label: string, filter: string[] = []): Promise<Capture> {
    const [c] = await this.captureAll([{ node, iface, label, filter }]);
    return c!;
  }

  /** Start several captures at once (tcpdump takes a while to say it listens), kept in the order given. */
  async captureAll(specs: CaptureSpec[]): Promise<Capture[]> {
    const settled = await Promise.allSettled(
      specs.map((s) => {
        const label = s.label ?? `${s.node}-${s.iface}`;
        return Capture.start(this.transport(s.node), s.iface, label, path.join(this.dir, 'pcap', `${label}.pcap`), s.filter ?? []);
      }),
    );
    const started = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    this.captures.push(...started);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return started;
  }

  /** Run a read-only command on a node and keep its output as a snapshot file. */
  async snapshot(node: string, label: string, argv: string[]): Promise<string> {
    const out = await this.transport(node).exec(argv, { check: false });
    const text = out.stdout + (out.stderr ? `\n# stderr\n${out.stderr}` : '');
    fs.writeFileSync(path.join(this.dir, 'snapshots', `${label}.txt`), `# ${node}: ${argv.join(' ')}\n${text}`);
    return out.stdout + out.stderr;
  }

  /** `conntrack -S` of a node, kept as snapshot `conntrack-S-<when>` and summed over CPUs; empty when conntrack is missing. */
  async conntrackCounters(node: string, when: string): Promise<ConntrackStats> {
    return parseConntrackStats(await this.snapshot(node, `conntrack-S-${when}`, ['conntrack', '-S']));
  }

  async kernel(node: string): Promise<string> {
    return (await this.transport(node).exec(['uname', '-r'])).stdout.trim();
  }

  /**
   * Stop every capture started so far, all at once (each waits its own grace period for packets in flight); listed in
   * the order they were started; files are local paths. A capture that failed to stop is left for cleanup() to kill.
   */
  async stopCaptures(): Promise<StoppedCapture[]> {
    const running = this.captures.slice();
    const stopped = await Promise.all(running.map((c) => c.stop()));
    this.captures.splice(0, running.length);
    return stopped;
  }

  /** What evidence.json lists as a run's artifacts: captures (relative, with tcpdump's counts) and agent logs. */
  artifacts(pcaps: StoppedCapture[]) {
    return {
      pcaps: pcaps.map((p) => ({ file: this.relative(p.file), captured: p.captured, droppedByKernel: p.droppedByKernel })),
      agentLogs: this.agents.map((a) => this.relative(a.logFile)),
    };
  }

  /** A container step on a docker host (stop, start, restart, replace), done by the provider. */
  async container(request: ContainerRequest): Promise<ContainerOutcome> {
    if (!this.provider.container)
      throw new LabError(`the ${this.provider.name} provider has no container steps`, { hint: 'run the lab with the netns provider' });
    return this.provider.container(this.lab, request);
  }

  /** Every container a step moved, back as the lab brought it up; what was done. */
  async restoreContainers(): Promise<string[]> {
    return (await this.provider.restoreContainers?.(this.lab)) ?? [];
  }

  writeArtifact(name: string, content: string): string {
    const file = path.join(this.dir, name);
    fs.writeFileSync(file, content);
    return file;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.agents.filter((a) => a.running).map((a) => a.stop()));
    for (const c of this.captures) c.kill();
  }
}
