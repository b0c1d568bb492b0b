/**
 * The qemu provider's sshd without a guest: the setup script and sshd_config the guests get, run here as the guest runs
 * them (the machine's own sshd in inetd mode on a byte stream, /run a private tmpfs), reached by ssh2 with the host key
 * pinned from what the setup printed; a wrong pin is refused. Also the OpenSSH config `lab ssh --config` prints (parsed
 * by the system's `ssh -G`), the key fingerprints against ssh-keygen's, and the port locks.
 */
import test from 'ava';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { GUEST_SETUP, SSHD_CONFIG, claimLock, hostKeyOf, hostKeyAlias, renderSshConfig, sshFiles, ensureClientKey } from '../../../src/providers/qemu/ssh.js';
import { proxyCommandLine } from '../../../src/commands/ssh.js';
import { SshTransport, lineFingerprint } from '../../../src/transport/ssh.js';
import { LabError } from '../../../src/errors.js';
import { tempHome } from '../../helpers/cli.js';

const home = tempHome('lab-qemu-ssh-');
process.env.LAB_HOME = home;
const LAB = 'ssh-pair+unit';

const noSshd = process.getuid?.() !== 0 ? 'needs root (a private /run for sshd)' : !fs.existsSync('/usr/sbin/sshd') ? 'no /usr/sbin/sshd' : undefined;
const withSshd = noSshd ? test.skip : test.serial;
if (noSshd) process.stderr.write(`skipping the sshd tests: ${noSshd}\n`);

/** One guest session as ssh_ports.py starts it: the setup (stdout to stderr here), then `sshd -i` on stdin/stdout. */
function guestSession(clientKeyFile: string): { child: ChildProcess; hostKey: Promise<string>; stream: Duplex } {
  const script = `mount -t tmpfs tmpfs /run && sh -c "$0" sh /run/lab-ssh "$1" <${clientKeyFile} >&2 && exec /usr/sbin/sshd -i -e -f /run/lab-ssh/sshd_config`;
  const child = spawn('unshare', ['--mount', 'sh', '-c', script, GUEST_SETUP, SSHD_CONFIG.join('\n')], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  const hostKey = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const line = err.split('\n').find((l) => l.startsWith('ssh-ed25519 '));
      if (line) resolve(hostKeyOf('unit', line));
    });
    child.once('exit', () => reject(new Error(`the session ended before a host key: ${err}`)));
  });
  const stream = Duplex.from({ readable: child.stdout!, writable: child.stdin! });
  // A refused host key, or the teardown's kill, ends sshd under ssh2: the pipe then closes early, after ssh2 stopped
  // listening (an uncaught ERR_STREAM_PREMATURE_CLOSE in one loaded suite run). The tests assert what ssh2 reports.
  stream.on('error', () => undefined);
  return { child, hostKey, stream };
}

function transportOver(stream: Duplex, hostKey: string): SshTransport {
  return new SshTransport({
    node: 'unit',
    host: 'the guest of unit',
    username: 'root',
    privateKey: fs.readFileSync(sshFiles(LAB).key),
    hostKey,
    workDir: '/tmp',
    connect: () => Promise.resolve(stream),
    connectTimeoutMs: 20_000,
  });
}

withSshd("the guests' setup and sshd_config: the host key it prints is the one sshd presents, and the lab's key logs in", async (t) => {
  ensureClientKey(LAB);
  const session = guestSession(sshFiles(LAB).publicKey);
  t.teardown(() => session.child.kill('SIGKILL'));
  const key = await session.hostKey;
  t.regex(key, /^ssh-ed25519 [A-Za-z0-9+/]+=*$/);
  const ssh = transportOver(session.stream, lineFingerprint(key));
  t.teardown(() => ssh.close());
  const r = await ssh.exec(['sh', '-c', 'uname -r; id -u; echo err >&2; exit 3'], { check: false });
  t.deepEqual([r.stdout.split('\n').slice(0, 2), r.exitCode], [[os.release(), '0'], 3]);
  t.regex(r.stderr, /err/);
  // The login's home is the guest's own, empty: root's dotfiles on this machine (read-only in a guest) are not read.
  const home = await ssh.exec(['sh', '-c', 'echo "$HOME"; ls -A "$HOME"; touch "$HOME"/w && echo writable'], { check: false });
  t.deepEqual([home.stdout, home.stderr, home.exitCode], ['/run/lab-ssh/home\nwritable\n', '', 0]);
});

withSshd('a guest that presents another host key than the pinned one is refused', async (t) => {
  ensureClientKey(LAB);
  const session = guestSession(sshFiles(LAB).publicKey);
  t.teardown(() => session.child.kill('SIGKILL'));
  const key = await session.hostKey;
  // The pin of another guest's key (made as the guests make theirs): not this one's.
  const other = path.join(home, 'other_host_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', other]);
  const otherPin = lineFingerprint(fs.readFileSync(`${other}.pub`, 'utf8'));
  t.not(otherPin, lineFingerprint(key));
  const ssh = transportOver(session.stream, otherPin);
  t.teardown(() => ssh.close());
  const error = await t.throwsAsync(ssh.exec(['true']), { instanceOf: LabError });
  t.regex(error!.message, /host key of unit .* does not match/);
  t.regex((error as LabError).details.join(' '), new RegExp(`the host presented ${lineFingerprint(key).replace(/[+/]/g, '\\$&')}`));
});

