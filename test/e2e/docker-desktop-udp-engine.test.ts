/**
 * docker-desktop-udp on a real Docker engine, and the report's hypothesis on a plain Docker host.
 * - The docker-desktop-wsl2 profile with Debian's dockerd 26.1 in the VM, userland proxy on as Docker Desktop runs it: the
 *   verdict is the lab file's (INCONCLUSIVE, emulation-gap: Docker Desktop's own forwarder is closed source and not run),
 *   and the VM side's binding is the real engine's docker-proxy.
 * - test/fixtures/userland-proxy-udp: the same sequence where every datagram goes through the engine's own docker-proxy
 *   (the server sends to 127.0.0.1 on the Docker host): NOT_REPRODUCED, with the app's counts, the bridge capture and the
 *   bindings as positive evidence.
 */
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { cachedEngine } from '../../src/engines/cache.js';
import { envFor, lab, root, tempHome } from '../helpers/cli.js';
import { cannotRunHere, testUnless, type RunJson } from '../helpers/e2e.js';
import { namespacesWithPrefix, processesMatching, rootSnapshot } from '../helpers/host.js';

const ENGINE = '26.1';
const reason =
  cannotRunHere({ dockerProxy: true }) ??
  (cachedEngine(ENGINE) ? undefined : `Docker ${ENGINE} is not cached (node bin/lab.cjs engines --fetch ${ENGINE}; scripts/setup.sh does it)`);
const FIXTURE = path.join(root, 'test', 'fixtures', 'userland-proxy-udp', 'lab.yaml');

interface Phase {
  label: string;
  udpSent: number | null;
  udpReceived: number | null;
  binding: Record<string, { pre: boolean; during: boolean; post: boolean }>;
  captured: { onBridge: number; onSwitch: number | null };
}

async function runOnEngine(t: ExecutionContext, labArg: string, labName: string, instance: string) {
  // A short home: containerd's debug socket under the lab's work folder must stay within a unix socket path's 104 bytes.
  const env = envFor(tempHome('l'));
  t.teardown(async () => {
    await lab(['down', labArg, '--instance', instance], env);
  });
  const result = await lab(['run', labArg, '--docker', ENGINE, '--instance', instance, '--json', '--check'], env);
  t.log(result.stderr.split('\n').slice(-4).join('\n'));
  let json: RunJson & { engine?: string };
  try {
    json = JSON.parse(result.stdout) as RunJson & { engine?: string };
  } catch {
    t.fail(`lab run printed no JSON (exit ${result.code}): ${result.stderr.slice(-2000)}`);
    throw new Error('no JSON');
  }
  t.regex(json.engine ?? '', /Docker 26\.1\.\d+\S* \(real dockerd/, 'the result names the real engine');
  const [v] = json.variants;
  t.log(`${v!.name}: ${v!.verdict}: ${v!.reason}`);
  t.is(v!.matchesExpected, true, `${v!.verdict} is not what the lab file expects on Docker ${ENGINE}`);
  t.is(result.code, 0, 'lab run --check exit code');
  const phases = (v!.evidence as unknown as { phases: Phase[] }).phases;
  t.deepEqual(
    phases.map((p) => p.label),
    ['PROPER_1', 'PROPER_2', 'BUGGY_1', 'BUGGY_2'],
  );
  for (const p of phases) {
    t.true((p.udpSent ?? 0) > 0, `${p.label}: the server sent UDP`);
    t.true((p.udpReceived ?? 0) > 0, `${p.label}: the app received UDP`);
    t.true(p.captured.onBridge >= (p.udpReceived ?? 0), `${p.label}: the bridge capture holds every datagram the app received`);
  }
  return { v: v!, phases, env, labName, instance };
}

async function assertNothingLeft(t: ExecutionContext, labName: string, instance: string, before: string): Promise<void> {
  t.deepEqual(await namespacesWithPrefix(`lab.${labName}+${instance}.`), [], 'no namespace left');
  t.deepEqual(
    (await processesMatching(`${labName}\\+${instance}`)).filter((l) => !l.includes('<defunct>')),
    [],
    'no dockerd, containerd or shim of the lab left',
  );
  t.deepEqual(
    (await processesMatching('docker-proxy.*-host-port 54603')).filter((l) => !l.includes('<defunct>')),
    [],
    'no docker-proxy left',
  );
  t.is(await rootSnapshot(), before, 'the root namespace is unchanged');
}

testUnless(reason, `lab run docker-desktop-udp --docker ${ENGINE} --check: the profile on a real engine says what it cannot run`, async (t) => {
  const before = await rootSnapshot();
  const { v, phases } = await runOnEngine(t, 'docker-desktop-udp', 'docker-desktop-udp', 'e2');
  t.is(v.verdict, 'INCONCLUSIVE');
  t.regex(
    v.reason,
    /Docker Desktop's closed-source Windows-side one, not run here \(docker\/for-win#14823, dockur\/windows#1245\); its open-source stand-ins kept delivering/,
  );
  for (const p of phases) t.true(p.binding['desktop-vm']!.pre && p.binding['desktop-vm']!.post, `${p.label}: the real engine's docker-proxy kept its binding`);
  await assertNothingLeft(t, 'docker-desktop-udp', 'e2', before);
});

testUnless(reason, `userland-proxy-udp --docker ${ENGINE} --check: through the engine's own docker-proxy the hypothesis is refuted`, async (t) => {
  const before = await rootSnapshot();
  const { v, phases } = await runOnEngine(t, FIXTURE, 'userland-proxy-udp', 'e2');
  t.is(v.verdict, 'NOT_REPRODUCED');
  const buggy2 = phases[3]!;
  t.true(buggy2.binding['dhost']!.post, 'docker-proxy still holds the published UDP port after BUGGY_2');
  await assertNothingLeft(t, 'userland-proxy-udp', 'e2', before);
});
