/**
 * docker-1090 for real on network namespaces: the verdicts must follow from the evidence, the
 * workarounds must show no reset, and the machine must be left exactly as it was.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { envFor, lab, tempHome } from '../helpers/cli.js';
import { namespacesWithPrefix, processesMatching, rootSnapshot } from '../helpers/host.js';

const home = tempHome();
const env = envFor(home);

interface VariantJson {
  name: string;
  verdict: string;
  reason: string;
  evidence: {
    server: { established: boolean; forged: unknown; rstsAfterForge: number } | null;
    client: { outcome: string } | null;
    rstAtServer: { fromAgent: number | null; fromPcap: number };
    conntrack: { invalidDelta: number | null };
    kernel: string;
    pcaps: Array<{ file: string; captured: number | null }>;
  };
}

test.serial('lab run docker-1090 --json: verdicts follow from the evidence and the host is untouched', async (t) => {
  const before = await rootSnapshot();
  const result = await lab(['run', 'docker-1090', '--json'], env);
  t.log(result.stderr.split('\n').slice(-5).join('\n'));
  const json = JSON.parse(result.stdout) as { lab: string; provider: string; kernel: string; resultsDir: string; variants: VariantJson[] };
  t.is(json.lab, 'docker-1090');
  t.is(json.provider, 'netns');
  t.is(json.kernel, fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
  t.deepEqual(json.variants.map((v) => v.name), ['baseline', 'drop-invalid', 'be-liberal', 'no-nat']);
  t.is(result.code, json.variants.some((v) => v.verdict === 'INCONCLUSIVE') ? 1 : 0);

  for (const v of json.variants) {
    t.log(`${v.name}: ${v.verdict}: ${v.reason}`);
    const e = v.evidence;
    t.truthy(e.server?.established, `${v.name}: connection established`);
    t.truthy(e.server?.forged, `${v.name}: segment forged`);
    const resets = (e.rstAtServer.fromAgent ?? 0) + e.rstAtServer.fromPcap;
    if (v.verdict === 'REPRODUCED') t.true(e.rstAtServer.fromAgent! > 0 && e.rstAtServer.fromPcap > 0, `${v.name}: REPRODUCED needs a RST in the agent log and the capture`);
    if (v.verdict === 'NOT_REPRODUCED') t.is(resets, 0, `${v.name}: NOT_REPRODUCED needs no RST at all`);
    for (const p of e.pcaps) t.true(fs.existsSync(path.join(json.resultsDir, p.file)), `${p.file} exists`);
    t.true(fs.existsSync(path.join(json.resultsDir, v.name, 'agents', 'server.jsonl')));
  }
  for (const name of ['drop-invalid', 'be-liberal', 'no-nat']) {
    const v = json.variants.find((x) => x.name === name)!;
    t.is(v.verdict, 'NOT_REPRODUCED', `${name} shows no reset: ${v.reason}`);
    t.is(v.evidence.rstAtServer.fromPcap, 0);
  }
  t.true(fs.existsSync(path.join(json.resultsDir, 'verdict.json')));
  t.regex(fs.readFileSync(path.join(json.resultsDir, 'report.md'), 'utf8'), /## Variant `baseline`/);

  t.deepEqual(await namespacesWithPrefix('lab.docker-1090.'), []);
  t.deepEqual(await processesMatching(`${home}/home/work`), []);
  t.false(fs.existsSync(path.join(home, 'home', 'state', 'docker-1090.json')));
  t.is(await rootSnapshot(), before, 'root namespace addresses, routes and rules unchanged');
});

test.serial('lab up twice says the lab is already up; lab exec reaches a node; lab down removes it', async (t) => {
  const before = await rootSnapshot();
  try {
    const up = await lab(['up', 'docker-1090'], env);
    t.is(up.code, 0, up.stderr);
    t.regex(up.stdout, /lab docker-1090 is up/);
    const again = await lab(['up', 'docker-1090'], env);
    t.is(again.code, 1);
    t.regex(again.stderr, /already up/);
    const status = await lab(['status'], env);
    t.regex(status.stdout, /docker-1090\s+up\s+netns/);
    const exec = await lab(['exec', 'docker-1090', 'app', '--', 'ip', '-4', '-o', 'addr', 'show', 'eth0'], env);
    t.regex(exec.stdout, /172\.17\.0\.2\/16/);
    const route = await lab(['exec', 'docker-1090', 'server', '--', 'ip', 'route', 'get', '10.10.1.2'], env);
    t.regex(route.stdout, /via 10\.10\.2\.1/, 'server reaches the client host through the router');
  } finally {
    const down = await lab(['down', 'docker-1090'], env);
    t.is(down.code, 0, down.stderr);
  }
  t.deepEqual(await namespacesWithPrefix('lab.docker-1090.'), []);
  t.is(await rootSnapshot(), before);
});
