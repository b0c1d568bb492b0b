/**
 * The guest's exec server starts services the way dockerd starts docker-proxy: a pipe on fd 3 for its readiness.
 * Run on this machine with python3, the server's `service` op answering over a pipe instead of the virtio port.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from '../helpers/cli.js';

const DRIVER = `
import json, os, sys
sys.path.insert(0, sys.argv[1])
import server
held = open("/dev/null")  # the server process has fds of its own above 2, as in the guest
r, w = os.pipe()
server.port = w
server.run_service({"id": 1, "argv": sys.argv[3:], "log": sys.argv[2], "readyMs": 5000})
print(os.read(r, 65536).decode().strip())
`;

// A service that is ready only when fd 3 is the pipe it was given, as docker-proxy assumes.
const SERVICE = 'import os, stat\nok = stat.S_ISFIFO(os.fstat(3).st_mode)\nos.write(3, b"0" if ok else b"1\\nfd 3 is not the readiness pipe")\n';

test('a service gets the readiness pipe on fd 3, even when the server holds fds of its own', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-guest-'));
  const log = path.join(dir, 'service.log');
  const out = execFileSync('python3', ['-c', DRIVER, path.join(root, 'guest'), log, 'python3', '-c', SERVICE], { encoding: 'utf8' });
  const answer = JSON.parse(out) as { id: number; readiness?: string; error?: string };
  t.is(answer.error, undefined, fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '');
  t.is(answer.readiness, 'ready');
  fs.rmSync(dir, { recursive: true, force: true });
});
