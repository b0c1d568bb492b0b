/**
 * The engine of a docker-host node that neither `--docker` nor the lab file (`docker.engine`) names.
 *
 * A real engine where one can run: the newest Debian engine already in the cache (scripts/setup.sh fetches 20.10 and
 * 26.1), as root, on this machine's kernel, and in a --kernel guest when the guest runs under KVM (the probe of
 * src/kernels/accel.ts says so, or LAB_ACCEL=kvm): there it starts in seconds, while under software emulation (TCG) it
 * takes about a minute, so a TCG guest keeps the imitation unless one is named. Otherwise the imitation (`emulated`),
 * and the reason is said once on stderr (again only when the reason changes). Measured on the bench (bench/engines.ts, same paired run, warm cache, load 6
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
import { knownAccel, type Accel } from '../kernels/accel.js';

export const DEFAULT_ENGINE = 'auto';

export interface DefaultChoice {
  engine: string;
  /** Why `auto` fell back to the imitation. */
  fallback?: string;
}

export interface LabConditions {
  rootless: boolean;
  /** The lab's --kernel: it runs in a QEMU guest of that kernel. */
  kernel?: string;
  /** What that guest runs under; undefined while no probe has said (src/kernels/accel.ts). */
  accel?: Accel;
}

/** What `auto` picks for a lab: the newest cached engine, unless the lab cannot run one here. */
export function autoEngine(conditions: LabConditions): DefaultChoice {
  if (conditions.rootless) return { engine: 'emulated', fallback: 'a real Docker engine needs root' };
  // A real engine runs in a --kernel guest too (src/providers/netns/kernel.ts): in seconds under KVM, in about a minute under TCG.
  if (conditions.kernel && conditions.accel !== 'kvm') {
    const guest = `a real Docker engine in the --kernel ${conditions.kernel} guest`;
    return {
      engine: 'emulated',
      fallback:
        conditions.accel === 'tcg'
          ? `${guest} would take about a minute to start: the guest runs under software emulation (TCG), as KVM does not work here`
          : `${guest} starts in seconds under KVM but in about a minute under software emulation (TCG), and whether KVM works here is not known until a guest has booted once (LAB_ACCEL=kvm says it does)`,
    };
  }
  if (!['/usr/bin/busybox', '/bin/busybox'].some((f) => fs.existsSync(f)))
    return { engine: 'emulated', fallback: 'busybox (the image of a real engine) is not installed (apt-get install busybox-static)' };
  const cached = [...ENGINES].reverse().find((e) => cachedEngine(e.series));
  if (!cached) return { engine: 'emulated', fallback: `no Docker engine is cached (lab engines --fetch ${ENGINES.at(-1)!.series})` };
  return { engine: cached.series };
}

export function defaultEngine(conditions: LabConditions, env: NodeJS.ProcessEnv = process.env): string {
  const wanted = env.LAB_DOCKER?.trim() || DEFAULT_ENGINE;
  if (wanted !== 'auto') return engineLabel(parseEngineName(wanted));
  const choice = autoEngine(conditions.kernel ? { ...conditions, accel: conditions.accel ?? knownAccel(env) } : conditions);
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
