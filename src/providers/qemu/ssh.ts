/**
 * sshd in the qemu provider's guests, for `lab ssh` and OpenSSH's `ssh -F`. The host's own /usr/sbin/sshd runs in
 * inetd mode (`sshd -i`, one per session) on a virtio-serial port of the guest, whose host end is a unix socket in the
 * lab's guests folder; ssh2 (and OpenSSH, through `lab ssh --proxy`) speak SSH over that socket.
 *
 * Why a serial port and not a network: nothing in the root namespace (no `-netdev user,hostfwd=tcp:127.0.0.1:...`
 * port on the machine's loopback; QEMU 7.2's slirp forwards TCP and UDP only, "Bad protocol name" for unix), no
 * management NIC in a guest whose root namespace is the lab's node (it would show in `ip addr` and its routes), no
 * TCP to 127.0.0.1:22 in the node's conntrack table beside the lab's evidence, and no vsock (vhost-vsock needs
 * /dev/vhost-vsock, absent here, and its CIDs are global to the machine). QEMU's socket chardev serves one client at
 * a time, so each guest has SSH_PORTS ports and a client claims a free one with a lock file (pid and start time).
 *
 * Keys: the guest makes its ed25519 host key at boot in /run/lab-ssh (its own tmpfs, never on this machine's disk);
 * the public half comes back over the exec channel and is pinned in the lab's state (which no guest can reach) and in
 * a known_hosts file for OpenSSH. The client key is the lab's own, made here, authorized in the guest only.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { LabError } from '../../errors.js';
import { processStart } from '../../lock.js';
import { labHome, packageRoot } from '../../paths.js';
import type { Runner } from '../../transport/runner.js';
import { generateClientKey, type SshTarget } from '../../transport/ssh.js';
import { SOFTWARE_EMULATION_SLOWDOWN } from '../../transport/types.js';
import { guestsDir, SSH_PORTS, sshPorts } from './layout.js';

const GUEST_DIR = '/run/lab-ssh';

export const SSHD_CONFIG = [
  `HostKey ${GUEST_DIR}/ssh_host_ed25519_key`,
  // Not root's ~/.ssh: the guest's root is this machine's, read-only; only the lab's key logs in.
  `AuthorizedKeysFile ${GUEST_DIR}/authorized_keys`,
  // The guest's /run is a tmpfs of mode 1777, which StrictModes refuses as a parent of authorized_keys; the folder
  // itself is root's, mode 0700, in the guest's memory.
  'StrictModes no',
  'PermitRootLogin prohibit-password',
  'PasswordAuthentication no',
  'KbdInteractiveAuthentication no',
  'UsePAM no',
  'PidFile none',
  'PrintMotd no',
  'PrintLastLog no',
  'Subsystem sftp internal-sftp',
  'LogLevel ERROR',
  // root's HOME is this machine's /root, read-only in the guest: its dotfiles (pyenv's rehash, for one) would warn at
  // every login. A home of the guest's own, empty: the login shell reads /etc/profile and /etc/bash.bashrc only.
  `SetEnv HOME=${GUEST_DIR}/home`,
];

/**
 * Run in the guest: its private folder, /dev/pts for sessions with a terminal (the initramfs mounts none), sshd's
 * privilege separation folder, a fresh host key, the client key (stdin) authorized, the config; prints the host key.
 */
export const GUEST_SETUP = [
  'set -e',
  'umask 077',
  'mkdir -p "$1" "$1"/home',
  'mkdir -p -m 755 /run/sshd',
  "grep -q ' /dev/pts ' /proc/mounts || { mkdir -p /dev/pts; mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts; }",
  'rm -f "$1"/ssh_host_ed25519_key "$1"/ssh_host_ed25519_key.pub',
  'ssh-keygen -q -t ed25519 -N "" -C "" -f "$1"/ssh_host_ed25519_key',
  'cat > "$1"/authorized_keys',
  'printf "%s\\n" "$2" > "$1"/sshd_config',
  'cat "$1"/ssh_host_ed25519_key.pub',
].join('\n');

export interface SshFiles {
  dir: string;
  key: string;
  publicKey: string;
  knownHosts: string;
}

/** The lab's ssh folder on this machine, beside its state: out of the work folder the guests share read-write. */
export function sshFiles(labId: string): SshFiles {
  const dir = path.join(labHome(), 'ssh', labId);
  return { dir, key: path.join(dir, 'id_ed25519'), publicKey: path.join(dir, 'id_ed25519.pub'), knownHosts: path.join(dir, 'known_hosts') };
}

/** The lab's client key, made once per lab (mode 0600, as OpenSSH's ssh -i wants it); returns its public line. */
export function ensureClientKey(labId: string): string {
  const files = sshFiles(labId);
  if (fs.existsSync(files.key) && fs.existsSync(files.publicKey)) return fs.readFileSync(files.publicKey, 'utf8').trim();
  fs.mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const pair = generateClientKey(`lab ${labId}`);
  fs.writeFileSync(files.key, pair.privateKey, { mode: 0o600 });
  fs.writeFileSync(files.publicKey, `${pair.publicKey}\n`, { mode: 0o644 });
  return pair.publicKey;
}

/**
 * Host key, config and the port server in one guest, at once (the server reads the config only when a session comes);
 * returns the host key's public line ("ssh-ed25519 AAAA..."), as the guest printed it on the exec channel.
 */
