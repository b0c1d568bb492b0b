/** Packet captures with tcpdump inside a node; --immediate-mode and a clean SIGINT so the last packets are kept. */
import type { LongProcess, Transport } from '../transport/types.js';
import { LabError } from '../errors.js';
import { deployAgent } from './agent.js';

export class Capture {
  private constructor(
    readonly label: string,
    readonly node: string,
    readonly iface: string,
    private readonly remotePath: string,
    readonly localPath: string,
    private readonly transport: Transport,
    private readonly process: LongProcess,
  ) {}

  static async start(transport: Transport, iface: string, label: string, localPath: string, filter: string[] = []): Promise<Capture> {
    const remotePath = `${transport.workDir}/captures/${label}.pcap`;
    const dir = `${transport.workDir}/captures`;
    await (transport.makeDir ? transport.makeDir(dir) : transport.exec(['mkdir', '-p', dir]));
    let argv = [
      'tcpdump',
      '-i',
      iface,
      '-nn',
      '-U',
      '--immediate-mode',
      '-Z',
      'root',
      '-s',
      '256',
      '-w',
      remotePath,
      ...(filter.length ? ['--', filter.join(' ')] : []),
    ];
    if (transport.rootless) {
      // tcpdump insists on dropping privileges, which a user namespace without setgroups refuses: capture with the agent, filter when reading.
      const agent = await deployAgent(transport, 'pcap_capture.py');
      argv = ['python3', '-S', '-u', agent, '--iface', iface, '--out', remotePath, '--snaplen', '256'];
    }
    const proc = transport.start(argv);
    const deadline = Date.now() + 10_000 * (transport.slowdown ?? 1);
    while (!proc.stderrText().includes('listening on')) {
      if (Date.now() > deadline) {
        proc.signal('SIGKILL');
        throw new LabError(`tcpdump on ${transport.node}/${iface} did not start`, { details: proc.stderrText().trim().split('\n').slice(-3), kind: 'failure' });
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return new Capture(label, transport.node, iface, remotePath, localPath, transport, proc);
  }

  /** Stop, fetch the pcap and report tcpdump's own packet counts. */
  async stop(): Promise<{ file: string; captured: number | null; droppedByKernel: number | null }> {
    await new Promise((r) => setTimeout(r, 200));
    this.process.signal('SIGINT');
    const timer = setTimeout(() => this.process.signal('SIGKILL'), 5000);
    await this.process.exited;
    clearTimeout(timer);
    await this.transport.get(this.remotePath, this.localPath);
    const text = this.process.stderrText();
    const num = (re: RegExp) => {
      const m = re.exec(text);
      return m ? Number(m[1]) : null;
    };
    return { file: this.localPath, captured: num(/(\d+) packets? captured/), droppedByKernel: num(/(\d+) packets? dropped by kernel/) };
  }

  kill(): void {
    this.process.signal('SIGKILL');
  }
}
