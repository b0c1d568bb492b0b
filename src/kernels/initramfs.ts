/**
 * The guest's initramfs: busybox-static, the virtio, virtio-serial and 9p modules of one kernel (with
 * what they depend on, in load order), and guest/init.sh as /init; a gzip'd cpio (newc) written here.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { LabError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { runCommand } from '../transport/process.js';
import type { CachedKernel } from './cache.js';

const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'mount', 'insmod', 'cat', 'mkdir', 'switch_root', 'poweroff', 'chmod', 'echo', 'printf'];
export const GUEST_MODULES = ['virtio_pci', 'virtio_console', '9pnet_virtio', '9p'];

/** Modules to insmod, dependencies first, from modules.dep; built-in ones are skipped. */
export function loadOrder(modulesDep: string, wanted: string[]): string[] {
  const deps = new Map<string, string[]>();
  const byName = new Map<string, string>();
  for (const line of modulesDep.split('\n')) {
    const [file, rest] = line.split(':');
    if (!file || rest === undefined) continue;
    deps.set(file, rest.trim().split(/\s+/).filter(Boolean));
    byName.set(moduleName(file), file);
  }
  const order: string[] = [];
  const visit = (file: string) => {
    if (order.includes(file)) return;
    for (const d of [...(deps.get(file) ?? [])].reverse()) visit(d);
    order.push(file);
  };
  for (const name of wanted) {
    const file = byName.get(name.replace(/-/g, '_'));
    if (file) visit(file);
  }
  return order;
}

function moduleName(file: string): string {
  return path
    .basename(file)
    .replace(/\.ko(\.(xz|zst|gz))?$/, '')
    .replace(/-/g, '_');
}

/** Named after what goes into it (init.sh, modules, applets): a changed init.sh must not boot from an old cached image. */
export function initramfsPath(kernel: CachedKernel): string {
  const recipe = createHash('sha256')
    .update(fs.readFileSync(path.join(packageRoot, 'guest', 'init.sh')))
    .update(JSON.stringify([GUEST_MODULES, APPLETS]))
    .digest('hex')
    .slice(0, 12);
  return path.join(path.dirname(kernel.root), `initramfs-${recipe}.cpio.gz`);
}

export async function buildInitramfs(kernel: CachedKernel): Promise<string> {
  const out = initramfsPath(kernel);
  if (fs.existsSync(out)) return out;
  for (const old of fs.readdirSync(path.dirname(out)).filter((f) => /^initramfs(-[0-9a-f]+)?\.cpio\.gz$/.test(f)))
    fs.rmSync(path.join(path.dirname(out), old), { force: true });
  if (!fs.existsSync(BUSYBOX))
    throw new LabError(`${BUSYBOX} is missing`, { hint: 'apt-get install busybox-static (scripts/setup.sh installs it)', kind: 'failure' });
  const modDir = path.join(kernel.root, 'lib', 'modules', kernel.release);
  const order = loadOrder(fs.readFileSync(path.join(modDir, 'modules.dep'), 'utf8'), GUEST_MODULES);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-initramfs-'));
  try {
    const entries: CpioEntry[] = ['bin', 'proc', 'sys', 'dev', 'newroot', 'modules'].map((d) => ({ name: d, mode: 0o40755 }));
    entries.push({ name: 'bin/busybox', mode: 0o100755, data: fs.readFileSync(BUSYBOX) });
    for (const a of APPLETS) entries.push({ name: `bin/${a}`, mode: 0o120777, data: Buffer.from('busybox') });
    entries.push({ name: 'init', mode: 0o100755, data: fs.readFileSync(path.join(packageRoot, 'guest', 'init.sh')) });
    const names: string[] = [];
    for (const file of order) {
      const data = await plainModule(path.join(modDir, file), tmp);
      const name = `${moduleName(file)}.ko`;
      names.push(name);
      entries.push({ name: `modules/${name}`, mode: 0o100644, data });
    }
    entries.push({ name: 'modules.list', mode: 0o100644, data: Buffer.from(`${names.join('\n')}\n`) });
    fs.writeFileSync(`${out}.tmp`, zlib.gzipSync(cpioNewc(entries)));
    fs.renameSync(`${out}.tmp`, out);
    return out;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** busybox insmod takes plain .ko files: compressed ones (trixie's .ko.xz) are unpacked here. */
async function plainModule(file: string, tmp: string): Promise<Buffer> {
  const tool = file.endsWith('.xz') ? 'xz' : file.endsWith('.zst') ? 'zstd' : file.endsWith('.gz') ? 'gzip' : undefined;
  if (!tool) return fs.readFileSync(file);
  const copy = path.join(tmp, path.basename(file));
  fs.copyFileSync(file, copy);
  await runCommand([tool, '-d', '-f', '-q', copy]);
  return fs.readFileSync(copy.replace(/\.(xz|zst|gz)$/, ''));
}

export interface CpioEntry {
  name: string;
  mode: number;
  data?: Buffer;
}

/** The "newc" cpio format the kernel unpacks: 110-byte ASCII header, name, data, each padded to 4 bytes. */
export function cpioNewc(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  const pad = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  [...entries, { name: 'TRAILER!!!', mode: 0 }].forEach((e, i) => {
    const data = e.data ?? Buffer.alloc(0);
    const name = Buffer.from(`${e.name}\0`);
    const fields = [i + 1, e.mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length, 0];
    const header = Buffer.from(`070701${fields.map(hex).join('')}`);
    parts.push(header, name, pad(header.length + name.length), data, pad(data.length));
  });
  return Buffer.concat(parts);
}
