/**
 * The generic agents' declarations: docs/agents.md and schema/agents.json are what the agents say of themselves, a
 * counter or event name they do not declare is a lab-file error naming the valid ones, and what an agent declares is
 * what its summary really holds (each pair run for a moment on this machine's loopback).
 */
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { lab, root, tempHome } from '../helpers/cli.js';
import { agentDeclarations } from '../../src/lab/declared/agents.js';
import { GENERIC_AGENTS, type GenericAgentKind } from '../../src/lab/declared/spec.js';

test('schema/agents.json and docs/agents.md are up to date with the agents', async (t) => {
  const code = await new Promise<number | null>((resolve) => {
    execFile(process.execPath, [path.join(root, 'dist', 'scripts', 'write-agents.js'), '--check'], (error) => resolve(error ? (error.code as number) : 0));
  });
  t.is(code, 0, 'npm run build rewrites them');
  t.deepEqual(Object.keys(agentDeclarations()).sort(), Object.keys(GENERIC_AGENTS).sort(), 'every generic agent declares itself');
});

test("a misspelled counter or event fails lab validate, listing the agent's names", async (t) => {
  const home = tempHome();
  const source = fs.readFileSync(path.join(root, 'labs', 'udp-stale-dnat', 'lab.yaml'), 'utf8');
  const file = path.join(home, 'lab.yaml');
  fs.writeFileSync(
    file,
    source
      .replace('{ name: first, counter: received }', '{ name: first, counter: recieved }')
      .replace('{ name: watcher, events: new, phase: after }', '{ name: watcher, events: created, phase: after }'),
  );
  const result = await lab(['validate', file]);
  t.is(result.code, 2);
  t.regex(result.stderr, /counter: found "recieved", expected a counter of udp-client: sent, received, late, errors, replySources/);
  t.regex(result.stderr, /events: found "created", expected an event of conntrack-watcher: ready, new, update, destroy, error/);
});

test("packets after an agent's event: a misspelled event or an unknown agent fails lab validate", async (t) => {
  const home = tempHome();
  const source = fs.readFileSync(path.join(root, 'labs', 'docker-1090-declared', 'lab.yaml'), 'utf8');
  const file = path.join(home, 'lab.yaml');
  const misspelled = source.replace(
    'after: { agent: injector, event: injected } }\n          atLeast',
    'after: { agent: injector, event: injection } }\n          atLeast',
  );
  t.not(misspelled, source);
  fs.writeFileSync(file, misspelled.replace('after: { agent: injector, event: injected } }', 'after: { agent: forger, event: injected } }'));
  const result = await lab(['validate', file]);
  t.is(result.code, 2);
  t.regex(result.stderr, /after\.event: found "injection", expected an event of tcp-injector: ready, connection, injected, error/);
  t.regex(result.stderr, /after\.agent: found "forger", expected an agent declared by an earlier step/);
});

interface Summary {
  event: string;
  [key: string]: unknown;
}

/** Runs an agent with its arguments until it ends (or is stopped), returning its summary. */
function runAgent(kind: GenericAgentKind, args: string[], stopAfterMs?: number): Promise<Summary | undefined> {
  return new Promise((resolve) => {
    const child = spawn('python3', ['-S', path.join(root, 'agents', GENERIC_AGENTS[kind]), ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    if (stopAfterMs) setTimeout(() => child.kill('SIGTERM'), stopAfterMs);
    child.on('exit', () =>
      resolve(
        out
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Summary)
          .find((e) => e.event === 'summary'),
      ),
    );
  });
}

// tcp-injector needs a live connection and a raw socket, conntrack-watcher root and conntrack: both run in the lab tests.
const pairs: Array<{ server: [GenericAgentKind, string[]]; client: [GenericAgentKind, string[]] }> = [
  {
    server: ['udp-server', ['--port', '47001', '--bind', '127.0.0.1', '--duration', '4']],
    client: ['udp-client', ['--to', '127.0.0.1', '--port', '47001', '--count', '3', '--rate', '20']],
  },
  {
    server: ['tcp-server', ['--port', '47002', '--bind', '127.0.0.1', '--duration', '4']],
    client: ['tcp-client', ['--to', '127.0.0.1', '--port', '47002', '--count', '3', '--rate', '20']],
  },
  {
    server: ['tcp-bulk-server', ['--port', '47003', '--bind', '127.0.0.1', '--bytes', '3000000', '--duration', '8']],
    client: ['tcp-bulk-client', ['--to', '127.0.0.1', '--port', '47003', '--bytes', '3000000']],
  },
  {
    server: ['tcp-server', ['--port', '47005', '--bind', '127.0.0.1', '--duration', '4']],
    client: ['tcp-flows', ['--to', '127.0.0.1', '--port', '47005', '--flows', '5', '--rate', '50', '--hold', '0.2']],
  },
  {
    server: ['udp-sink', ['--port', '47004', '--bind', '127.0.0.1', '--duration', '3']],
    client: ['udp-flood', ['--to', '127.0.0.1', '--port', '47004', '--rate', '200', '--duration', '1', '--flows', '2']],
  },
];

for (const { server, client } of pairs)
  test.serial(`${server[0]} and ${client[0]}: every declared counter is in the real summary`, async (t) => {
    const served = runAgent(...server);
    await new Promise((r) => setTimeout(r, 700));
    const asked = await runAgent(...client);
    const answered = await served;
    for (const [kind, summary] of [
      [client[0], asked],
      [server[0], answered],
    ] as const) {
      t.truthy(summary, `${kind} wrote a summary`);
      for (const counter of Object.keys(agentDeclarations()[kind]!.counters)) {
        const value = summary?.[counter];
        t.true(typeof value === 'number' || Array.isArray(value), `${kind}'s summary has ${counter} as a number or a list (${JSON.stringify(value)})`);
      }
    }
  });
