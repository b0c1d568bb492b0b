/**
 * Kernels from Debian's archive, fetched with apt's own client under a private configuration (src/debian/apt.ts: its
 * own sources list and lists folder inside the cache, the machine's apt state is never touched),
 * extracted with dpkg-deb and indexed with depmod, in ~/.cache/lab/kernels/<series>/ (LAB_KERNEL_CACHE).
 */
import fs from 'node:fs';
import path from 'node:path';
import { cacheHome } from '../paths.js';
import { LabError } from '../errors.js';
import { runCommand } from '../transport/process.js';
import { SUITES, pickImage } from './kernel-names.js';
import { archiveUri, suiteApt, unpackDeb } from '../debian/apt.js';

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
  return path.join(cacheHome(), 'kernels');
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

export async function fetchKernel(series: string, progress: (text: string) => void = () => undefined): Promise<CachedKernel> {
  const known = cachedKernel(series);
  if (known) return known;
  const suite = SUITES.find((s) => s.series === series)?.suite;
  if (!suite) throw new LabError(`no Debian suite ships kernel ${series}`, { hint: SUITES.map((s) => `${s.series} (${s.suite})`).join(', ') });
  const dir = path.join(kernelCacheDir(), series);
  const apt = suiteApt(path.join(dir, 'apt'), suite, `kernel ${series}`);
  const wanted = `linux-image-${series}.*-amd64-unsigned`;
  progress(`apt-get update (${suite})`);
  const update = await apt.update();
  const candidates = update.ok ? (await apt.search(`^linux-image-${series.replace('.', '\\.')}\\.`)).filter((n) => /-amd64-unsigned$/.test(n)) : [];
  const image = pickImage(await apt.show(candidates), series);
  if (!image) {
    throw new LabError(`cannot fetch kernel ${series}: no package ${wanted} in ${suite}`, {
      details: update.ok ? [`apt found no ${wanted} in ${archiveUri()} ${suite}`] : update.errors,
      hint: "check this machine's network access to its Debian archive",
      kind: 'failure',
    });
  }
  progress(`apt-get download ${image.package}`);
  const debDir = path.join(dir, 'deb');
  fs.rmSync(debDir, { recursive: true, force: true });
  const debPath = await apt.download(image.package, image.version, debDir);
  const deb = path.basename(debPath);
  progress(`extracting ${deb}`);
  const root = path.join(dir, 'root');
  fs.rmSync(root, { recursive: true, force: true });
  await unpackDeb(debPath, root);
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
