/**
 * Which Debian package holds which kernel: a kernel is named by its series (5.10, 6.1, 6.12), by the
 * Debian suite that ships it (bullseye, bookworm, trixie), or `host` for this machine's own kernel.
 */
import { LabError } from '../errors.js';
import { SUITES } from '../lab/kernel-series.js';

export { SUITES };

export type KernelName = { kind: 'host' } | { kind: 'debian'; suite: string; series: string };

export function parseKernelName(name: string): KernelName {
  const value = name.trim().toLowerCase();
  if (value === 'host') return { kind: 'host' };
  const hit = SUITES.find((s) => s.series === value || s.suite === value);
  if (!hit) {
    throw new LabError(`"${name}" is not a kernel this tool knows`, { hint: `use host or one of ${SUITES.map((s) => `${s.series} (${s.suite})`).join(', ')}` });
  }
  return { kind: 'debian', ...hit };
}

/** `--kernel 5.10,6.1,host`: each named once, in the order given. */
export function parseKernelList(list: string | string[]): KernelName[] {
  const names = (Array.isArray(list) ? list : [list])
    .flatMap((item) => item.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new LabError('--kernel names no kernel', { hint: 'e.g. --kernel 5.10,host' });
  const parsed = names.map(parseKernelName);
  return parsed.filter((k, i) => parsed.findIndex((o) => kernelKey(o) === kernelKey(k)) === i);
}

/** The short key a lab id carries for a kernel ("5-10"); no key for the host. */
export function kernelKey(name: KernelName): string {
  return name.kind === 'host' ? 'host' : name.series.replace('.', '-');
}

export interface PackageStanza {
  package: string;
  version: string;
  filename?: string;
  size?: number;
}

/** Stanzas of a Debian Packages file (or `apt-cache show` output): the fields this tool needs. */
export function parseStanzas(text: string): PackageStanza[] {
  const out: PackageStanza[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(block)?.[1]?.trim();
    const pkg = field('Package');
    const version = field('Version');
    if (!pkg || !version) continue;
    const size = field('Size');
    out.push({ package: pkg, version, ...(field('Filename') ? { filename: field('Filename') } : {}), ...(size ? { size: Number(size) } : {}) });
  }
  return out;
}

/**
 * The newest generic image of a series: bullseye and bookworm name it linux-image-6.1.0-<abi>-amd64-unsigned,
 * trixie linux-image-6.12.<patch>+deb13-amd64-unsigned; cloud, rt and dbg flavours are not it.
 */
export function pickImage(stanzas: PackageStanza[], series: string): PackageStanza | undefined {
  const pattern = new RegExp(`^linux-image-${series.replace('.', '\\.')}\\.\\d+(-\\d+|\\+deb\\d+)-amd64-unsigned$`);
  const candidates = stanzas.filter((s) => pattern.test(s.package));
  candidates.sort((a, b) => compareVersions(b.version, a.version));
  return candidates[0];
}

/** Enough of Debian's version order for kernel versions (digits compared as numbers, "~" before anything). */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split(/(\d+)/).filter((p) => p !== '');
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    if (x === undefined) return y!.startsWith('~') ? 1 : -1;
    if (y === undefined) return x.startsWith('~') ? -1 : 1;
    if (/^\d+$/.test(x) && /^\d+$/.test(y)) return Number(x) - Number(y);
    if (x.startsWith('~') !== y.startsWith('~')) return x.startsWith('~') ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** The archive this machine's apt sources name (deb822 `URIs:` or a one-line `deb` entry) for Debian's main archive. */
export function archiveFromSources(texts: string[]): string | undefined {
  for (const text of texts) {
    for (const m of text.matchAll(/^URIs:\s*(\S+)/gm)) if (!/security/.test(m[1]!)) return m[1]!.replace(/\/$/, '');
    for (const m of text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/gm)) if (!/security/.test(m[1]!)) return m[1]!.replace(/\/$/, '');
  }
  return undefined;
}
