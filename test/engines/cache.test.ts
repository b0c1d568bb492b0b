/** Where engines are cached and when one counts as cached: its record and the programs it names must both be there. */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cachedEngine, engineCacheDir } from '../../src/engines/cache.js';

function withEnv(t: { teardown: (fn: () => void) => void }, vars: Record<string, string | undefined>) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  t.teardown(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}

test.serial('LAB_ENGINE_CACHE, else XDG_CACHE_HOME/lab/engines, else ~/.cache/lab/engines', (t) => {
  withEnv(t, { LAB_ENGINE_CACHE: '/tmp/x-engines', XDG_CACHE_HOME: '/tmp/xdg' });
  t.is(engineCacheDir(), '/tmp/x-engines');
  delete process.env.LAB_ENGINE_CACHE;
  t.is(engineCacheDir(), '/tmp/xdg/lab/engines');
  delete process.env.XDG_CACHE_HOME;
  t.is(engineCacheDir(), path.join(os.homedir(), '.cache', 'lab', 'engines'));
});

test.serial('an engine is cached only when its record and its dockerd, docker and docker-proxy are there', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-engines-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  withEnv(t, { LAB_ENGINE_CACHE: dir });
  t.is(cachedEngine('26.1'), undefined);
  const root = path.join(dir, '26.1', 'root');
  const info = {
    series: '26.1',
    version: '26.1.5+dfsg1-9',
    packages: [],
    root,
    dockerd: path.join(root, 'usr/sbin/dockerd'),
    docker: path.join(root, 'usr/bin/docker'),
    dockerProxy: path.join(root, 'usr/sbin/docker-proxy'),
    path: '/x',
  };
  fs.mkdirSync(path.join(dir, '26.1'), { recursive: true });
  fs.writeFileSync(path.join(dir, '26.1', 'engine.json'), JSON.stringify(info));
  t.is(cachedEngine('26.1'), undefined, 'a record without its programs (an interrupted fetch) is not an engine');
  for (const f of [info.dockerd, info.docker, info.dockerProxy]) {
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, '');
  }
  t.deepEqual(cachedEngine('26.1'), info);
});
