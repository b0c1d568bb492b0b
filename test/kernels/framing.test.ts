/** The exec channel's framing: JSON lines cut anywhere by the socket, and the initramfs pieces. */
import test from 'ava';
import { LineDecoder, encodeMessage } from '../../src/kernels/framing.js';
import { cpioNewc, loadOrder } from '../../src/kernels/initramfs.js';

test('messages split across chunks are joined; several in one chunk are split', (t) => {
  const d = new LineDecoder();
  const wire = encodeMessage({ id: 1, line: 'a "quoted" line\twith tab' }) + encodeMessage({ id: 2, exit: 0 }) + encodeMessage({ id: 3, stdout: 'x\ny\n' });
  const got: Array<Record<string, unknown>> = [];
  for (let i = 0; i < wire.length; i += 7) got.push(...d.push(wire.slice(i, i + 7)));
  t.deepEqual(got, [
    { id: 1, line: 'a "quoted" line\twith tab' },
    { id: 2, exit: 0 },
    { id: 3, stdout: 'x\ny\n' },
  ]);
});

test('console noise and non-object lines are skipped, a partial line waits', (t) => {
  const d = new LineDecoder();
  t.deepEqual(d.push('[    1.234] virtio: noise\n42\n["array"]\n{"id":5,"kernel":"5.10'), []);
  t.deepEqual(d.push('.0-32-amd64"}\n'), [{ id: 5, kernel: '5.10.0-32-amd64' }]);
});

test('an encoded message is exactly one line', (t) => {
  const line = encodeMessage({ id: 9, input: 'one\ntwo\n' });
  t.is(line.indexOf('\n'), line.length - 1);
});

test('modules load dependencies first, each once, built-ins skipped', (t) => {
  const dep = [
    'kernel/drivers/virtio/virtio.ko:',
    'kernel/drivers/virtio/virtio_ring.ko:',
    'kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko',
    'kernel/net/9p/9pnet.ko:',
    'kernel/fs/netfs/netfs.ko:',
    'kernel/fs/9p/9p.ko: kernel/fs/netfs/netfs.ko kernel/net/9p/9pnet.ko',
    'kernel/net/9p/9pnet_virtio.ko.xz: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko kernel/net/9p/9pnet.ko',
  ].join('\n');
  const order = loadOrder(dep, ['virtio_pci', 'virtio_console', '9pnet_virtio', '9p']);
  t.deepEqual(order, [
    'kernel/drivers/virtio/virtio.ko',
    'kernel/drivers/virtio/virtio_ring.ko',
    'kernel/drivers/virtio/virtio_pci.ko',
    'kernel/net/9p/9pnet.ko',
    'kernel/net/9p/9pnet_virtio.ko.xz',
    'kernel/fs/netfs/netfs.ko',
    'kernel/fs/9p/9p.ko',
  ]);
});

test('cpio newc: headers, names and data padded to 4 bytes, a trailer at the end', (t) => {
  const archive = cpioNewc([
    { name: 'init', mode: 0o100755, data: Buffer.from('#!/bin/sh\n') },
    { name: 'bin', mode: 0o40755 },
  ]);
  t.is(archive.length % 4, 0);
  t.is(archive.subarray(0, 6).toString(), '070701');
  const first = archive.subarray(0, 110).toString();
  t.is(parseInt(first.slice(54, 62), 16), 10, 'file size field');
  t.is(parseInt(first.slice(94, 102), 16), 5, 'name size includes the NUL');
  t.true(archive.includes(Buffer.from('TRAILER!!!\0')));
  t.is(archive.indexOf(Buffer.from('#!/bin/sh')) % 4, 0, 'data starts on a 4-byte boundary');
});
