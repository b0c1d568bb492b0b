/**
 * Docker's Engine API over the daemon's unix socket, from this process: no docker client process per call (each one
 * costs 50 to 100 ms here), and a readiness probe (`GET /_ping`) cheap enough to poll every few milliseconds.
 * Unversioned paths: each daemon answers in its own API version.
 */
import http from 'node:http';
import { LabError } from '../errors.js';

export interface ApiReply {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

export function apiRequest(socket: string, method: string, urlPath: string, body?: unknown, timeoutMs = 60_000): Promise<ApiReply> {
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  const type = Buffer.isBuffer(body) ? 'application/x-tar' : 'application/json';
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        socketPath: socket,
        method,
        path: urlPath,
        headers: { Host: 'docker', ...(payload ? { 'Content-Type': type, 'Content-Length': payload.length } : {}) },
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: response.headers }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`${method} ${urlPath}: no answer in ${timeoutMs / 1000} s`)));
    request.on('error', reject);
    request.end(payload);
  });
}

/** A call that must succeed (2xx); its JSON answer, or the daemon's own message in a LabError. */
export async function api<T = unknown>(socket: string, method: string, urlPath: string, body?: unknown, what = `${method} ${urlPath}`): Promise<T> {
  const reply = await apiRequest(socket, method, urlPath, body);
  if (reply.status < 200 || reply.status >= 300) {
    let message = reply.body.trim();
    try {
      message = (JSON.parse(reply.body) as { message?: string }).message ?? message;
    } catch {
      // not JSON: the text as it came
    }
    throw new LabError(`Docker refused ${what}: ${message}`, { kind: 'failure' });
  }
  if (!reply.body.trim()) return undefined as T;
  try {
    return JSON.parse(reply.body) as T;
  } catch {
    return reply.body as T;
  }
}

/** The daemon answers its API (`GET /_ping` says OK). */
export async function pingable(socket: string): Promise<boolean> {
  return (await pingVersion(socket)) !== undefined;
}

/**
 * `GET /_ping` answered OK: the daemon's version, from the `Server: Docker/<version> (<os>)` header every dockerd sets
 * on every answer (moby's VersionMiddleware), so a start needs no `GET /version` after it; '' when the header is missing.
 * Undefined when it does not answer (yet).
 */
export async function pingVersion(socket: string): Promise<string | undefined> {
  try {
    const reply = await apiRequest(socket, 'GET', '/_ping', undefined, 2000);
    if (reply.status !== 200) return undefined;
    return /^Docker\/(\S+)/.exec(String(reply.headers.server ?? ''))?.[1] ?? '';
  } catch {
    return undefined;
  }
}
