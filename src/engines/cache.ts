/**
 * Docker engines from Debian's archive: docker.io (and docker-cli), containerd, runc and tini of one suite, fetched with
 * apt under a private configuration (src/debian/apt.ts) and unpacked with dpkg-deb into
 * ~/.cache/lab/engines/<series>/root (LAB_ENGINE_CACHE), never installed: the machine's own Docker, if any, is untouched.
 */
import fs from 'node:fs';
import path from 'node:path';
import { cacheHome } from '../paths.js';
import { LabError } from '../errors.js';
import { compareVersions } from '../kernels/kernel-names.js';
import { suiteApt, unpackDeb, type SuiteApt } from '../debian/apt.js';
import { SYSTEM_PATH } from '../transport/process.js';
import { engineSpec } from './engine-names.js';

/** The programs of an engine, and the folders put first on PATH for dockerd (it finds containerd, runc, docker-init there). */
export interface EngineBinaries {
  dockerd: string;
  docker: string;
  dockerProxy: string;
  path: string;
}

export interface CachedEngine extends EngineBinaries {
  /** "20.10", "26.1", or "host". */
  series: string;
  /** docker.io's Debian version (the installed dockerd's own version for host). */
  version: string;
  packages: Array<{ package: string; version: string; suite: string }>;
  root?: string;
  fetchedAt?: string;
}

export function engineCacheDir(): string {
  if (process.env.LAB_ENGINE_CACHE) return path.resolve(process.env.LAB_ENGINE_CACHE);
  return path.join(cacheHome(), 'engines');
}

const infoFile = (series: string) => path.join(engineCacheDir(), series, 'engine.json');

export function cachedEngine(series: string): CachedEngine | undefined {
  try {
    const info = JSON.parse(fs.readFileSync(infoFile(series), 'utf8')) as CachedEngine;
    return [info.dockerd, info.docker, info.dockerProxy].every((f) => fs.existsSync(f)) ? info : undefined;
  } catch {
    return undefined;
  }
}

function binariesIn(root: string): EngineBinaries {
  const dirs = ['usr/sbin', 'usr/bin'].map((d) => path.join(root, d));
  return {
    dockerd: path.join(root, 'usr/sbin/dockerd'),
    docker: path.join(root, 'usr/bin/docker'),
    dockerProxy: path.join(root, 'usr/sbin/docker-proxy'),
    path: [...dirs, SYSTEM_PATH].join(':'),
  };
}

/** A dockerd installed on this machine (on the system PATH), with the docker client and docker-proxy beside it. */
export function hostEngineBinaries(): EngineBinaries | undefined {
  const find = (name: string, extra: string[] = []) =>
    [...SYSTEM_PATH.split(':'), ...extra]
      .map((d) => path.join(d, name))
      .find((f) => {
        try {
          fs.accessSync(f, fs.constants.X_OK);
          return true;
        } catch {
          return false;
        }
      });
  const dockerd = find('dockerd');
  const docker = find('docker');
  const dockerProxy = find('docker-proxy', ['/usr/libexec/docker']);
  if (!dockerd || !docker) return undefined;
  return { dockerd, docker, dockerProxy: dockerProxy ?? 'docker-proxy', path: SYSTEM_PATH };
}

export async function fetchEngine(series: string, progress: (text: string) => void = () => undefined): Promise<CachedEngine> {
  const known = cachedEngine(series);
  if (known) return known;
  const spec = engineSpec(series);
  const dir = path.join(engineCacheDir(), series);
  const apts = new Map<string, SuiteApt>();
  for (const suite of new Set(spec.packages.map((p) => p.suite))) {
    const apt = suiteApt(path.join(engineCacheDir(), 'apt', suite), suite, `Docker ${series}`);
    progress(`apt-get update (${suite})`);
    const update = await apt.update();
    if (!update.ok) {
      throw new LabError(`cannot fetch Docker ${series}: apt cannot read Debian ${suite}`, {
        details: update.errors,
        hint: "check this machine's network access to its Debian archive",
        kind: 'failure',
      });
    }
    apts.set(suite, apt);
  }
  const chosen: CachedEngine['packages'] = [];
  for (const p of spec.packages) {
    const apt = apts.get(p.suite)!;
    const newest = (await apt.show([p.name])).filter((s) => s.package === p.name).sort((a, b) => compareVersions(b.version, a.version))[0];
    if (!newest) throw new LabError(`cannot fetch Docker ${series}: Debian ${p.suite} has no package ${p.name}`, { kind: 'failure' });
    if (p.name === 'docker.io' && !newest.version.startsWith(spec.versionPrefix))
      throw new LabError(`cannot fetch Docker ${series}: Debian ${p.suite}'s docker.io is ${newest.version} now`, {
        hint: 'the catalogue in src/engines/engine-names.ts names the suite of each series',
        kind: 'failure',
      });
    chosen.push({ package: p.name, version: newest.version, suite: p.suite });
  }
  const debDir = path.join(dir, 'deb');
  const staging = path.join(dir, 'root.new');
  const root = path.join(dir, 'root');
  fs.rmSync(debDir, { recursive: true, force: true });
  fs.rmSync(staging, { recursive: true, force: true });
  for (const p of chosen) {
    progress(`apt-get download ${p.package} ${p.version} (${p.suite})`);
    const deb = await apts.get(p.suite)!.download(p.package, p.version, debDir);
    progress(`extracting ${path.basename(deb)}`);
    await unpackDeb(deb, staging);
  }
  fs.rmSync(root, { recursive: true, force: true });
  fs.renameSync(staging, root);
  fs.rmSync(debDir, { recursive: true, force: true });
  const info: CachedEngine = {
    series,
    version: chosen.find((p) => p.package === 'docker.io')!.version,
    packages: chosen,
    root,
    ...binariesIn(root),
    fetchedAt: new Date().toISOString(),
  };
  const missing = [info.dockerd, info.docker, info.dockerProxy].filter((f) => !fs.existsSync(f));
  if (missing.length)
    throw new LabError(`Docker ${series}'s packages hold no ${missing.map((f) => path.basename(f)).join(', ')} where expected`, {
      details: [root],
      kind: 'failure',
    });
  fs.writeFileSync(infoFile(series), `${JSON.stringify(info, null, 2)}\n`);
  return info;
}
