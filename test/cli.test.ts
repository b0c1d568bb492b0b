/** The top level of the command line: a reader that goes away early (`lab list | head -1`) ends lab quietly, with 141. */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { envFor, lab, labCopy, labSpawn, root, tempHome } from './helpers/cli.js';
import { EXIT } from '../src/errors.js';

interface Ended {
  code: number | null;
  firstLine: string;
  stderr: string;
}

/** Runs lab with stdout read until its first line (or not at all, closeAt 'start'), then closed, as `| head -1` does. */
function readThenClose(args: string[], closeAt: 'first line' | 'start'): Promise<Ended> {
  const child = labSpawn(args, envFor(tempHome()));
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += String(chunk)));
  if (closeAt === 'start') child.stdout!.destroy();
  else
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += String(chunk);
      if (stdout.includes('\n')) child.stdout!.destroy();
    });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, firstLine: stdout.split('\n')[0]!, stderr })));
}

/** A copy of docker-1090 whose `lab show` prints about 700 kB: more than a pipe holds, so lab is still writing when the reader goes. */
function bigLab(): string {
  const file = labCopy('docker-1090', 'big-output', tempHome());
  const doc = parse(fs.readFileSync(file, 'utf8')) as { variants: Record<string, { description: string }> };
  for (let i = 0; i < 300; i++) doc.variants[`filler-${i}`] = { description: `filler ${i} `.repeat(250) };
  fs.writeFileSync(file, stringify(doc));
  return file;
}

function quietly(t: import('ava').ExecutionContext, ended: Ended) {
  t.is(ended.code, EXIT.outputClosed, ended.stderr);
  t.notRegex(ended.stderr, /EPIPE|\n\s+at .*:\d+:\d+/, 'no EPIPE, no stack trace');
  t.is(ended.stderr, '');
}

test('a reader that closes after the first line ends lab quietly with 141 while it is still writing', async (t) => {
  const ended = await readThenClose(['show', bigLab()], 'first line');
  t.is(ended.firstLine, 'big-output: A segment conntrack marks INVALID skips the de-NAT, and the client host answers RST');
  quietly(t, ended);
});

test('a reader gone before lab writes anything: list, show and matrix end quietly with 141', async (t) => {
  const run = path.join(root, 'test', 'fixtures', 'runs', 'docker-1090');
  for (const args of [['list'], ['show', 'docker-1090'], ['matrix', run]]) quietly(t, await readThenClose(args, 'start'));
});

test('a reader that reads everything: the same show exits 0', async (t) => {
  const result = await lab(['show', bigLab()], envFor(tempHome()));
  t.is(result.code, EXIT.ok, result.stderr);
  t.true(result.stdout.length > 600_000, `${result.stdout.length} bytes`);
});
