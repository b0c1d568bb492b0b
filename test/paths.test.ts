import test from 'ava';
import path from 'node:path';
import { cacheHome, labHome, packageRoot } from '../src/paths.js';

function withEnv<T>(env: Record<string, string | undefined>, f: () => T): T {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  try {
    return f();
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}

test('state never goes into the package: /var/lib/lab as root, the XDG state folder otherwise', (t) => {
  const home = withEnv({ LAB_HOME: undefined, XDG_STATE_HOME: '/tmp/xdg-state' }, labHome);
  t.false(home.startsWith(packageRoot));
  t.is(home, process.getuid?.() === 0 ? '/var/lib/lab' : path.join('/tmp/xdg-state', 'lab'));
  t.is(withEnv({ LAB_HOME: '/tmp/own-home' }, labHome), '/tmp/own-home');
});

test('downloads go to the XDG cache folder, or LAB_CACHE', (t) => {
  t.is(withEnv({ LAB_CACHE: undefined, XDG_CACHE_HOME: '/tmp/xdg-cache' }, cacheHome), '/tmp/xdg-cache/lab');
  t.is(withEnv({ LAB_CACHE: '/tmp/own-cache' }, cacheHome), '/tmp/own-cache');
});
