/**
 * The uncompressed kernel for a PVH boot. A bzImage makes the guest decompress its own kernel before
 * its clock starts, seconds of a boot under software emulation (docs/measurements.md).
 * QEMU boots an ELF vmlinux that carries Xen's PVH entry note directly, so the host unpacks the
 * bzImage's payload once (xz or zstd, as Debian builds them) and keeps it beside the kernel.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runCommand } from '../transport/process.js';
import type { CachedKernel } from './cache.js';

const XEN_ELFNOTE_PHYS32_ENTRY = 18;
const PT_NOTE = 4;

interface Payload {
  tool: 'xz' | 'zstd' | 'gzip';
  data: Buffer;
}

/** The compressed kernel inside a bzImage (boot protocol 2.08+: payload_offset/length), without its 4-byte size trailer. */
export function bzImagePayload(image: Buffer): Payload | undefined {
  if (image.length < 0x250 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') return undefined;
  const setupSectors = image[0x1f1] || 4;
  const start = (setupSectors + 1) * 512 + image.readUInt32LE(0x248);
  const length = image.readUInt32LE(0x24c);
  if (length < 8 || start + length > image.length) return undefined;
  const data = image.subarray(start, start + length - 4);
  if (data.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return { tool: 'xz', data };
  if (data.readUInt32LE(0) === 0xfd2fb528) return { tool: 'zstd', data };
  if (data[0] === 0x1f && data[1] === 0x8b) return { tool: 'gzip', data };
  return undefined;
}

/** Does this ELF image carry the PVH entry point QEMU needs to boot it directly? */
export function hasPvhEntry(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + phentsize > elf.length || elf.readUInt32LE(ph) !== PT_NOTE) continue;
    let at = Number(elf.readBigUInt64LE(ph + 8));
    const end = at + Number(elf.readBigUInt64LE(ph + 32));
    while (at + 12 <= end && end <= elf.length) {
      const [nameSize, descSize, type] = [elf.readUInt32LE(at), elf.readUInt32LE(at + 4), elf.readUInt32LE(at + 8)];
      const name = elf.toString('latin1', at + 12, at + 12 + nameSize).replace(/\0+$/, '');
      if (name === 'Xen' && type === XEN_ELFNOTE_PHYS32_ENTRY) return true;
      at += 12 + align4(nameSize) + align4(descSize);
    }
  }
  return false;
}

const align4 = (n: number) => (n + 3) & ~3;

export function vmlinuxPath(kernel: CachedKernel): string {
  return path.join(path.dirname(kernel.root), `vmlinux-${kernel.release}`);
}

/**
 * The image to hand QEMU: the unpacked vmlinux when the kernel has a PVH entry (every Debian amd64
 * kernel since 5.0 has), else the bzImage as it came. Unpacked once per kernel, into the kernel cache.
 */
export async function bootImage(kernel: CachedKernel): Promise<string> {
  const out = vmlinuxPath(kernel);
  if (fs.existsSync(out)) return out;
  const payload = bzImagePayload(fs.readFileSync(kernel.vmlinuz));
  if (!payload) return kernel.vmlinuz;
  const packed = `${out}.unpacking.${payload.tool === 'zstd' ? 'zst' : payload.tool === 'xz' ? 'xz' : 'gz'}`;
  const unpacked = packed.replace(/\.(xz|zst|gz)$/, '');
  try {
    fs.writeFileSync(packed, payload.data);
    await runCommand([payload.tool, '-d', '-f', '-q', packed], { timeoutMs: 120_000 });
    if (!hasPvhEntry(fs.readFileSync(unpacked))) return kernel.vmlinuz;
    fs.renameSync(unpacked, out);
    return out;
  } finally {
    fs.rmSync(packed, { force: true });
    fs.rmSync(unpacked, { force: true });
  }
}
