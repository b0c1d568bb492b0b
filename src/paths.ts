import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The package root: works from src/ (tests via dist/src) and from an installed package. */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const labsDir = path.join(packageRoot, 'labs');
export const agentsDir = path.join(packageRoot, 'agents');
export const templatesDir = path.join(packageRoot, 'templates');

/** The labs in labs/ by name: every folder that holds a lab.yaml, sorted. */
export function labNames(): string[] {
  return fs.existsSync(labsDir)
    ? fs
        .readdirSync(labsDir)
        .filter((name) => fs.existsSync(path.join(labsDir, name, 'lab.yaml')))
        .sort()
    : [];
}

/**
 * Where state and working files of running labs live; LAB_HOME overrides (tests use their own). Never the package's
 * own folder: as root /var/lib/lab (Vagrant VMs outlive a reboot, so not /run), otherwise the user's XDG state folder.
 */
export function labHome(): string {
  if (process.env.LAB_HOME) return path.resolve(process.env.LAB_HOME);
  if (typeof process.getuid === 'function' && process.getuid() === 0) return '/var/lib/lab';
  return path.join(process.env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local', 'state'), 'lab');
}

/** Downloads lab keeps (docker-proxy, kernels, engines): LAB_CACHE, else the user's XDG cache folder. */
export function cacheHome(): string {
  if (process.env.LAB_CACHE) return path.resolve(process.env.LAB_CACHE);
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'lab');
}

export function defaultResultsDir(): string {
  return path.resolve(process.env.LAB_RESULTS ?? 'results');
}
