/**
 * Makes the CLI that bin/lab.cjs starts (see src/bundle-entry.cts): dist/src as tsc wrote it, bundled by esbuild into
 * one CommonJS file, and V8's code for the functions the commonest short commands call. The packages left outside are
 * loaded only by the commands that need them (yargs for help and unusual lines, handlebars for templates, execa for
 * `lab exec` and ssh pipes) or carry native code (ssh2).
 */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { labNames, packageRoot } from '../src/paths.js';
import { BUNDLE_CODE_CACHE, BUNDLE_DIR, BUNDLE_FILE, BUNDLE_INPUTS, CODE_CACHE_OUT_ENV } from '../src/bundle-entry.cjs';

const outside = ['yargs', 'handlebars', 'execa', 'ssh2'];
const file = path.join(packageRoot, BUNDLE_FILE);

fs.rmSync(path.join(packageRoot, BUNDLE_DIR), { recursive: true, force: true });
const result = await build({
  absWorkingDir: packageRoot,
  entryPoints: [path.join('dist', 'src', 'cli.js')],
  outfile: file,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // Smaller to read at every start; identifiers stay, so a stack trace still names its functions.
  minifyWhitespace: true,
  minifySyntax: true,
  external: outside.flatMap((name) => [name, `${name}/*`]),
  // A CommonJS file has no import.meta: the bundle's own URL stands in (paths.ts finds the package root from it).
  define: { 'import.meta.url': '__labBundleUrl' },
  banner: { js: "var __labBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  metafile: true,
  logLevel: 'warning',
});
// A script has no import() (src/bundle-entry.cts): one left in would fail only when that line runs, so the build fails now.
const dynamicImport = /(?<![\w$.])import\(/.exec(fs.readFileSync(file, 'utf8'));
if (dynamicImport) throw new Error(`${BUNDLE_FILE} has an import() at offset ${dynamicImport.index}: load that module statically or with createRequire`);
const inputs = Object.keys(result.metafile.inputs).filter((input) => input.startsWith('dist/'));
fs.writeFileSync(path.join(packageRoot, BUNDLE_INPUTS), `${JSON.stringify(inputs)}\n`);

// V8's code is written by the CLI itself after commands a user starts most and wants at once (src/bundle-entry.cts), each
// run given the code of the runs before: the functions those commands call, and no more. Compiling every function
// eagerly instead made a cache three times the size, and reading it back cost a short command more than it saved.
const codeCache = path.join(packageRoot, BUNDLE_CODE_CACHE);
const trainingHome = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-build-'));
const labs = labNames();
const commands = [['list'], ['status'], ...labs.map((name) => ['validate', name]), ['show', labs[0]!]];
try {
  for (const args of commands) {
    const ran = spawnSync(process.execPath, [path.join(packageRoot, 'bin', 'lab.cjs'), ...args], {
      cwd: packageRoot,
      env: { ...process.env, LAB_HOME: trainingHome, [CODE_CACHE_OUT_ENV]: codeCache },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (ran.status !== 0) throw new Error(`lab ${args.join(' ')} failed while the code cache was made: ${ran.stderr.toString().trim()}`);
  }
} finally {
  fs.rmSync(trainingHome, { recursive: true, force: true });
}
