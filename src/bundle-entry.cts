/**
 * How bin/lab.cjs starts the CLI (CommonJS, as bin/lab.cjs is: see there). scripts/bundle.ts makes
 * dist/bundle/cli.cjs (the whole CLI in one CommonJS file) and V8's compiled code for it; running that skips what
 * dominated a short command's start on Node 20, which has no compile cache for ES modules: finding, reading, parsing
 * and linking about 150 module files, then compiling each function on its first call. When dist/src is newer than the
 * bundle (tsc alone, an editor's watch), the modules run instead: slower to start, never stale. V8 refuses compiled
 * code made by another Node, and the source is then compiled as usual.
 */
import fs from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';

export const BUNDLE_DIR = path.join('dist', 'bundle');
export const BUNDLE_FILE = path.join(BUNDLE_DIR, 'cli.cjs');
export const BUNDLE_CODE_CACHE = path.join(BUNDLE_DIR, 'cli.cjs.v8');
export const BUNDLE_INPUTS = path.join(BUNDLE_DIR, 'inputs.json');
/** Set by scripts/bundle.ts only: at exit, write V8's code for every function this run compiled or was given here. */
export const CODE_CACHE_OUT_ENV = 'LAB_BUILD_CODE_CACHE_OUT';

/** The bundle as a script V8 compiles, with compiled code if given; the build and the start must wrap it alike. */
export function bundleScript(file: string, cachedData?: Buffer): vm.Script {
  // No import() inside: a script has no module loader of its own, so packages outside the bundle are required.
  return new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData });
}

/** True when the bundle under `root` exists and no module it was made from changed since. */
export function bundleIsFresh(root: string): boolean {
  try {
    const made = fs.statSync(path.join(root, BUNDLE_FILE)).mtimeMs;
    const inputs = JSON.parse(fs.readFileSync(path.join(root, BUNDLE_INPUTS), 'utf8')) as string[];
    return inputs.length > 0 && inputs.every((file) => fs.statSync(path.join(root, file)).mtimeMs <= made);
  } catch {
    return false;
  }
}

/** Runs the CLI of the package at `root`. */
export async function startCli(root: string): Promise<void> {
  if (!bundleIsFresh(root)) {
    await import(pathToFileURL(path.join(root, 'dist', 'src', 'cli.js')).href);
    return;
  }
  const file = path.join(root, BUNDLE_FILE);
  const cache = path.join(root, BUNDLE_CODE_CACHE);
  const cachedData = fs.existsSync(cache) ? fs.readFileSync(cache) : undefined;
  const module = { exports: {} };
  const script = bundleScript(file, cachedData);
  const cacheOut = process.env[CODE_CACHE_OUT_ENV];
  if (cacheOut) process.on('exit', () => fs.writeFileSync(cacheOut, script.createCachedData()));
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
}
