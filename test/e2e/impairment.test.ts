/** Link impairment: tbf for a rate limit everywhere; netem where the kernel has it, a clear refusal where not. */
import fs from 'node:fs';
import path from 'node:path';
import { envFor, lab, labCopy, sh, tempHome } from '../helpers/cli.js';
import { namespacesWithPrefix } from '../helpers/host.js';
import { cannotRunHere, testUnless } from '../helpers/e2e.js';

async function kernelHasNetem(): Promise<boolean> {
  try {
    await sh('unshare', ['--net', 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']);
    return true;
  } catch {
    return false;
  }
}

function impairedCopy(home: string, name: string, impairment: string): string {
  const file = labCopy('docker-1090', name, home);
  const text = fs
    .readFileSync(file, 'utf8')
    .replace(
      '    addresses: { router: 10.10.2.1, server: 10.10.2.2 }\n',
      `    addresses: { router: 10.10.2.1, server: 10.10.2.2 }\n    impairment:\n${impairment}`,
    );
  fs.writeFileSync(file, text);
  return file;
}

testUnless(cannotRunHere(), 'a rate limit is applied with tbf on the named direction only', async (t) => {
  const home = tempHome();
  const env = envFor(home);
  const file = impairedCopy(home, 'imp-rate', '      - { from: router, rate: 50mbit }\n');
  t.teardown(async () => {
    await lab(['down', 'imp-rate'], env);
  });
  const up = await lab(['up', file], env);
  t.is(up.code, 0, up.stderr);
  t.regex((await lab(['exec', file, 'router', '--', 'tc', 'qdisc', 'show', 'dev', 'eth1'], env)).stdout, /tbf .*rate 50Mbit/);
  t.notRegex((await lab(['exec', file, 'server', '--', 'tc', 'qdisc', 'show', 'dev', 'eth0'], env)).stdout, /tbf/);
  t.regex((await lab(['show', file], env)).stdout, /egress impaired: rate 50mbit \(tc tbf\)/);
  t.is((await lab(['down', 'imp-rate'], env)).code, 0);
  t.deepEqual(await namespacesWithPrefix('lab.imp-rate.'), []);
});

testUnless(cannotRunHere(), 'delay needs netem: applied where the kernel has it, refused with a clear message where not', async (t) => {
  const home = tempHome();
  const env = envFor(home);
  const file = impairedCopy(home, 'imp-delay', '      - { from: server, delay: 5ms, jitter: 1ms }\n');
  t.teardown(async () => {
    await lab(['down', 'imp-delay'], env);
  });
  const up = await lab(['up', file], env);
  if (await kernelHasNetem()) {
    t.is(up.code, 0, up.stderr);
    t.regex((await lab(['exec', file, 'server', '--', 'tc', 'qdisc', 'show', 'dev', 'eth0'], env)).stdout, /netem .*delay 5ms/);
  } else {
    t.is(up.code, 1);
    t.regex(up.stderr, /this kernel has no sch_netem/);
    t.regex(up.stderr, /links\[1\] from server/);
    t.notRegex(up.stderr, /\n\s+at /);
    t.deepEqual(await namespacesWithPrefix('lab.imp-delay.'), [], 'nothing was created');
    t.false(fs.existsSync(path.join(home, 'home', 'state', 'imp-delay.json')));
  }
});
