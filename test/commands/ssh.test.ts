/** `lab ssh`'s command line: what it asks for, and the clear errors for what does not go together. */
import test from 'ava';
import { sshRequestOf, type SshArgs } from '../../src/commands/ssh.js';
import { sshOptionNote } from '../../src/commands/shared.js';
import { providers } from '../../src/providers/registry.js';
import { envFor, lab, tempHome } from '../helpers/cli.js';

const args = (a: Partial<SshArgs>): SshArgs => ({ lab: 'docker-1090', ...a });

test('a node alone is a login shell; words after it are one command line, as OpenSSH sends it', (t) => {
  t.deepEqual(sshRequestOf(args({ node: 'router' })), { mode: 'login', node: 'router' });
  t.deepEqual(sshRequestOf(args({ node: 'router', cmd: ['conntrack', '-L'] })), { mode: 'login', node: 'router', commandLine: 'conntrack -L' });
  t.deepEqual(sshRequestOf(args({ node: 'router', '--': ['sh', '-c', 'ip r | head -1'] })), {
    mode: 'login',
    node: 'router',
    commandLine: 'sh -c ip r | head -1',
  });
});

test('--config takes an optional node and no command; --proxy takes a lab id and a node', (t) => {
  t.deepEqual(sshRequestOf(args({ config: true })), { mode: 'config', node: undefined });
  t.deepEqual(sshRequestOf(args({ config: true, node: 'client' })), { mode: 'config', node: 'client' });
  t.deepEqual(sshRequestOf(args({ lab: 'docker-1090+x', proxy: true, node: 'client' })), { mode: 'proxy', labId: 'docker-1090+x', node: 'client' });
});

test('what does not go together is refused with a hint', (t) => {
  t.throws(() => sshRequestOf(args({})), { message: 'name a node to log in to' });
  t.throws(() => sshRequestOf(args({ config: true, proxy: true, node: 'a' })), { message: /--config and --proxy do not go together/ });
  t.throws(() => sshRequestOf(args({ config: true, node: 'a', cmd: ['ls'] })), { message: /--config takes no command/ });
  t.throws(() => sshRequestOf(args({ proxy: true, node: 'a', '--': ['ls'] })), { message: /--proxy takes no command/ });
  t.throws(() => sshRequestOf(args({ proxy: true })), { message: 'name a node to log in to' });
  t.throws(() => sshRequestOf(args({ proxy: true, node: 'a', instance: 'x' })), { message: /--proxy takes the lab's id/ });
});

test('the CLI: a lab that is not up, and a proxy to a lab id without a state, are clear errors, no stack trace', async (t) => {
  const env = envFor(tempHome());
  const down = await lab(['ssh', 'docker-1090', 'router', '--instance', 'tsshargs', '--', 'true'], env, 60_000);
  t.is(down.code, 1);
  t.regex(down.stderr, /lab docker-1090\+tsshargs is not up/);
  t.notRegex(down.stderr, /\n\s+at /);
  const proxy = await lab(['ssh', '--proxy', 'nothing+here', 'router'], env, 60_000);
  t.is(proxy.code, 1);
  t.regex(proxy.stderr, /lab nothing\+here is not up/);
  t.is(proxy.stdout, '', 'nothing on stdout, where OpenSSH expects the SSH protocol');
  const noNode = await lab(['ssh', 'docker-1090'], env, 60_000);
  t.not(noNode.code, 0);
  t.regex(noNode.stderr, /name a node to log in to/);
});

test("lab up --ssh: the qemu provider's; a no-op with a note where machines run sshd already; refused on netns", (t) => {
  t.is(sshOptionNote('qemu', true, 'docker-1090'), undefined);
  for (const provider of ['netns', 'vagrant', 'ssh', 'qemu']) t.is(sshOptionNote(provider, false), undefined, `${provider} without --ssh`);
  t.regex(sshOptionNote('vagrant', true, 'docker-1090')!, /^--ssh changes nothing with the vagrant provider: its machines run sshd already/);
  t.regex(sshOptionNote('ssh', true, 'docker-1090')!, /lab ssh docker-1090 NODE logs in$/);
  t.throws(() => sshOptionNote('netns', true, 'docker-1090'), {
    message: '--ssh starts an sshd in qemu guests (--provider qemu); netns nodes are namespaces of this machine, use lab exec docker-1090 NODE -- bash',
  });
});

test('a provider declares --ssh exactly when its sshd is opt-in', (t) => {
  for (const d of providers) t.is('ssh' in d.options, d.sshd === 'opt-in', d.name);
  t.true(providers.some((d) => d.sshd === 'opt-in'));
});

test('the CLI: lab up --ssh (and lab run --ssh) on netns is a one-line usage error (exit 2), before anything is built', async (t) => {
  const env = envFor(tempHome());
  for (const extra of [[], ['--dry-run'], ['--provider', 'netns']]) {
    const up = await lab(['up', 'docker-1090', '--instance', 'sx1', '--ssh', ...extra], env, 60_000);
    t.is(up.code, 2, up.stderr);
    t.is(up.stdout, '');
    t.is(
      up.stderr,
      'error: --ssh starts an sshd in qemu guests (--provider qemu); netns nodes are namespaces of this machine, use lab exec docker-1090 --instance sx1 NODE -- bash\n',
    );
  }
  const run = await lab(['run', 'docker-1090', '--instance', 'sx1', '--ssh'], env, 60_000);
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, /^error: --ssh starts an sshd in qemu guests/, 'lab run says the same');
  const status = await lab(['status'], env, 60_000);
  t.notRegex(status.stdout, /docker-1090\+sx1/, 'nothing was brought up');
});
