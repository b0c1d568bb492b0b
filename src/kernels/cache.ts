/**
 * Kernels from Debian's archive, fetched with apt's own client under a private configuration (its
 * own sources list and lists folder inside the cache: the machine's apt state is never touched),
 * extracted with dpkg-deb and indexed with depmod, in ~/.cache/lab/kernels/<series>/ (LAB_KERNEL_CACHE).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LabError } from '../errors.js';
import { runCommand } from '../transport/process.js';
import { SUITES, archiveFromSources, parseStanzas, pickImage } from './catalogue.js';

export interface CachedKernel {
  series: string;
  suite: string;
  package: string;
  version: string;
  /** `uname -r` inside the guest, e.g. 5.10.0-32-amd64. */
  release: string;
  /** The extracted package: boot/vmlinuz-*, lib/modules/<release>. */
  root: string;
  vmlinuz: string;
  fetchedAt: string;
}

export function kernelCacheDir(): string {
  if (process.env.LAB_KERNEL_CACHE) return path.resolve(process.env.LAB_KERNEL_CACHE);
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'lab', 'kernels');
}

const infoFile = (series: string) => path.join(kernelCacheDir(), series, 'kernel.json');

export function cachedKernel(series: string): CachedKernel | undefined {
  try {
    const info = JSON.parse(fs.readFileSync(infoFile(series), 'utf8')) as CachedKernel;
    return fs.existsSync(info.vmlinuz) ? info : undefined;
  } catch {
    return undefined;
  }
}

export function archiveUri(): string {
  const texts: string[] = [];
  for (const file of ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d').map((f) => path.join('/etc/apt/sources.list.d', f))]) {
    try {
      texts.push(fs.readFileSync(file, 'utf8'));
    } catch {
      // not there
    }
  }
  const uri = archiveFromSources(texts);
  const hint = 'add one to /etc/apt/sources.list.d/, or fetch the kernel on a machine that has one';
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

/** apt-get/apt-cache with a private sources list and lists folder for one suite. */
function aptOptions(aptDir: string): string[] {
  return [
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
}

export async function fetchKernel(series: string, progress: (text: string) => void = () => undefined): Promise<CachedKernel> {
  const known = cachedKernel(series);
  if (known) return known;
  const suite = SUITES.find((s) => s.series === series)?.suite;
  if (!suite) throw new LabError(`no Debian suite ships kernel ${series}`, { hint: SUITES.map((s) => `${s.series} (${s.suite})`).join(', ') });
  const dir = path.join(kernelCacheDir(), series);
  const aptDir = path.join(dir, 'apt');
  for (const sub of ['lists/partial', 'cache/archives/partial']) fs.mkdirSync(path.join(aptDir, sub), { recursive: true });
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  fs.writeFileSync(path.join(aptDir, 'sources.list'), `deb [signed-by=${keyring}] ${archiveUri()} ${suite} main\n`);
  const apt = aptOptions(aptDir);
  const wanted = `linux-image-${series}.*-amd64-unsigned`;
  progress(`apt-get update (${suite})`);
  const update = await runCommand(['apt-get', ...apt, 'update'], { check: false, timeoutMs: 300_000 });
  const search = ['apt-cache', ...apt, 'search', '--names-only', `^linux-image-${series.replace('.', '\\.')}\\.`];
  const names = update.exitCode === 0 ? await runCommand(search, { check: false }) : undefined;
  const candidates = (names?.stdout ?? '')
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => /-amd64-unsigned$/.test(n));
  const shown = candidates.length ? await runCommand(['apt-cache', ...apt, 'show', ...candidates], { check: false }) : undefined;
  const image = pickImage(parseStanzas(shown?.stdout ?? ''), series);
  if (!image) {
    throw new LabError(`cannot fetch kernel ${series}: no package ${wanted} in ${suite}`, {
      details: update.exitCode === 0 ? [`apt found no ${wanted} in ${archiveUri()} ${suite}`] : update.stderr.trim().split('\n').slice(-3),
      hint: "check this machine's network access to its Debian archive",
      kind: 'failure',
    });
  }
  progress(`apt-get download ${image.package}`);
  const debDir = path.join(dir, 'deb');
  fs.rmSync(debDir, { recursive: true, force: true });
  fs.mkdirSync(debDir, { recursive: true });
  const download = await runCommand(['env', '-C', debDir, 'apt-get', ...apt, 'download', `${image.package}=${image.version}`], {
    check: false,
    timeoutMs: 600_000,
  });
  const deb = fs.readdirSync(debDir).find((f) => f.endsWith('.deb'));
  if (download.exitCode !== 0 || !deb) {
    const details = download.stderr.trim().split('\n').slice(-3);
    throw new LabError(`cannot fetch kernel ${series}: downloading ${image.package} ${image.version} failed`, { details, kind: 'failure' });
  }
  progress(`extracting ${deb}`);
  const root = path.join(dir, 'root');
  fs.rmSync(root, { recursive: true, force: true });
  await runCommand(['dpkg-deb', '-x', path.join(debDir, deb), root], { timeoutMs: 300_000 });
  // trixie keeps modules in usr/lib only; modprobe -d wants <dir>/lib/modules
  if (!fs.existsSync(path.join(root, 'lib')) && fs.existsSync(path.join(root, 'usr', 'lib'))) fs.symlinkSync('usr/lib', path.join(root, 'lib'));
  const release = fs.readdirSync(path.join(root, 'lib', 'modules'))[0];
  const vmlinuz = release && path.join(root, 'boot', `vmlinuz-${release}`);
  if (!release || !vmlinuz || !fs.existsSync(vmlinuz))
    throw new LabError(`${image.package} holds no kernel image where expected`, { details: [root], kind: 'failure' });
  progress('depmod');
  await runCommand(['depmod', '-b', root, release], { timeoutMs: 300_000 });
  fs.rmSync(debDir, { recursive: true, force: true });
  const info: CachedKernel = { series, suite, package: image.package, version: image.version, release, root, vmlinuz, fetchedAt: new Date().toISOString() };
  fs.writeFileSync(infoFile(series), `${JSON.stringify(info, null, 2)}\n`);
  return info;
}
