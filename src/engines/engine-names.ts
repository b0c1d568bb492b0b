/**
 * Which Docker engines a docker-host node can run, and from which Debian packages. An engine is named by its
 * series ("20.10", "26.1"), `host` for a dockerd already installed on this machine (started by the lab), `existing` for
 * an engine already running (DOCKER_HOST, else the default socket; src/engines/existing.ts), or `emulated` for the
 * imitation (Docker's rules from a template, docker-proxy alone, containers as bare namespaces).
 */
import { LabError } from '../errors.js';

export interface EnginePackage {
  name: string;
  suite: string;
  /** Why it comes from another suite than the engine, when it does. */
  why?: string;
}

export interface EngineSpec {
  series: string;
  suite: string;
  /** docker.io's upstream version must start with this (20.10.24+dfsg1-1 for "20.10."). */
  versionPrefix: string;
  packages: EnginePackage[];
}

const TRIXIE_NEEDS_GLIBC = "trixie's build needs glibc 2.38; bookworm's runs on bookworm and trixie alike";

export const ENGINES: readonly EngineSpec[] = [
  {
    series: '20.10',
    suite: 'bookworm',
    versionPrefix: '20.10.',
    packages: ['docker.io', 'containerd', 'runc', 'tini'].map((name) => ({ name, suite: 'bookworm' })),
  },
  {
    series: '26.1',
    suite: 'trixie',
    versionPrefix: '26.1.',
    packages: [
      { name: 'docker.io', suite: 'trixie' },
      // trixie moved the docker client out of docker.io
      { name: 'docker-cli', suite: 'trixie' },
      { name: 'containerd', suite: 'trixie' },
      { name: 'runc', suite: 'bookworm', why: TRIXIE_NEEDS_GLIBC },
      { name: 'tini', suite: 'bookworm', why: TRIXIE_NEEDS_GLIBC },
    ],
  },
];

export type EngineName = { kind: 'emulated' } | { kind: 'host' } | { kind: 'existing' } | { kind: 'debian'; series: string };

export function engineLabel(name: EngineName): string {
  return name.kind === 'debian' ? name.series : name.kind;
}

export function parseEngineName(text: string): EngineName {
  const value = text.trim().toLowerCase();
  if (value === 'emulated' || value === 'host' || value === 'existing') return { kind: value };
  const hit = ENGINES.find((e) => e.series === value);
  if (!hit) {
    throw new LabError(`"${text}" is not a Docker engine this tool knows`, {
      hint: `use ${ENGINES.map((e) => `${e.series} (Debian ${e.suite}'s docker.io)`).join(', ')}, host (the dockerd installed here, started by the lab), existing (the engine already running at DOCKER_HOST or /var/run/docker.sock) or emulated`,
    });
  }
  return { kind: 'debian', series: hit.series };
}

/** `--docker 20.10,26.1`: each named once, in the order given. */
export function parseEngineList(list: string): EngineName[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new LabError('--docker names no engine', { hint: 'e.g. --docker 26.1 or --docker 20.10,26.1' });
  const parsed = names.map(parseEngineName);
  return parsed.filter((e, i) => parsed.findIndex((o) => engineLabel(o) === engineLabel(e)) === i);
}

export function engineSpec(series: string): EngineSpec {
  const spec = ENGINES.find((e) => e.series === series);
  if (!spec) throw new LabError(`no Debian suite ships Docker ${series}`, { hint: ENGINES.map((e) => `${e.series} (${e.suite})`).join(', ') });
  return spec;
}
