/**
 * hairpin-published-port for real: each variant sets the docker host's userland proxy and bridge filtering, so each runs
 * on a copy of the lab built with them. Every verdict pinned to the lab file; the failure backed by the client's own
 * failed connection and the un-NATed answer on its interface; every copy gone afterwards.
 */
import fs from 'node:fs';
import path from 'node:path';
import { cannotRunHere, runPinned, testUnless } from '../helpers/e2e.js';
import { envFor, lab, tempHome } from '../helpers/cli.js';
import { namespacesWithPrefix, rootSnapshot } from '../helpers/host.js';

const LAB = 'hairpin-published-port';
const INSTANCE = 'ovr-e2e';

interface ClientSummary {
  connected: boolean;
  sent: number;
  received: number;
  errors: string[];
}

function clientSummary(resultsDir: string, variant: string): ClientSummary {
  const lines = fs
    .readFileSync(path.join(resultsDir, variant, 'agents', 'client.jsonl'), 'utf8')
    .trim()
    .split('\n');
  const summary = lines.map((l) => JSON.parse(l) as { event: string } & ClientSummary).find((e) => e.event === 'summary');
  if (!summary) throw new Error(`${variant}: the client wrote no summary`);
  return summary;
}

testUnless(cannotRunHere({ dockerProxy: true }), `lab run ${LAB} --check: each variant on a lab built with its settings`, async (t) => {
  const before = await rootSnapshot();
  const { json } = await runPinned(t, LAB, INSTANCE);
  const overrides = (name: string) => (json.variants.find((v) => v.name === name) as unknown as { overrides?: string[] }).overrides;
  t.deepEqual(overrides('proxy-off-filter-off'), ['node dhost: docker.userlandProxy = false', 'node dhost: docker.bridgeNetfilter = false']);
  t.deepEqual(overrides('proxy-on-filter-on'), ['node dhost: docker.userlandProxy = true', 'node dhost: docker.bridgeNetfilter = true']);
  for (const v of json.variants) {
    const client = clientSummary(json.resultsDir, v.name);
    if (v.verdict === 'REPRODUCED') {
      t.false(client.connected, `${v.name}: the client's connection failed`);
      t.is(client.received, 0);
      t.true(client.errors.length > 0, `${v.name}: the client saw the error`);
    } else {
      t.true(client.connected, `${v.name}: connected`);
      t.true(client.sent > 0 && client.received === client.sent, `${v.name}: every echo came back`);
    }
  }
  t.regex(fs.readFileSync(path.join(json.resultsDir, 'report.md'), 'utf8'), /Settings this variant overrode[^]*`node dhost: docker\.userlandProxy = false`/);
  t.deepEqual(await namespacesWithPrefix(`lab.${LAB}+${INSTANCE}`), [], 'no namespace of the lab or of a copy left');
  t.is(await rootSnapshot(), before);
});

testUnless(cannotRunHere({ dockerProxy: true }), `lab run ${LAB} --serial: the variants with settings of their own still get their own labs`, async (t) => {
  const env = envFor(tempHome());
  t.teardown(async () => void (await lab(['down', LAB, '--instance', INSTANCE], env)));
  const args = ['run', LAB, '--instance', INSTANCE, '--serial', '--json', '--variant', 'proxy-off-filter-off', '--variant', 'proxy-off-filter-on'];
  const result = await lab(args, env);
  t.is(result.code, 0, result.stderr.slice(-2000));
  const json = JSON.parse(result.stdout) as { variants: Array<{ name: string; verdict: string }> };
  t.deepEqual(
    json.variants.map((v) => [v.name, v.verdict]),
    [
      ['proxy-off-filter-off', 'REPRODUCED'],
      ['proxy-off-filter-on', 'NOT_REPRODUCED'],
    ],
  );
  t.deepEqual(await namespacesWithPrefix(`lab.${LAB}+${INSTANCE}`), []);
});
