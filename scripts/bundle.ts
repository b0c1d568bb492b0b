/**
 * Makes the CLI that bin/lab.js starts (see src/bundle-entry.ts): dist/src as tsc wrote it, bundled by esbuild into
 * one CommonJS file, and V8's code for every function in it. The packages left outside are loaded only by the commands
 * that need them (yargs for help and unusual lines, handlebars for templates, execa for `lab exec` and ssh pipes) or
 * carry native code (ssh2).
 */
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { build } from 'esbuild';
import { packageRoot } from '../src/paths.js';
import { BUNDLE_CODE_CACHE, BUNDLE_DIR, BUNDLE_FILE, BUNDLE_INPUTS, bundleScript } from '../src/bundle-entry.js';

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
// A script has no import() (src/bundle-entry.ts): one left in would fail only when that line runs, so the build fails now.
const dynamicImport = /(?<![\w$.])import\(/.exec(fs.readFileSync(file, 'utf8'));
if (dynamicImport) throw new Error(`${BUNDLE_FILE} has an import() at offset ${dynamicImport.index}: load that module statically or with createRequire`);
const inputs = Object.keys(result.metafile.inputs).filter((input) => input.startsWith('dist/'));
fs.writeFileSync(path.join(packageRoot, BUNDLE_INPUTS), `${JSON.stringify(inputs)}\n`);

// Compiled eagerly, the code covers every command, not only the functions one run happened to call. V8 checks its
// flags when it reads the code back, so laziness is switched back on before the code is written.
v8.setFlagsFromString('--no-lazy');
const script = bundleScript(file);
v8.setFlagsFromString('--lazy');
fs.writeFileSync(path.join(packageRoot, BUNDLE_CODE_CACHE), script.createCachedData());
