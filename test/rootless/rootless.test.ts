/**
 * The netns provider as an unprivileged user (CI creates the user labtest in .ci/run): the same
 * verdicts as with root, nothing left behind, and no change to the machine.
 */
import test from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { envFor, lab, labBin, root, tempHome } from '../helpers/cli.js';
import { processesMatching, rootSnapshot } from '../helpers/host.js';

const USER = 'labtest';

function userExists(): boolean {
  return fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .some((l) => l.startsWith(`${USER}:`));
}

/** The package as the user can read it: the checkout itself, or a copy when the checkout sits in a folder only root may enter. */
let packageForUser: string | undefined;
function userPackage(): string {
  if (packageForUser) return packageForUser;
  const readable = (() => {
    try {
      execFileSync('runuser', ['-u', USER, '--', 'test', '-r', labBin]);
      return true;
    } catch {
      return false;
    }
  })();
  if (readable) return (packageForUser = root);
  const copy = tempHome('lab-package-');
  for (const part of ['bin', 'dist', 'agents', 'labs', 'templates', 'schema', 'node_modules', 'package.json'])
    fs.cpSync(path.join(root, part), path.join(copy, part), { recursive: true });
  execFileSync('chmod', ['-R', 'a+rX', copy]);
  return (packageForUser = copy);
}

function asUser(args: string[], dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const pkg = userPackage();
  return new Promise((resolve) => {
    execFile(
      'runuser',
      ['-u', USER, '--', 'env', `LAB_HOME=${dir}/home`, `LAB_RESULTS=${dir}/results`, process.execPath, path.join(pkg, 'bin', 'lab.cjs'), ...args],
      { cwd: pkg, maxBuffer: 32 * 1024 * 1024, timeout: 300_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

const available = userExists();
if (!available && process.env.CI) throw new Error(`CI must create the user ${USER} (see .ci/run) for the rootless test`);
const maybe = available ? test.serial : test.serial.skip;
if (!available) console.log(`rootless tests skipped: no user ${USER} on this machine (useradd -m ${USER} to run them)`);

function userDir(): string {
  const dir = tempHome('lab-rootless-');
  fs.chmodSync(dir, 0o777);
  return dir;
}

maybe('moby-15127 as an unprivileged user: same verdicts as with root, nothing left behind', async (t) => {
  const before = await rootSnapshot();
  const variants = ['--variant', 'recvfrom-any', '--variant', 'pktinfo', '--variant', 'tcp'];
  const asRoot = JSON.parse((await lab(['run', 'moby-15127', ...variants, '--json'], envFor(tempHome()))).stdout) as {
    variants: Array<{ name: string; verdict: string }>;
  };
  const dir = userDir();
  const result = await asUser(['run', 'moby-15127', ...variants, '--json'], dir);
  t.is(result.code, 0, result.stderr.slice(-2000));
  const rootless = JSON.parse(result.stdout) as { variants: Array<{ name: string; verdict: string; reason: string }> };
  for (const v of rootless.variants) t.log(`rootless ${v.name}: ${v.verdict}: ${v.reason}`);
  t.deepEqual(
    rootless.variants.map((v) => [v.name, v.verdict]),
    asRoot.variants.map((v) => [v.name, v.verdict]),
  );
  t.deepEqual(await processesMatching(`${dir}/home`), [], 'no agent or capture of the user is left');
  t.deepEqual(await processesMatching('sleep 2147483647'), [], 'the namespace holder is gone');
  t.is(await rootSnapshot(), before, 'the machine is untouched');
});

maybe('docker-1090 rootless: up, status, exec, run, down', async (t) => {
  const dir = userDir();
  const up = await asUser(['up', 'docker-1090'], dir);
  t.is(up.code, 0, up.stderr.slice(-2000));
  try {
    t.regex((await asUser(['status'], dir)).stdout, /rootless, in the user namespace of process \d+/);
    t.regex((await asUser(['exec', 'docker-1090', 'app', '--', 'ip', '-4', '-o', 'addr', 'show', 'eth0'], dir)).stdout, /172\.17\.0\.2\/16/);
    const run = await asUser(['run', 'docker-1090', '--variant', 'baseline', '--variant', 'be-liberal', '--json'], dir);
    const json = JSON.parse(run.stdout) as { variants: Array<{ name: string; verdict: string; reason: string }> };
    for (const v of json.variants) t.log(`rootless ${v.name}: ${v.verdict}: ${v.reason}`);
    t.is(json.variants.find((v) => v.name === 'be-liberal')!.verdict, 'NOT_REPRODUCED');
    t.not(json.variants.find((v) => v.name === 'baseline')!.verdict, 'INCONCLUSIVE');
  } finally {
    const down = await asUser(['down', 'docker-1090'], dir);
    t.is(down.code, 0, down.stderr);
  }
  t.deepEqual(await processesMatching('sleep 2147483647'), []);
  t.regex((await asUser(['status'], dir)).stdout, /no lab is up/);
});
