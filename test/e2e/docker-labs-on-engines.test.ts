/**
 * Every Docker-facing lab (one with a docker host) on both real engines, Debian's 20.10 and 26.1, with `--check`: each
 * variant must give the verdict its lab file expects for that engine, the run must name the engine it ran, and nothing
 * of the lab may be left after it. The rest of the suite pins the imitation (LAB_DOCKER=emulated in package.json).
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { cachedEngine } from '../../src/engines/cache.js';
import { labNames } from '../../src/paths.js';
import { envFor, lab, root, tempHome } from '../helpers/cli.js';
import { namespacesWithPrefix } from '../helpers/host.js';
import { cannotRunHere, testUnless } from '../helpers/e2e.js';

const ENGINES = ['20.10', '26.1'];
const home = tempHome('lab-engines-');
const env = envFor(home);

const dockerLabs = labNames().filter((name) => /profile:\s*docker-(host|desktop)/.test(fs.readFileSync(path.join(root, 'labs', name, 'lab.yaml'), 'utf8')));

for (const engine of ENGINES) {
  const reason = cannotRunHere({ dockerProxy: true }) ?? (cachedEngine(engine) ? undefined : `Docker ${engine} is not cached (scripts/setup.sh fetches it)`);
  for (const name of dockerLabs) {
    const instance = `eng${engine.replace('.', '')}`;
    testUnless(reason, `${name} on Docker ${engine}: every verdict as its lab file expects for that engine (--check)`, async (t) => {
      t.timeout(600_000);
      const run = await lab(['run', name, '--docker', engine, '--instance', instance, '--check', '--json'], env, 600_000);
      let json: { engine?: string; variants: Array<{ name: string; verdict: string; check?: string; reason: string }> };
      try {
        json = JSON.parse(run.stdout) as typeof json;
      } catch {
        return t.fail(`lab run printed no JSON (exit ${run.code}): ${run.stderr.slice(-2000)}`);
      }
      for (const v of json.variants) t.log(`${v.name}: ${v.verdict} (${v.check ?? '?'})`);
      t.regex(json.engine ?? '', new RegExp(`Docker ${engine.replace('.', '\\.')}`), 'the run names the engine it ran');
      t.is(run.code, 0, `--check: ${json.variants.map((v) => `${v.name} ${v.verdict} ${v.check ?? '?'}`).join('; ')}\n${run.stderr.slice(-1500)}`);
      t.deepEqual(await namespacesWithPrefix(`lab.${name}+${instance}`), [], 'nothing of the lab is left');
    });
  }
}

test.after.always(() => fs.rmSync(home, { recursive: true, force: true }));
