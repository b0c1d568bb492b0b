/**
 * docker-1090 for real on network namespaces: every variant the lab file declares (whatever they are) gives the
 * verdict its expectation names for this kernel, decided by what the client saw, and the machine is left exactly as it was.
 */
import fs from 'node:fs';
import path from 'node:path';
import { envFor, lab, tempHome } from '../helpers/cli.js';
import { assertGone, cannotRunHere, runPinned, testUnless } from '../helpers/e2e.js';
import { namespacesWithPrefix, processesMatching, rootSnapshot } from '../helpers/host.js';
import type { OowEvidence } from '../../src/run/scenarios/oow-rst-judge.js';

const home = tempHome();
const env = envFor(home);

testUnless(cannotRunHere(), 'lab run docker-1090 --check: every variant as expected on this kernel, the host untouched', async (t) => {
  const before = await rootSnapshot();
  const { json } = await runPinned(t, 'docker-1090', 'e2e', env);
  t.is(json.provider, 'netns');
  for (const v of json.variants) {
    // Outcome first: REPRODUCED only when the application itself failed, NOT_REPRODUCED only when it got every echo.
    const e = v.evidence as unknown as OowEvidence;
    const outcome = e.client.ok ? e.client.value.outcome : null;
    if (v.verdict === 'REPRODUCED') t.true(outcome === 'reset' || outcome === 'timeout', `${v.name}: REPRODUCED with a client outcome "${outcome}"`);
    if (v.verdict === 'NOT_REPRODUCED') t.is(outcome, 'intact', `${v.name}: NOT_REPRODUCED with a client outcome "${outcome}"`);
    const forged = e.server.ok ? e.server.value.forged : null;
    if (forged?.when === 'idle') t.true(forged.ackCurrent, `${v.name}: the idle forge carried the client's current ack`);
    t.true(fs.existsSync(path.join(json.resultsDir, v.name, 'agents', 'server.jsonl')), `${v.name}: the server agent's log is kept`);
    t.regex(fs.readFileSync(path.join(json.resultsDir, 'report.md'), 'utf8'), new RegExp(`## Variant \`${v.name}\``));
  }
  await assertGone(t, 'docker-1090', 'e2e');
  t.deepEqual(await processesMatching(`${home}/home/work`), []);
  t.false(fs.existsSync(path.join(home, 'home', 'state', 'docker-1090+e2e.json')));
  t.is(await rootSnapshot(), before, 'root namespace addresses, routes and rules unchanged');
});

testUnless(cannotRunHere(), 'lab up twice says the lab is already up; lab exec reaches a node; lab down removes it', async (t) => {
  const before = await rootSnapshot();
  const at = ['--instance', 'e2e-up'];
  t.teardown(async () => {
    await lab(['down', 'docker-1090', ...at], env);
  });
  const up = await lab(['up', 'docker-1090', ...at], env);
  t.is(up.code, 0, up.stderr);
  t.regex(up.stdout, /lab docker-1090\+e2e-up is up/);
  const again = await lab(['up', 'docker-1090', ...at], env);
  t.is(again.code, 1);
  t.regex(again.stderr, /already up/);
  const status = await lab(['status'], env);
  t.is(status.code, 0, status.stderr);
  t.regex(status.stdout, /docker-1090\+e2e-up\s+up\s+netns/);
  const exec = await lab(['exec', 'docker-1090', ...at, 'app', '--', 'ip', '-4', '-o', 'addr', 'show', 'eth0'], env);
  t.is(exec.code, 0, exec.stderr);
  t.regex(exec.stdout, /172\.17\.0\.2\/16/);
  const route = await lab(['exec', 'docker-1090', ...at, 'server', '--', 'ip', 'route', 'get', '10.10.1.2'], env);
  t.regex(route.stdout, /via 10\.10\.2\.1/, 'server reaches the client host through the router');
  const down = await lab(['down', 'docker-1090', ...at], env);
  t.is(down.code, 0, down.stderr);
  t.deepEqual(await namespacesWithPrefix('lab.docker-1090+e2e-up.'), []);
  t.is(await rootSnapshot(), before);
});
