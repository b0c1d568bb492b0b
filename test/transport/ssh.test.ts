/** The ssh2 transport against a real OpenSSH server: commands, streams, files, sudo, keys, timeouts, drops, retries. */
import test from 'ava';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SshTransport, shellQuote, type SshTarget } from '../../src/transport/ssh.js';
import { makeSshd, waitForPort, type Sshd } from '../helpers/sshd.js';
import { testUnless } from '../helpers/e2e.js';

let sshd: Sshd;
const open: SshTransport[] = [];

test.before(async () => {
  sshd = makeSshd(`ssh-${process.pid}`);
  sshd.start();
  await waitForPort(sshd.ns);
});

test.after.always(() => {
  for (const t of open) t.close();
  sshd?.stop();
});

function transport(overrides: Partial<SshTarget> = {}): SshTransport {
  const t = new SshTransport({
    node: 'server',
    host: '127.0.0.1',
    username: 'root',
    privateKey: sshd.clientKey,
    hostKey: sshd.hostFingerprint,
    workDir: path.join(sshd.dir, 'work'),
    proxyCommand: sshd.proxy,
    ...overrides,
  });
  open.push(t);
  return t;
}

test.serial('exec: output, exit code, stdin, arguments with spaces and quotes, one connection for many commands', async (t) => {
  const ssh = transport();
  const r = await ssh.exec(['sh', '-c', 'echo out; echo err >&2; exit 3'], { check: false });
  t.deepEqual([r.stdout, r.stderr, r.exitCode], ['out\n', 'err\n', 3]);
  t.is((await ssh.exec(['printf', '%s|', "it's", 'a b', '$HOME;id'])).stdout, "it's|a b|$HOME;id|", 'arguments are never interpreted by the remote shell');
  t.is((await ssh.exec(['cat'], { input: 'from stdin' })).stdout, 'from stdin');
  await t.throwsAsync(ssh.exec(['false']), { message: /command failed on server \(exit 1\): false/ });
  const pids = new Set<string>();
  for (let i = 0; i < 5; i++) pids.add((await ssh.exec(['sh', '-c', 'echo $PPID'])).stdout.trim());
  t.is(pids.size, 1, 'every command runs over the same ssh session process');
});

test.serial('start: streamed lines, and signals reach the remote process', async (t) => {
  const ssh = transport();
  const proc = ssh.start(['sh', '-c', 'trap "echo got-term; exit 0" TERM; echo ready; while true; do sleep 0.1; done']);
  const lines: string[] = [];
  proc.onLine((l) => lines.push(l));
  while (!lines.includes('ready')) await new Promise((r) => setTimeout(r, 50));
  proc.signal('SIGTERM');
  t.is(await proc.exited, 0);
  t.deepEqual(lines, ['ready', 'got-term']);
});

test.serial('put and get over SFTP', async (t) => {
  const ssh = transport();
  const local = path.join(sshd.dir, 'blob');
  const data = crypto.randomBytes(300_000);
  fs.writeFileSync(local, data);
  await ssh.put(local, path.join(sshd.dir, 'work', 'deep', 'blob'));
  t.is(
    (await ssh.exec(['sha256sum', path.join(sshd.dir, 'work', 'deep', 'blob')])).stdout.split(' ')[0],
    crypto.createHash('sha256').update(data).digest('hex'),
  );
  await ssh.get(path.join(sshd.dir, 'work', 'deep', 'blob'), `${local}.back`);
  t.true(fs.readFileSync(`${local}.back`).equals(data));
});

test.serial('a wrong host key is refused with a clear error, never retried', async (t) => {
  const ssh = transport({ hostKey: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', retryForMs: 30_000 });
  const started = Date.now();
  const error = await t.throwsAsync(ssh.exec(['true']));
  t.regex(error!.message, /host key of server \(127\.0\.0\.1\) does not match/);
  t.true(Date.now() - started < 10_000, 'no retries on a key mismatch');
});

test.serial('a command that exceeds its timeout is stopped and reported', async (t) => {
  const ssh = transport();
  await t.throwsAsync(ssh.exec(['sleep', '10'], { timeoutMs: 500 }), { message: /timed out after 500 ms: sleep 10/ });
  t.is((await ssh.exec(['echo', 'still usable'])).stdout, 'still usable\n');
});

test.serial('a connection dropped in the middle of a command fails it, and the next command reconnects', async (t) => {
  const ssh = transport();
  await ssh.exec(['true']);
  const running = ssh.exec(['sleep', '5']);
  await new Promise((r) => setTimeout(r, 500));
  sshd.killSessions();
  await t.throwsAsync(running, { message: /lost|cannot reach|closed/i });
  t.is((await ssh.exec(['echo', 'back'])).stdout, 'back\n');
});

test.serial('retries with backoff until a booting host answers', async (t) => {
  const late = makeSshd(`sshlate-${process.pid}`);
  try {
    const ssh = new SshTransport({
      node: 'late',
      host: '127.0.0.1',
      username: 'root',
      privateKey: late.clientKey,
      hostKey: late.hostFingerprint,
      workDir: '/tmp',
      proxyCommand: late.proxy,
      retryForMs: 20_000,
      connectTimeoutMs: 3000,
    });
    open.push(ssh);
    setTimeout(() => late.start(), 1500);
    t.is((await ssh.exec(['echo', 'booted'])).stdout, 'booted\n');
    ssh.close();
  } finally {
    late.stop();
  }
});

const hasLabtest = fs.readFileSync('/etc/passwd', 'utf8').includes('\nlabtest:') && fs.existsSync('/etc/sudoers.d/lab-labtest');

testUnless(hasLabtest ? undefined : 'no user labtest with passwordless sudo here (CI creates it, see .ci/run)', 'sudo for a non-root login', async (t) => {
  const plain = transport({ username: 'labtest' });
  t.not((await plain.exec(['id', '-u'])).stdout.trim(), '0');
  const sudo = transport({ username: 'labtest', sudo: true });
  t.is((await sudo.exec(['id', '-u'])).stdout.trim(), '0');
  t.is((await sudo.exec(['sh', '-c', 'echo "$1"', 'sh', "a 'quoted' arg"])).stdout, "a 'quoted' arg\n");
});

test('shellQuote leaves plain words alone and quotes everything else', (t) => {
  t.is(shellQuote('ip'), 'ip');
  t.is(shellQuote('a b'), "'a b'");
  t.is(shellQuote("it's"), "'it'\\''s'");
});
