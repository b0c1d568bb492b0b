/**
 * `lab ssh` on the qemu provider for real: test/fixtures/ssh (two guests of 6.1) brought up with --ssh, a command run
 * through lab ssh (its output and exit status), the same through the system's OpenSSH with `lab ssh --config`, a wrong
 * pinned key refused by both, and `lab down` leaving no QEMU, no keys and the root namespace unchanged. Skipped with the
 * reason without root, QEMU or the kernel; under CI=true that is a failure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { envFor, lab, root, sh, tempHome, type CliResult } from '../../helpers/cli.js';
import { processesMatching, rootSnapshot } from '../../helpers/host.js';
import { testUnless } from '../../helpers/e2e.js';

const home = tempHome('lab-qemu-ssh-');
const env = envFor(home);
const FIXTURE = path.join(root, 'test', 'fixtures', 'ssh', 'lab.yaml');
const ID = 'ssh-pair+tssh';
const at = ['--instance', 'tssh'];

async function missing(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'the qemu provider needs root';
  for (const tool of ['qemu-system-x86_64', 'busybox', 'ssh', 'sshd']) {
    if (!(await sh('sh', ['-c', `PATH=$PATH:/usr/sbin command -v ${tool} || true`])).trim()) return `${tool} is not installed`;
  }
  const fetched = await lab(['kernels', '--fetch', '6.1'], env, 900_000);
  if (fetched.code !== 0) return `kernel 6.1 could not be fetched: ${fetched.stderr.trim().split('\n').slice(-3).join(' / ')}`;
  return undefined;
}

const reason = await missing();

const labSsh = (node: string, line: string) => lab(['ssh', FIXTURE, ...at, node, '--', line], env, 120_000);

function openssh(config: string, host: string, line: string, options: string[] = [], input?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const args = ['-F', config, '-o', 'BatchMode=yes', ...options, host, ...(line ? [line] : [])];
    const child = execFile('ssh', args, { env, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
    child.stdin!.end(input);
  });
}

testUnless(reason, 'lab ssh on qemu guests: lab ssh and ssh -F reach each guest, a wrong host key is refused, down leaves nothing', async (t) => {
  t.timeout(600_000, 'two guests under software emulation');
  const before = await rootSnapshot();
  const guests = path.join(env.LAB_HOME!, 'work', ID, 'guests');
  const keys = path.join(env.LAB_HOME!, 'ssh', ID);
  t.teardown(() => lab(['down', FIXTURE, ...at], env));

  const up = await lab(['up', FIXTURE, '--provider', 'qemu', '--ssh', ...at], env, 300_000);
  t.is(up.code, 0, up.stderr.slice(-2000));

  // The same kernel lab exec sees, from the guest's own sshd; the remote status comes back as lab ssh's.
  const release = await labSsh('client', 'uname -r');
  t.is(release.code, 0, release.stderr);
  const viaExec = await lab(['exec', FIXTURE, ...at, 'client', '--', 'uname', '-r'], env, 120_000);
  t.is(release.stdout.trim(), viaExec.stdout.trim());
  t.regex(release.stdout, /^6\.1\./);
  t.is((await labSsh('server', 'exit 7')).code, 7);
  // Each login lands in its own guest: the node's address is on its eth0, one command line with a pipe.
  t.regex((await labSsh('server', 'ip -4 -o addr show eth0 | cut -d" " -f7')).stdout, /^10\.20\.1\.2\/24$/m);
  // Each guest is named after its node; a session prints nothing of its own (root's dotfiles here are not the guest's).
  t.deepEqual(await labSsh('client', 'hostname'), { code: 0, stdout: 'client\n', stderr: '' });
  t.deepEqual(await labSsh('server', 'true'), { code: 0, stdout: '', stderr: '' });

  const config = path.join(home, 'lab.ssh_config');
  const printed = await lab(['ssh', FIXTURE, ...at, '--config'], env);
  t.is(printed.code, 0, printed.stderr);
  fs.writeFileSync(config, printed.stdout);
  const viaOpenssh = await openssh(config, 'client.ssh-pair-tssh.lab', 'hostname -I');
  t.is(viaOpenssh.code, 0, viaOpenssh.stderr);
  t.regex(viaOpenssh.stdout, /\b10\.20\.1\.1\b/);
  // A login with a terminal is an interactive shell whose prompt names the node.
  const login = await openssh(config, 'server', '', ['-tt'], 'echo "[$HOME]"; exit 5\n');
  t.is(login.code, 5, login.stderr);
  t.regex(login.stdout, /root@server:/);
  t.regex(login.stdout, /\[\/run\/lab-ssh\/home\]/);

  // Another guest's key pinned for client: OpenSSH (known_hosts) and lab ssh (the state) both refuse.
  const knownHosts = path.join(keys, 'known_hosts');
  const pinned = fs.readFileSync(knownHosts, 'utf8');
  const serverKey = pinned
    .split('\n')
    .find((l) => l.startsWith('server.'))!
    .split(' ')
    .slice(1)
    .join(' ');
  fs.writeFileSync(knownHosts, pinned.replace(/^client\.(\S+) .*$/m, `client.$1 ${serverKey}`));
  const refusedOpenssh = await openssh(config, 'client', 'true');
  t.is(refusedOpenssh.code, 255);
  t.regex(refusedOpenssh.stderr, /HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  fs.writeFileSync(knownHosts, pinned);

  const stateFile = path.join(env.LAB_HOME!, 'state', `${ID}.json`);
  const state = fs.readFileSync(stateFile, 'utf8');
  const parsed = JSON.parse(state) as { resources: { sshHostKeys: Record<string, string> } };
  parsed.resources.sshHostKeys.client = parsed.resources.sshHostKeys.server!;
  fs.writeFileSync(stateFile, JSON.stringify(parsed));
  const refused = await labSsh('client', 'true');
  t.not(refused.code, 0);
  t.regex(refused.stderr, /host key of client .* does not match/);
  fs.writeFileSync(stateFile, state);
  t.is((await labSsh('client', 'true')).code, 0, 'the right key is accepted again');

  const down = await lab(['down', FIXTURE, ...at], env, 120_000);
  t.is(down.code, 0, down.stderr);
  t.deepEqual(await processesMatching(`qemu-system.*${guests.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`), []);
  t.false(fs.existsSync(keys), 'the lab key and known_hosts are gone');
  t.is(await rootSnapshot(), before);
});
