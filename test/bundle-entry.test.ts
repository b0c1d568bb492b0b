/** bin/lab.cjs runs the bundle the build made, with V8's code for it, and never a bundle older than its modules. */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUNDLE_CODE_CACHE, BUNDLE_FILE, BUNDLE_INPUTS, bundleIsFresh, bundleScript } from '../src/bundle-entry.cjs';
import { packageRoot } from '../src/paths.js';

test('the build leaves a fresh bundle whose compiled code this Node accepts', (t) => {
  t.true(bundleIsFresh(packageRoot));
  const inputs = JSON.parse(fs.readFileSync(path.join(packageRoot, BUNDLE_INPUTS), 'utf8')) as string[];
  t.true(inputs.includes('dist/src/cli.js'));
  t.true(inputs.includes('dist/src/lab/validate.js'));
  const script = bundleScript(path.join(packageRoot, BUNDLE_FILE), fs.readFileSync(path.join(packageRoot, BUNDLE_CODE_CACHE)));
  t.false(script.cachedDataRejected);
});

test('a module newer than the bundle, or one gone, makes the modules run instead', (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-bundle-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const module = path.join(root, 'dist', 'src', 'cli.js');
  fs.mkdirSync(path.dirname(module), { recursive: true });
  fs.mkdirSync(path.join(root, 'dist', 'bundle'), { recursive: true });
  fs.writeFileSync(module, '');
  fs.writeFileSync(path.join(root, BUNDLE_INPUTS), JSON.stringify(['dist/src/cli.js']));
  t.false(bundleIsFresh(root), 'no bundle yet');
  fs.writeFileSync(path.join(root, BUNDLE_FILE), '');
  const made = fs.statSync(path.join(root, BUNDLE_FILE)).mtime;
  fs.utimesSync(module, made, new Date(made.getTime() - 1000));
  t.true(bundleIsFresh(root));
  fs.utimesSync(module, made, new Date(made.getTime() + 1000));
  t.false(bundleIsFresh(root), 'tsc wrote a module after the bundle');
  fs.rmSync(module);
  t.false(bundleIsFresh(root), 'a module the bundle was made from is gone');
});
