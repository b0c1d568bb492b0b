/** The Vagrant command line, run in the lab's Vagrant folder and in the network namespace where libvirt's VMs are. */
import { runCommand, startProcess, type CommandResult, type LongProcess } from '../../transport/process.js';

export interface VagrantPlace {
  dir: string;
  /** Prefix that enters libvirtd's network namespace (empty when it is the root one). */
  enter: string[];
}

export interface SshConfig {
  host: string;
  port: number;
  user: string;
  identityFile: string;
}

/** One line of `--machine-readable` output: timestamp,target,type,data... with commas and newlines escaped. */
export interface VagrantEvent {
  target: string;
  type: string;
  data: string[];
}

const env = (place: VagrantPlace) => ({ VAGRANT_CWD: place.dir, VAGRANT_NO_COLOR: '1', VAGRANT_CHECKPOINT_DISABLE: '1' });

export function vagrant(place: VagrantPlace, args: string[], timeoutMs = 120_000, check = true): Promise<CommandResult> {
  return runCommand([...place.enter, 'vagrant', ...args], { env: env(place), timeoutMs, check });
}

export function vagrantStreaming(place: VagrantPlace, args: string[]): LongProcess {
  return startProcess([...place.enter, 'vagrant', ...args, '--machine-readable'], { env: env(place) });
}

export function parseEvent(line: string): VagrantEvent | undefined {
  const parts = line.split(',');
  if (parts.length < 3 || !/^\d+$/.test(parts[0]!)) return undefined;
  const unescape = (s: string) => s.replaceAll('%!(VAGRANT_COMMA)', ',').replaceAll('\\n', '\n').replaceAll('\\r', '');
  return { target: parts[1]!, type: parts[2]!, data: parts.slice(3).map(unescape) };
}

/** `vagrant ssh-config` prints one "Host <machine>" block per VM. */
export function parseSshConfig(text: string): Record<string, SshConfig> {
  const machines: Record<string, SshConfig> = {};
  let current: Partial<SshConfig> & { name?: string } = {};
  const flush = () => {
    if (current.name && current.host && current.user && current.identityFile) {
      machines[current.name] = { host: current.host, port: current.port ?? 22, user: current.user, identityFile: current.identityFile };
    }
  };
  for (const raw of text.split('\n')) {
    const [key, ...rest] = raw.trim().split(/\s+/);
    const value = rest.join(' ').replace(/^"(.*)"$/, '$1');
    if (key === 'Host') {
      flush();
      current = { name: value };
    } else if (key === 'HostName') current.host = value;
    else if (key === 'Port') current.port = Number(value);
    else if (key === 'User') current.user = value;
    else if (key === 'IdentityFile' && !current.identityFile) current.identityFile = value;
  }
  flush();
  return machines;
}

/** `vagrant status --machine-readable`: the state of each machine (running, shutoff, not_created...). */
export function parseStatus(text: string): Record<string, string> {
  const states: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const e = parseEvent(line);
    if (e?.type === 'state' && e.target) states[e.target] = e.data[0] ?? '';
  }
  return states;
}