test('lineFingerprint is what ssh-keygen -l prints for the same key, and a line without a key is refused', (t) => {
  const file = path.join(home, 'fp_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'a comment', '-f', file]);
  const theirs = execFileSync('ssh-keygen', ['-lf', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  t.is(lineFingerprint(fs.readFileSync(`${file}.pub`, 'utf8')), theirs);
  t.throws(() => lineFingerprint('ssh-ed25519'), { message: /not an OpenSSH public key/ });
  t.throws(() => lineFingerprint('ssh-ed25519 not;base64'), { message: /not an OpenSSH public key/ });
});

test("hostKeyOf takes the setup's last line, drops its comment, and refuses anything but an ed25519 key", (t) => {
  t.is(hostKeyOf('n', 'noise\nssh-ed25519 AAAAC3Nza+/= root@x\n'), 'ssh-ed25519 AAAAC3Nza+/=');
  t.throws(() => hostKeyOf('n', 'ssh-rsa AAAAB3Nza\n'), { message: /the guest of n printed no ed25519 host key/ });
  t.throws(() => hostKeyOf('n', ''), { message: /printed no ed25519 host key/ });
  t.throws(() => hostKeyOf('n', 'ssh-ed25519 AAAA;rm -rf /'), { message: /printed no ed25519 host key/ });
});

test('the client key is made once per lab, private 0600 in a 0700 folder under LAB_HOME/ssh', (t) => {
  const lab = 'keys+unit';
  const first = ensureClientKey(lab);
  t.regex(first, /^ssh-ed25519 [A-Za-z0-9+/]+=* lab keys\+unit$/);
  t.is(ensureClientKey(lab), first, 'the same key the second time');
  const files = sshFiles(lab);
  t.is(files.dir, path.join(home, 'ssh', lab));
  t.is(fs.statSync(files.key).mode & 0o777, 0o600);
  t.is(fs.statSync(files.dir).mode & 0o777, 0o700);
  // OpenSSH reads the private key as written: ssh-keygen -y derives the same public key from it.
  t.is(
    execFileSync('ssh-keygen', ['-y', '-f', files.key], { encoding: 'utf8' }).trim().split(' ').slice(0, 2).join(' '),
    first.split(' ').slice(0, 2).join(' '),
  );
});

test('--config: a block per machine that OpenSSH parses to the lab key, known_hosts and alias, and whose ProxyCommand it runs as written', (t) => {
  // A stand-in for bin/lab.cjs in a folder with a space and a % (ssh_config's token character): it records what it got.
  const bin = path.join(home, 'my lab%1', 'lab.cjs');
  const record = path.join(home, 'proxy-argv.json');
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  fs.writeFileSync(bin, `require('fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify([process.env.LAB_HOME, ...process.argv.slice(2)]));\n`);
  const text = renderSshConfig(LAB, ['client', 'server'], (node) => proxyCommandLine(LAB, node, bin));
  t.deepEqual(
    text.split('\n').filter((l) => l.startsWith('Host ')),
    ['Host client client.ssh-pair-unit.lab', 'Host server server.ssh-pair-unit.lab'],
  );
  const file = path.join(home, 'ssh_config');
  fs.writeFileSync(file, text);
  for (const name of ['server', 'server.ssh-pair-unit.lab']) {
    const parsed = execFileSync('ssh', ['-G', '-F', file, name], { encoding: 'utf8' });
    const option = (key: string) =>
      parsed
        .split('\n')
        .find((l) => l.startsWith(`${key} `))
        ?.slice(key.length + 1);
    t.is(option('user'), 'root');
    t.is(option('identityfile'), sshFiles(LAB).key);
    t.is(option('userknownhostsfile'), sshFiles(LAB).knownHosts);
    t.is(option('hostkeyalias'), hostKeyAlias(LAB, 'server'));
    t.is(option('stricthostkeychecking'), 'true');
  }
  // ssh runs the ProxyCommand through the shell; the stand-in exits at once, so ssh fails, having run it.
  try {
    execFileSync('ssh', ['-F', file, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', 'client', 'true'], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    // expected: no sshd behind the stand-in
  }
  t.deepEqual(JSON.parse(fs.readFileSync(record, 'utf8')), [home, 'ssh', '--proxy', LAB, 'client']);
});

test('a port lock is taken once; a lock left by a process that is gone is taken over', (t) => {
  const dir = fs.mkdtempSync(path.join(home, 'locks-'));
  const lock = path.join(dir, 'n.ssh0.lock');
  t.true(claimLock(lock));
  t.false(claimLock(lock), 'held by this live process');
  const gone = spawn('true');
  return new Promise<void>((resolve) => {
    gone.once('exit', () => {
      fs.writeFileSync(lock, JSON.stringify({ pid: gone.pid, start: '1' }));
      t.true(claimLock(lock), 'its holder exited');
      t.is(JSON.parse(fs.readFileSync(lock, 'utf8')).pid, process.pid);
      resolve();
    });
  });
});
