import test from 'ava';
import { bzImagePayload, hasPvhEntry } from '../../src/kernels/vmlinux.js';

/** A bzImage's first sectors: the boot protocol header with setup_sects and the payload's place. */
function bzImage(payload: Buffer, setupSectors = 3): Buffer {
  const setup = Buffer.alloc((setupSectors + 1) * 512);
  setup[0x1f1] = setupSectors;
  setup.write('HdrS', 0x202, 'latin1');
  setup.writeUInt32LE(16, 0x248);
  setup.writeUInt32LE(payload.length + 4, 0x24c);
  const size = Buffer.alloc(4);
  size.writeUInt32LE(123456);
  return Buffer.concat([setup, Buffer.alloc(16), payload, size, Buffer.alloc(64)]);
}

test('the payload is found by the header, its format by its magic, the size trailer left out', (t) => {
  const xz = Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.from('stream')]);
  const found = bzImagePayload(bzImage(xz));
  t.is(found?.tool, 'xz');
  t.deepEqual(found?.data, xz);
  const zstd = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.from('frame')]);
  t.is(bzImagePayload(bzImage(zstd, 39))?.tool, 'zstd');
  t.is(bzImagePayload(bzImage(Buffer.from('lz4 or something else'))), undefined, 'an unknown compression: boot the bzImage');
  t.is(bzImagePayload(Buffer.alloc(4096)), undefined, 'not a bzImage');
  const cut = bzImage(xz).subarray(0, 2060);
  t.is(bzImagePayload(cut), undefined, 'a payload past the end of the file');
});

/** A 64-bit ELF with one PT_NOTE segment holding the given notes (name, type). */
function elfWithNotes(notes: Array<[string, number]>): Buffer {
  const body = Buffer.concat(
    notes.map(([name, type]) => {
      const n = Buffer.alloc(12 + ((name.length + 1 + 3) & ~3) + 4);
      n.writeUInt32LE(name.length + 1, 0);
      n.writeUInt32LE(4, 4);
      n.writeUInt32LE(type, 8);
      n.write(name, 12, 'latin1');
      return n;
    }),
  );
  const header = Buffer.alloc(64 + 56);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2;
  header.writeBigUInt64LE(64n, 0x20);
  header.writeUInt16LE(56, 0x36);
  header.writeUInt16LE(1, 0x38);
  header.writeUInt32LE(4, 64);
  header.writeBigUInt64LE(BigInt(header.length), 64 + 8);
  header.writeBigUInt64LE(BigInt(body.length), 64 + 32);
  return Buffer.concat([header, body]);
}

test("the PVH entry is Xen's note 18, found among other notes", (t) => {
  t.true(
    hasPvhEntry(
      elfWithNotes([
        ['GNU', 3],
        ['Xen', 6],
        ['Xen', 18],
      ]),
    ),
  );
  t.false(
    hasPvhEntry(
      elfWithNotes([
        ['Xen', 6],
        ['GNU', 18],
      ]),
    ),
    'type 18 of another owner',
  );
  t.false(hasPvhEntry(elfWithNotes([])));
  t.false(hasPvhEntry(Buffer.from('not an elf file at all, just some bytes to fill sixty-four of them')));
});
