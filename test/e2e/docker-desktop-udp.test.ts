/** docker-desktop-udp for real: the verdict pinned to the lab file's expectation; four phases with snapshots on both sides. */
import fs from 'node:fs';
import path from 'node:path';
import { envFor, lab, tempHome } from '../helpers/cli.js';
import { cannotRunHere, runPinned, assertGone, testUnless } from '../helpers/e2e.js';
import { namespacesWithPrefix, processesMatching, rootSnapshot } from '../helpers/host.js';

interface Phase {
  label: string;
  udpSent: number | null;
  udpReceived: number | null;
  binding: Record<string, { pre: boolean; during: boolean; post: boolean }>;
  captured: { onBridge: number; onSwitch: number | null };
  snapshots: string[];
}

const title = 'lab run docker-desktop-udp --check: verdict as expected, PROPER_1..BUGGY_2 snapshotted on both sides';
testUnless(cannotRunHere({ dockerProxy: true }), title, async (t) => {
  const before = await rootSnapshot();
  const { json } = await runPinned(t, 'docker-desktop-udp', 'e2e');
  const [v] = json.variants;
  const phases = (v!.evidence as unknown as { phases: Phase[] }).phases;
  t.deepEqual(
    phases.map((p) => p.label),
    ['PROPER_1', 'PROPER_2', 'BUGGY_1', 'BUGGY_2'],
  );
  for (const p of phases) {
    t.deepEqual(Object.keys(p.binding).sort(), ['desktop', 'desktop-vm'], 'host side and VM side are both snapshotted');
    t.true(p.binding['desktop']!.pre, `${p.label}: the forwarder's UDP binding exists before the phase`);
    for (const s of p.snapshots) t.true(fs.existsSync(path.join(json.resultsDir, 'sequence', s)), s);
    t.true((p.udpSent ?? 0) > 0, `${p.label}: the server sent UDP`);
    t.true(p.captured.onBridge >= (p.udpReceived ?? 0), `${p.label}: the bridge capture holds every datagram the app received`);
  }
  const proper = phases.filter((p) => p.label.startsWith('PROPER'));
  t.true(
    proper.every((p) => (p.udpReceived ?? 0) > 0),
    'PROPER phases receive through the forwarder, the VM and the DNAT',
  );
  if (v!.verdict === 'REPRODUCED') t.is(phases[3]!.udpReceived, 0);
  const saved = JSON.parse(fs.readFileSync(path.join(json.resultsDir, 'sequence', 'evidence.json'), 'utf8')) as { inconclusive?: string };
  if (v!.verdict === 'INCONCLUSIVE') {
    t.regex(
      v!.reason,
      /forwarder is Docker Desktop's closed-source Windows-side one, not run here .*; its open-source stand-ins kept delivering/,
      'the reason says what was and was not emulated',
    );
    t.is(saved.inconclusive, 'emulation-gap');
  }
  if (v!.verdict === 'NOT_REPRODUCED') t.true(phases.some((p) => Object.values(p.binding).every((b) => b.post)) || (phases[3]!.udpReceived ?? 0) > 0);
  await assertGone(t, 'docker-desktop-udp', 'e2e');
  t.deepEqual(
    (await processesMatching('docker-proxy.*-host-port 54603')).filter((l) => !l.includes('<defunct>')),
    [],
  );
  t.is(await rootSnapshot(), before);
});

testUnless(cannotRunHere(), 'without docker-proxy the lab says how to get it, and creates nothing', async (t) => {
  const home = tempHome();
  const env = { ...envFor(home), LAB_DOCKER_PROXY: path.join(home, 'missing-docker-proxy') };
  t.teardown(async () => {
    await lab(['down', 'docker-desktop-udp', '--instance', 'e2e-noproxy'], env);
  });
  const result = await lab(['up', 'docker-desktop-udp', '--instance', 'e2e-noproxy'], env);
  t.is(result.code, 1);
  t.regex(result.stderr, /docker-proxy was not found/);
  t.regex(result.stderr, /scripts\/fetch-docker-proxy\.sh/);
  t.deepEqual(await namespacesWithPrefix('lab.docker-desktop-udp+e2e-noproxy.'), []);
});