export async function startGuestSsh(labId: string, node: string, runner: Runner): Promise<string> {
  const clientKey = ensureClientKey(labId);
  const script = path.join(packageRoot, 'guest', 'ssh_ports.py');
  const log = path.join(guestsDir(labId), `${node}.sshd.log`);
  const ports = sshPorts(labId, node).map((p) => p.name);
  const [out] = await Promise.all([
    runner.run(['sh', '-c', GUEST_SETUP, 'sh', GUEST_DIR, SSHD_CONFIG.join('\n')], { input: `${clientKey}\n`, timeoutMs: 60_000 }),
    runner.service(['python3', '-S', '-u', script, `${GUEST_DIR}/sshd_config`, log, ...ports], log, 60_000),
  ]);
  return hostKeyOf(node, out.stdout, out.stderr);
}

/** The host key line the guest's setup printed last, without its comment; anything else is refused. */
export function hostKeyOf(node: string, stdout: string, stderr = ''): string {
  const hostKey = stdout.trim().split('\n').at(-1) ?? '';
  if (!/^ssh-ed25519 [A-Za-z0-9+/]+=*( .*)?$/.test(hostKey))
    throw new LabError(`the guest of ${node} printed no ed25519 host key`, { details: [stdout.slice(0, 200), stderr.slice(0, 200)], kind: 'failure' });
  return hostKey.split(' ').slice(0, 2).join(' ');
}

/** The name a guest's key has in the known_hosts file (HostKeyAlias): lab ids may hold "+" and "@". */
export function hostKeyAlias(labId: string, node: string): string {
  return `${node}.${labId.replace(/[^A-Za-z0-9.-]/g, '-')}.lab`;
}

export function knownHostsText(labId: string, hostKeys: Record<string, string>): string {
  return Object.entries(hostKeys)
    .map(([node, key]) => `${hostKeyAlias(labId, node)} ${key}\n`)
    .join('');
}

export function writeKnownHosts(labId: string, hostKeys: Record<string, string>): void {
  const files = sshFiles(labId);
  fs.mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(files.knownHosts, knownHostsText(labId, hostKeys), { mode: 0o644 });
}

/**
 * `lab ssh --config`: one OpenSSH Host block per machine, named both by the node and by its alias (which stays unique
 * when blocks of several labs share one file); `proxy` is the ProxyCommand that reaches a node's sshd.
 */
export function renderSshConfig(labId: string, nodes: string[], proxy: (node: string) => string): string {
  const files = sshFiles(labId);
  return nodes
    .map((node) =>
      [
        `Host ${node} ${hostKeyAlias(labId, node)}`,
        `  HostName ${hostKeyAlias(labId, node)}`,
        '  User root',
        `  IdentityFile ${files.key}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${files.knownHosts}`,
        `  HostKeyAlias ${hostKeyAlias(labId, node)}`,
        '  StrictHostKeyChecking yes',
        '  UpdateHostKeys no',
        `  ProxyCommand ${proxy(node)}`,
        '',
      ].join('\n'),
    )
    .join('\n');
}

interface PortHolder {
  pid: number;
  start: string;
}

/** Take the lock of one port: a file made exclusively; one left by a process that is gone is taken over. */
export function claimLock(file: string): boolean {
  const me: PortHolder = { pid: process.pid, start: processStart(process.pid) ?? '?' };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (holderAlive(file)) return false;
    fs.rmSync(file, { force: true });
  }
  return false;
}

function holderAlive(file: string): boolean {
  try {
    const h = JSON.parse(fs.readFileSync(file, 'utf8')) as PortHolder;
    return Number.isInteger(h.pid) && processStart(h.pid) === h.start;
  } catch {
    return false; // gone meanwhile, or half written by a process killed at once
  }
}

/** A stream to the guest's sshd on a port no other client holds; the port is free again when the stream closes. */
export async function openPort(labId: string, node: string): Promise<Duplex> {
  const dir = sshFiles(labId).dir;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [i, port] of sshPorts(labId, node).entries()) {
    if (!fs.existsSync(port.socket)) throw new LabError(`the guest of ${node} has no ssh port (${port.socket})`, { kind: 'failure' });
    const lock = path.join(dir, `${node}.ssh${i}.lock`);
    if (!claimLock(lock)) continue;
    const release = () => fs.rmSync(lock, { force: true });
    process.once('exit', release);
    try {
      const socket = await connectUnix(port.socket);
      socket.once('close', release);
      return socket;
    } catch (error) {
      release();
      throw new LabError(`cannot open the ssh port of ${node}`, { details: [(error as Error).message], kind: 'failure' });
    }
  }
  throw new LabError(`all ${SSH_PORTS} ssh ports of ${node} are in use`, {
    hint: `close another ssh session to ${node}, or share one connection (OpenSSH's ControlMaster)`,
    kind: 'failure',
  });
}

function connectUnix(file: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(file);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** ssh2's target for a guest: root with the lab's key, the host key the state pins, over a serial port. */
export function guestSshTarget(labId: string, node: string, pinnedFingerprint: string): SshTarget {
  return {
    node,
    host: `the guest of ${node}`,
    username: 'root',
    privateKey: fs.readFileSync(sshFiles(labId).key),
    hostKey: pinnedFingerprint,
    workDir: '/tmp',
    slowdown: SOFTWARE_EMULATION_SLOWDOWN,
    connect: () => openPort(labId, node),
    connectTimeoutMs: 60_000,
  };
}

/** `lab down`: the keys, known_hosts and port locks. */
export function removeSshFiles(labId: string): string[] {
  const dir = sshFiles(labId).dir;
  if (!fs.existsSync(dir)) return [];
  fs.rmSync(dir, { recursive: true, force: true });
  return [`folder ${dir}`];
}
