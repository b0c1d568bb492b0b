/**
 * The engine of a docker-host node that neither `--docker` nor the lab file (`docker.engine`) names.
 *
 * LAB_DOCKER sets it for a machine or a CI job: an engine name (`26.1`, `emulated`, ...), or `auto` for the newest
 * Debian engine already cached, where a real engine can run (root, this machine's kernel), else the imitation, said
 * once on stderr with the reason. Unset, the imitation stays the default: measured on the bench (bench/engines.ts),
 * a real engine's `lab up docker-1090` is still several times the imitation's, and every lab's copy per variant
 * starts a daemon of its own (about 100 MB each); README, "Docker engines", has the figures.
 */
import fs from 'node:fs';
import { ENGINES, parseEngineName, engineLabel } from './catalogue.js';
import { cachedEngine } from './cache.js';

export const DEFAULT_ENGINE = 'emulated';

export interface DefaultChoice {
  engine: string;
  /** Why, when `auto` fell back to the imitation. */
  fallback?: string;
}

let told = false;

/** What `auto` picks for a lab: newest cached engine, unless the lab cannot run one here. */
export function autoEngine(conditions: { rootless: boolean; kernel?: string }): DefaultChoice {
  if (conditions.rootless) return { engine: 'emulated', fallback: 'a real Docker engine needs root' };
  if (conditions.kernel) return { engine: 'emulated', fallback: `a real Docker engine runs on this machine's kernel only, not --kernel ${conditions.kernel}` };
  if (!['/usr/bin/busybox', '/bin/busybox'].some((f) => fs.existsSync(f)))
    return { engine: 'emulated', fallback: 'busybox (the image of a real engine) is not installed' };
  const cached = [...ENGINES].reverse().find((e) => cachedEngine(e.series));
  if (!cached) return { engine: 'emulated', fallback: `no Docker engine is cached (lab engines --fetch ${ENGINES.at(-1)!.series})` };
  return { engine: cached.series };
}

export function defaultEngine(conditions: { rootless: boolean; kernel?: string }, env: NodeJS.ProcessEnv = process.env): string {
  const wanted = env.LAB_DOCKER?.trim();
  if (!wanted) return DEFAULT_ENGINE;
  if (wanted !== 'auto') return engineLabel(parseEngineName(wanted));
  const choice = autoEngine(conditions);
  if (choice.fallback && !told) {
    told = true;
    process.stderr.write(`LAB_DOCKER=auto: docker hosts run the imitation (engine: emulated): ${choice.fallback}\n`);
  }
  return choice.engine;
}
