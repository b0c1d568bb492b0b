/**
 * The ssh provider on hosts that already exist: here the nodes of a netns lab, each running a real
 * sshd, reached through socat. docker-1090 run over ssh must give the verdicts the netns provider
 * gives; a bad inventory is reported in full before anything changes.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { envFor, lab, labCopy, tempHome } from '../helpers/cli.js';
import { processesMatching } from '../helpers/host.js';
import { makeSshd, sshdIn, waitForPort, type Sshd } from '../helpers/sshd.js';

const home = tempHome();
const env = envFor(home);
const nodes = ['client', 'router', 'server', 'app'];
let keys: Sshd;
const servers: ChildProcess[] = [];

function inventory(file: string, overrides: (node: string) => Record<string, unknown> = () => ({})): string {
  const hosts = Object.fromEntries(
    nodes.map((n) => [
      n,
      {
        address: '127.0.0.1',
        user: 'root',
        key: path.join(keys.dir, 'client_key'),
        hostKey: keys.hostFingerprint,
        proxyCommand: ['ip', 'netns', 'exec', `lab.docker-1090+sshhosts.${n}`, 'socat', 'STDIO', 'TCP:127.0.0.1:22'],
        ...overrides(n),
      },
    ]),
  );
  fs.writeFileSync(file, JSON.stringify({ hosts }, null, 2));
  return file;
}

test.before(async () => {
  keys = makeSshd(`sshkeys-${process.pid}`);
  const up = await lab(['up', 'docker-1090', '--instance', 'sshhosts'], env);
  if (up.code !== 0) throw new Error(up.stderr);
  for (const n of nodes) servers.push(sshdIn(`lab.docker-1090+sshhosts.${n}`, keys));
  for (const n of nodes) await waitForPort(`lab.docker-1090+sshhosts.${n}`);
});

test.after.always(async () => {
  for (const s of servers) s.kill('SIGKILL');
  await lab(['down', 'docker-1090', '--instance', 'sshrun', '--provider', 'ssh'], env);
  await lab(['down', 'docker-1090', '--instance', 'sshlogin'], env);
  await lab(['down', path.join(home, 'labs', 'sshplain-1090', 'lab.yaml')], env);
  await lab(['down', 'docker-1090', '--instance', 'sshhosts'], env);
  keys?.stop();
});

test.serial('a bad inventory: every problem reported at once, nothing changed', async (t) => {
  const file = inventory(path.join(home, 'bad.yaml'), (n) =>
    n === 'router'
      ? { hostKey: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }
      : n === 'app'
        ? { proxyCommand: ['ip', 'netns', 'exec', 'lab.docker-1090+sshhosts.server', 'socat', 'STDIO', 'TCP:127.0.0.1:22'] }
        : {},
  );
  const r = await lab(['up', 'docker-1090', '--instance', 'sshbad', '--provider', 'ssh', '--inventory', file], env);
  t.is(r.code, 1);
  t.regex(r.stderr, /cannot be brought up with the ssh provider here/);
  t.regex(r.stderr, /router: host key of router \(127\.0\.0\.1\) does not match/);
  t.regex(r.stderr, /app: expected address 172\.17\.0\.2\/16 \(the lab's eth0\), not configured on the host/);
  t.false(fs.existsSync(path.join(home, 'home', 'state', 'docker-1090+sshbad.json')));
});

test.serial('docker-1090 over ssh on existing hosts: the same verdicts as on netns', async (t) => {
  const file = inventory(path.join(home, 'hosts.yaml'));
  const r = await lab(
    ['run', 'docker-1090', '--instance', 'sshrun', '--provider', 'ssh', '--inventory', file, '--variant', 'baseline', '--variant', 'be-liberal', '--json'],
    env,
  );
  t.is(r.code, 0, r.stderr.slice(-3000));
  const json = JSON.parse(r.stdout) as {
    provider: string;
    resultsDir: string;
    variants: Array<{ name: string; verdict: string; reason: string; evidence: { pcaps: Array<{ file: string }> } }>;
  };
  t.is(json.provider, 'ssh');
  for (const v of json.variants) t.log(`over ssh ${v.name}: ${v.verdict}: ${v.reason}`);
  const netns = JSON.parse(
    (await lab(['run', 'docker-1090', '--instance', 'sshhosts', '--variant', 'baseline', '--variant', 'be-liberal', '--json'], env)).stdout,
  ) as { variants: Array<{ name: string; verdict: string }> };
  t.deepEqual(
    json.variants.map((v) => [v.name, v.verdict]),
    netns.variants.map((v) => [v.name, v.verdict]),
  );
  for (const v of json.variants) for (const p of v.evidence.pcaps) t.true(fs.existsSync(path.join(json.resultsDir, p.file)), `${p.file} fetched over SFTP`);
  t.true(fs.existsSync(path.join(json.resultsDir, 'verdict.json')));
  t.false(fs.existsSync('/tmp/lab-docker-1090+sshrun'), "the run's down removed the hosts' work folders");
});

test.serial(
  "lab down over ssh kills the lab's processes on the hosts and removes its folders, from the state alone (a lab id without an instance)",
  async (t) => {
    const file = labCopy('docker-1090', 'sshplain-1090', home);
    const up = await lab(['up', file, '--provider', 'ssh', '--inventory', inventory(path.join(home, 'plain.yaml'))], env);
    t.is(up.code, 0, up.stderr.slice(-3000));
    const folder = '/tmp/lab-sshplain-1090/client';
    // Something long-running started from the lab's folder on a host, as an agent or a capture is.
    const started = await lab(['exec', file, 'client', '--', 'sh', '-c', `cp /bin/sleep ${folder}/sleeper && (${folder}/sleeper 600 >/dev/null 2>&1 &)`], env);
    t.is(started.code, 0, started.stderr);
    t.is((await processesMatching(`${folder}/sleeper`)).length, 1);
    // The file changes after up: a variant now sets a sysctl the ssh provider refuses. Down reads the state, not the file.
    const later = '  later:\n    description: Added after lab up.\n    changes:\n      - node: client\n        sysctl: { key: kernel.pid_max, value: 65536 }\n';
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/^variants:\n/m, `variants:\n${later}`));
    t.regex((await lab(['validate', file, '--provider', 'ssh'], env)).stderr, /kernel\.pid_max/, 'the ssh provider would refuse the file now');
    const down = await lab(['down', file], env);
    t.is(down.code, 0, down.stderr);
    t.deepEqual(await processesMatching(`${folder}/sleeper`), []);
    t.false(fs.existsSync('/tmp/lab-sshplain-1090'));
  },
);

test.serial("lab ssh on the ssh provider: the inventory's user on the host's sshd, the command's output and exit status", async (t) => {
  const up = await lab(['up', 'docker-1090', '--instance', 'sshlogin', '--provider', 'ssh', '--inventory', inventory(path.join(home, 'login.yaml'))], env);
  t.is(up.code, 0, up.stderr.slice(-3000));
  const login = (node: string, ...cmd: string[]) => lab(['ssh', 'docker-1090', '--instance', 'sshlogin', node, '--', ...cmd], env);
  // The host reached is the node: its sshd runs in the node's namespace, where the lab's address is.
  const who = await login('client', 'echo "$(id -un) $(ip -4 -o addr | grep -o 10.10.1.2/24)"');
  t.is(who.code, 0, who.stderr);
  t.is(who.stdout, 'root 10.10.1.2/24\n');
  // One command line, split by the remote shell as OpenSSH does; stdout, stderr and the status come back apart.
  const status = await login('server', 'sh', '-c', "'echo out; echo err >&2; exit 3'");
  t.is(status.code, 3, status.stderr);
  t.is(status.stdout, 'out\n');
  t.regex(status.stderr, /^err$/m);
  t.is((await login('router', 'exit 0')).code, 0);
  const unknown = await login('nosuch', 'true');
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /no node "nosuch" in lab docker-1090/);
  const down = await lab(['down', 'docker-1090', '--instance', 'sshlogin'], env);
  t.is(down.code, 0, down.stderr);
});
