/**
 * Layers point one way: a module imports only from its own layer or the ones below it, statically or with import().
 * And each outside package that is a seam stays in its one module (execa, ssh2) or in the UI (listr2).
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { root } from './helpers/cli.js';

/** Lowest first. A path matches the first entry that is it or a folder holding it. */
const LAYERS: Array<{ layer: number; paths: string[] }> = [
  { layer: 0, paths: ['src/errors.ts', 'src/paths.ts'] },
  { layer: 1, paths: ['src/lab'] },
  { layer: 2, paths: ['src/transport'] },
  // Other kernels: fetching them and the QEMU guest with its exec channel, below the providers that run labs in it.
  { layer: 3, paths: ['src/kernels'] },
  // Docker engines: fetched from Debian's archive like kernels (src/debian/apt.ts), and their daemons run in a node's namespace.
  { layer: 3, paths: ['src/debian', 'src/engines'] },
  // ui/steps.ts is the shape of a step of work, with no code: providers and runs produce steps, the UI draws them.
  { layer: 3, paths: ['src/state.ts', 'src/lock.ts', 'src/ui/steps.ts'] },
  { layer: 4, paths: ['src/providers'] },
  { layer: 5, paths: ['src/run'] },
  { layer: 6, paths: ['src/report'] },
  { layer: 7, paths: ['src/ui', 'src/lifecycle.ts', 'src/checked-lab.ts', 'src/exercises'] },
  { layer: 8, paths: ['src/commands'] },
  // bundle-entry.cts starts the CLI (bin/lab.cjs): the bundle of it, or its modules.
  { layer: 9, paths: ['src/cli.ts', 'src/quick-args.ts', 'src/bundle-entry.cts'] },
];

const PACKAGES: Record<string, string[]> = {
  execa: ['src/transport/process.ts'],
  ssh2: ['src/transport/ssh.ts'],
  listr2: ['src/ui', 'src/commands'],
};

function within(file: string, place: string): boolean {
  return file === place || file.startsWith(`${place}/`);
}

function layerOf(file: string): number | undefined {
  return LAYERS.find((l) => l.paths.some((p) => within(file, p)))?.layer;
}

/** Every module a source imports: `from '...'` (imports and re-exports) and `import('...')`. */
function importsOf(source: string): string[] {
  return [...source.matchAll(/\bfrom\s+'([^']+)'|\bimport\s*\(\s*'([^']+)'\s*\)|^\s*import\s+'([^']+)'/gm)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

/** What breaks the rules, one line each; `file` is relative to the repository, like the sources' keys. */
function violations(sources: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [file, source] of Object.entries(sources)) {
    const layer = layerOf(file);
    if (layer === undefined) {
      found.push(`${file}: in no layer (add it to LAYERS in test/layers.test.ts)`);
      continue;
    }
    for (const spec of importsOf(source)) {
      if (spec.startsWith('.')) {
        const target = path.posix
          .normalize(path.posix.join(path.posix.dirname(file), spec))
          .replace(/\.js$/, '.ts')
          .replace(/\.cjs$/, '.cts');
        const to = layerOf(target);
        if (to !== undefined && to > layer) found.push(`${file} imports ${target}: layer ${layer} must not import from layer ${to}`);
      } else {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        const allowed = PACKAGES[name];
        if (allowed && !allowed.some((p) => within(file, p))) found.push(`${file} imports ${name}, which only ${allowed.join(', ')} may`);
      }
    }
  }
  return found;
}

function sources(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) Object.assign(out, sources(rel));
    else if (/\.c?ts$/.test(entry.name)) out[rel] = fs.readFileSync(path.join(root, rel), 'utf8');
  }
  return out;
}

test('no module of src/ imports from a layer above its own, and execa, ssh2, listr2 stay in their seams', (t) => {
  const all = sources('src');
  t.true(Object.keys(all).length > 50, 'the sources were found');
  t.deepEqual(violations(all), []);
});

test('the check finds an upward import, static or dynamic, a re-export and a package out of its seam', (t) => {
  const found = violations({
    'src/lab/load.ts': "import { getScenario } from '../run/scenarios/registry.js';",
    'src/run/run-lab.ts': "const { runTasks } = await import('../ui/progress.js');\nimport type { Step } from '../ui/steps.js';",
    'src/state.ts': "export type { Provider } from './providers/types.js';",
    'src/transport/netns.ts': "import { execa } from 'execa';",
    'src/providers/x.ts': "import type { ListrTask } from 'listr2';\nimport { LabError } from '../errors.js';",
    'src/elsewhere.ts': '',
  });
  t.deepEqual(found, [
    'src/lab/load.ts imports src/run/scenarios/registry.ts: layer 1 must not import from layer 5',
    'src/run/run-lab.ts imports src/ui/progress.ts: layer 5 must not import from layer 7',
    'src/state.ts imports src/providers/types.ts: layer 3 must not import from layer 4',
    'src/transport/netns.ts imports execa, which only src/transport/process.ts may',
    'src/providers/x.ts imports listr2, which only src/ui, src/commands may',
    'src/elsewhere.ts: in no layer (add it to LAYERS in test/layers.test.ts)',
  ]);
});
