/** The Engine API client against a stand-in daemon on a unix socket: the version a start reads from `GET /_ping`. */
import test from 'ava';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pingVersion, pingable } from '../../src/engines/api.js';

async function standIn(t: { teardown: (f: () => void) => void }, answer: (res: http.ServerResponse) => void): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-api-'));
  const socket = path.join(dir, 'docker.sock');
  const server = http.createServer((req, res) => (req.url === '/_ping' ? answer(res) : res.writeHead(404).end()));
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  t.teardown(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return socket;
}

test('the version comes from the Server header of the ping answer', async (t) => {
  const socket = await standIn(t, (res) => res.writeHead(200, { Server: 'Docker/26.1.5+dfsg1 (linux)' }).end('OK'));
  t.is(await pingVersion(socket), '26.1.5+dfsg1');
  t.true(await pingable(socket));
});

test('an answer without the header is still an answer, with no version in it', async (t) => {
  const socket = await standIn(t, (res) => res.writeHead(200).end('OK'));
  t.is(await pingVersion(socket), '');
  t.true(await pingable(socket));
});

test('a refusal or no daemon at all is no answer', async (t) => {
  const socket = await standIn(t, (res) => res.writeHead(500, { Server: 'Docker/20.10.24+dfsg1 (linux)' }).end('starting'));
  t.is(await pingVersion(socket), undefined);
  t.false(await pingable(path.join(path.dirname(socket), 'missing.sock')));
});
