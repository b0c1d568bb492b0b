/**
 * The engine of a docker-host node that neither `--docker` nor the lab file (`docker.engine`) names.
 *
 * A real engine where one can run: the newest Debian engine already in the cache (scripts/setup.sh fetches 20.10 and
 * 26.1), as root, on this machine's kernel (in a --kernel guest only when named). Otherwise the imitation (`emulated`), and the reason is said once on stderr
 * (again only when the reason changes). Measured on the bench (bench/engines.ts, same paired run, warm cache, load 6
 * to 7 on 2 cores): `lab up docker-1090` 1285 ms on 20.10 and 1247 ms on 26.1 against 402 and 349 ms for the imitation.
 *
 * LAB_DOCKER overrides the default for a machine or a job: an engine name (`26.1`, `emulated`, ...) or `auto` (the
 * choice above). The test suite pins `emulated` (package.json, ava's environmentVariables): tests about a real engine
 * name it with --docker.
 */
import fs from 'node:fs';
import path from 'node:path';
import { labHome } from '../paths.js';
import { ENGINES, parseEngineName, engineLabel } from './engine-names.js';
import { cachedEngine } from './cache.js';

export const DEFAULT_ENGINE = 'auto';

export interface DefaultChoice {
  engine: string;
  /** Why `auto` fell back to the imitation. */
  fallback?: string;
}

/** What `auto` picks for a lab: the newest cached engine, unless the lab cannot run one here. */
export function autoEngine(conditions: { rootless: boolean; kernel?: string }): DefaultChoice {
  if (conditions.rootless) return { engine: 'emulated', fallback: 'a real Docker engine needs root' };
  // A real engine runs in a --kernel guest too (src/providers/netns/kernel.ts), but starts in about a minute under QEMU's emulation: named, not defaulted.
  if (conditions.kernel)
    return { engine: 'emulated', fallback: `a real Docker engine in the --kernel ${conditions.kernel} guest starts in about a minute under emulation` };
  if (!['/usr/bin/busybox', '/bin/busybox'].some((f) => fs.existsSync(f)))
    return { engine: 'emulated', fallback: 'busybox (the image of a real engine) is not installed (apt-get install busybox-static)' };
  const cached = [...ENGINES].reverse().find((e) => cachedEngine(e.series));
  if (!cached) return { engine: 'emulated', fallback: `no Docker engine is cached (lab engines --fetch ${ENGINES.at(-1)!.series})` };
  return { engine: cached.series };
}

export function defaultEngine(conditions: { rootless: boolean; kernel?: string }, env: NodeJS.ProcessEnv = process.env): string {
  const wanted = env.LAB_DOCKER?.trim() || DEFAULT_ENGINE;
  if (wanted !== 'auto') return engineLabel(parseEngineName(wanted));
  const choice = autoEngine(conditions);
  if (choice.fallback)
    sayOnce(`docker hosts run the imitation (engine: emulated), not a real Docker engine: ${choice.fallback}; --docker or LAB_DOCKER names one`);
  return choice.engine;
}

let saidHere = false;

/** Once per process, and once per machine for the same words (remembered in the lab home). */
function sayOnce(text: string): void {
  if (saidHere) return;
  saidHere = true;
  const file = path.join(labHome(), 'default-engine-said.txt');
  try {
    if (fs.readFileSync(file, 'utf8') === text) return;
  } catch {
    // never said
  }
  process.stderr.write(`note: ${text}\n`);
  try {
    fs.mkdirSync(labHome(), { recursive: true });
    fs.writeFileSync(file, text);
  } catch {
    // a read-only home: said again next time
  }
}
