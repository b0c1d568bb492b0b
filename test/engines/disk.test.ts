import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diskNote, diskUse, engineDiskBoundBytes, tooLittleSpace } from '../../src/engines/disk.js';

test('disk use counts the blocks of files under a folder, hard links once', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-disk-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const empty = diskUse(dir);
  fs.mkdirSync(path.join(dir, 'a'));
  fs.writeFileSync(path.join(dir, 'a', 'f'), Buffer.alloc(1024 * 1024, 1));
  fs.linkSync(path.join(dir, 'a', 'f'), path.join(dir, 'g'));
  const used = diskUse(dir) - empty;
  t.true(used >= 1024 * 1024 && used < 1.2 * 1024 * 1024, String(used));
  t.is(diskUse(path.join(dir, 'none')), 0);
});

test('the bound is LAB_ENGINE_DISK_MAX_MB (1024 unless set); over it, the note says so; too little free space is refused', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-disk-'));
  const before = process.env.LAB_ENGINE_DISK_MAX_MB;
  t.teardown(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    if (before === undefined) delete process.env.LAB_ENGINE_DISK_MAX_MB;
    else process.env.LAB_ENGINE_DISK_MAX_MB = before;
  });
  delete process.env.LAB_ENGINE_DISK_MAX_MB;
  t.is(engineDiskBoundBytes(), 1024 * 1024 * 1024);
  fs.writeFileSync(path.join(dir, 'f'), Buffer.alloc(2 * 1024 * 1024, 1));
  t.regex(diskNote(dir), /^data root 2\.\d MB \(bound 1024 MB\)$/);
  process.env.LAB_ENGINE_DISK_MAX_MB = '1';
  t.regex(diskNote(dir), /OVER the bound/);
  t.is(tooLittleSpace(path.join(dir, 'not', 'yet'), 1), undefined);
  process.env.LAB_ENGINE_DISK_MAX_MB = String(1024 * 1024 * 1024);
  t.regex(tooLittleSpace(path.join(dir, 'not', 'yet'), 2) ?? '', /2 real Docker engine\(s\) may use up to .* free/);
});
