/**
 * The container transport on a VM: every docker command costs seconds under software emulation, so an
 * agent and its kit go in with one `docker cp` (the real thing runs in test/vms against Debian's Docker).
 */
import test from 'ava';
import { ContainerTransport } from '../../src/transport/container.js';
import type { Transport } from '../../src/transport/types.js';

function recordingHost(): { host: Transport; calls: string[] } {
  const calls: string[] = [];
  const host = {
    node: 'client',
    workDir: '/tmp/lab/client',
    exec: async (argv: readonly string[]) => {
      calls.push(`exec ${argv.join(' ')}`);
      return { stdout: '', stderr: '', exitCode: 0 };
    },
    start: () => {
      throw new Error('not used');
    },
    attach: async () => 0,
    put: async (local: string, remote: string) => void calls.push(`put ${local} ${remote}`),
    get: async () => undefined,
  } as unknown as Transport;
  return { host, calls };
}

test('putInto stages the files on the host and copies them with one docker cp; the folder is made once', async (t) => {
  const { host, calls } = recordingHost();
  const app = new ContainerTransport('app', host, 'lab-app');
  await app.putInto(['/src/agents/labagent.py', '/src/agents/rawtcp.py', '/src/agents/tcp_client.py'], '/tmp/lab/app/agents');
  t.deepEqual(calls, [
    'put /src/agents/labagent.py /tmp/lab/client/container-files/app/batch-1/labagent.py',
    'put /src/agents/rawtcp.py /tmp/lab/client/container-files/app/batch-1/rawtcp.py',
    'put /src/agents/tcp_client.py /tmp/lab/client/container-files/app/batch-1/tcp_client.py',
    'exec docker exec lab-app mkdir -p /tmp/lab/app/agents',
    'exec docker cp /tmp/lab/client/container-files/app/batch-1/. lab-app:/tmp/lab/app/agents',
  ]);
  calls.length = 0;
  await app.putInto(['/src/agents/oow_server.py'], '/tmp/lab/app/agents');
  t.deepEqual(calls, [
    'put /src/agents/oow_server.py /tmp/lab/client/container-files/app/batch-2/oow_server.py',
    'exec docker cp /tmp/lab/client/container-files/app/batch-2/. lab-app:/tmp/lab/app/agents',
  ]);
});

test("a container is as slow as the VM it runs in: waits scale by the host's slowdown", (t) => {
  const { host } = recordingHost();
  t.is(new ContainerTransport('app', host, 'lab-app').slowdown, undefined);
  t.is(new ContainerTransport('app', { ...host, slowdown: 6 } as Transport, 'lab-app').slowdown, 6);
});
