/**
 * apt for one Debian suite under a private configuration: its own sources list, lists folder and cache inside a folder
 * of ours, so the machine's apt state is never touched. Kernels (src/kernels/cache.ts) and Docker engines
 * (src/engines/cache.ts) are fetched with it, then unpacked with dpkg-deb, never installed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../errors.js';
import { archiveFromSources, parseStanzas, type PackageStanza } from '../kernels/kernel-names.js';
import { runCommand } from '../transport/process.js';

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** The Debian archive this machine's apt sources name. */
export function archiveUri(what = 'it'): string {
  const texts: string[] = [];
  for (const file of ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d').map((f) => path.join('/etc/apt/sources.list.d', f))]) {
    try {
      texts.push(fs.readFileSync(file, 'utf8'));
    } catch {
      // not there
    }
  }
  const uri = archiveFromSources(texts);
  const hint = `add one to /etc/apt/sources.list.d/, or fetch ${what} on a machine that has one`;
  if (!uri) throw new LabError("this machine's apt sources name no Debian archive", { hint, kind: 'failure' });
  return uri;
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith('.list') || f.endsWith('.sources'));
  } catch {
    return [];
  }
}

export interface SuiteApt {
  readonly suite: string;
  /** apt-get update of this suite alone; false (with apt's last lines) when the archive cannot be read. */
  update(): Promise<{ ok: boolean; errors: string[] }>;
  /** The stanzas apt knows for these package names (none for a name it does not know). */
  show(names: string[]): Promise<PackageStanza[]>;
  /** Package names matching an apt-cache search pattern (names only). */
  search(pattern: string): Promise<string[]>;
  /** Downloads package=version into debDir and returns the .deb's path. */
  download(pkg: string, version: string, debDir: string): Promise<string>;
}

/** apt-get/apt-cache for `suite` with everything of apt's (sources, lists, cache) in aptDir. */
export function suiteApt(aptDir: string, suite: string, what = 'it'): SuiteApt {
  const options = [
    '-o',
    `Dir::Etc::SourceList=${path.join(aptDir, 'sources.list')}`,
    '-o',
    'Dir::Etc::SourceParts=/nonexistent',
    '-o',
    `Dir::State::Lists=${path.join(aptDir, 'lists')}`,
    '-o',
    `Dir::Cache=${path.join(aptDir, 'cache')}`,
    '-o',
    'APT::Get::List-Cleanup=0',
    '-o',
    'APT::Sandbox::User=root',
  ];
  const prepare = () => {
    for (const sub of ['lists/partial', 'cache/archives/partial']) fs.mkdirSync(path.join(aptDir, sub), { recursive: true });
    fs.writeFileSync(path.join(aptDir, 'sources.list'), `deb [signed-by=${KEYRING}] ${archiveUri(what)} ${suite} main\n`);
  };
  return {
    suite,
    async update() {
      prepare();
      const out = await runCommand(['apt-get', ...options, 'update'], { check: false, timeoutMs: 300_000 });
      return { ok: out.exitCode === 0, errors: out.stderr.trim().split('\n').filter(Boolean).slice(-3) };
    },
    async show(names) {
      if (names.length === 0) return [];
      const out = await runCommand(['apt-cache', ...options, 'show', ...names], { check: false });
      return parseStanzas(out.stdout);
    },
    async search(pattern) {
      const out = await runCommand(['apt-cache', ...options, 'search', '--names-only', pattern], { check: false });
      return out.stdout
        .split('\n')
        .map((l) => l.split(' ')[0]!)
        .filter(Boolean);
    },
    async download(pkg, version, debDir) {
      fs.mkdirSync(debDir, { recursive: true });
      const out = await runCommand(['env', '-C', debDir, 'apt-get', ...options, 'download', `${pkg}=${version}`], { check: false, timeoutMs: 600_000 });
      const deb = fs.readdirSync(debDir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
      if (out.exitCode !== 0 || !deb) {
        const details = out.stderr.trim().split('\n').filter(Boolean).slice(-3);
        throw new LabError(`cannot fetch ${what}: downloading ${pkg} ${version} from ${suite} failed`, { details, kind: 'failure' });
      }
      return path.join(debDir, deb);
    },
  };
}

/** Unpacks a .deb into root (dpkg-deb -x: files only, no maintainer scripts, nothing registered with dpkg). */
export async function unpackDeb(deb: string, root: string): Promise<void> {
  await runCommand(['dpkg-deb', '-x', deb, root], { timeoutMs: 300_000 });
}
