/** A real OpenSSH server (Debian's openssh-server) in a network namespace of the test's own, reached through socat. */
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempHome } from './cli.js';

export interface Sshd {
  ns: string;
  dir: string;
  clientKey: Buffer;
  hostFingerprint: string;
  proxy: string[];
  start(): void;
  killSessions(): void;
  stop(): void;
}

export function makeSshd(name: string): Sshd {
  const ns = `lab.${name}.sshd`;
  const dir = tempHome('lab-sshd-');
  fs.chmodSync(dir, 0o755);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'client_key')]);
  fs.copyFileSync(path.join(dir, 'client_key.pub'), path.join(dir, 'authorized_keys'));
  fs.chmodSync(path.join(dir, 'authorized_keys'), 0o644);
  const config = [
    'Port 22',
    'ListenAddress 127.0.0.1',
    `HostKey ${dir}/host_key`,
    `AuthorizedKeysFile ${dir}/authorized_keys`,
    `PidFile ${dir}/sshd.pid`,
    'StrictModes no',
    'UsePAM no',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'Subsystem sftp internal-sftp',
    'LogLevel ERROR',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'sshd_config'), `${config}\n`);
  const hostFingerprint = execFileSync('ssh-keygen', ['-lf', path.join(dir, 'host_key.pub')], { encoding: 'utf8' }).split(' ')[1]!;
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  let server: ChildProcess | undefined;
  return {
    ns,
    dir,
    clientKey: fs.readFileSync(path.join(dir, 'client_key')),
    hostFingerprint,
    proxy: ['ip', 'netns', 'exec', ns, 'socat', 'STDIO', 'TCP:127.0.0.1:22'],
    start() {
      server = spawnSshd(ns, dir);
    },
    killSessions() {
      execFileSync('ip', ['netns', 'exec', ns, 'pkill', '-KILL', '-f', 'sshd: .*@notty']);
    },
    stop() {
      server?.kill('SIGKILL');
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
        if (pids.length) execFileSync('kill', ['-KILL', ...pids]);
      } catch {
        // nothing left
      }
      execFileSync('ip', ['netns', 'delete', ns]);
    },
  };
}

/** sshd inside an existing namespace (a lab's node), sharing the keys and config of `base`. */
export function sshdIn(ns: string, base: Sshd): ChildProcess {
  return spawnSshd(ns, base.dir);
}

/** sshd wants /run/sshd: it gets a private /run in a mount namespace of its own, not the machine's. */
function spawnSshd(ns: string, dir: string): ChildProcess {
  return spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      'unshare',
      '--mount',
      'sh',
      '-c',
      `mount -t tmpfs tmpfs /run && mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e -f ${dir}/sshd_config`,
    ],
    { stdio: 'ignore' },
  );
}

export async function waitForPort(ns: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const out = execFileSync('ip', ['netns', 'exec', ns, 'ss', '-ltn'], { encoding: 'utf8' });
    if (out.includes('127.0.0.1:22 ')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('sshd did not start');
}
