import fs from 'node:fs';
import path from 'node:path';
import { cacheHome } from '../../paths.js';

/** Docker's userland proxy: LAB_DOCKER_PROXY, else the copy scripts/fetch-docker-proxy.sh unpacks, else an installed one. */
export function dockerProxyPath(): string {
  if (process.env.LAB_DOCKER_PROXY) return path.resolve(process.env.LAB_DOCKER_PROXY);
  const cached = path.join(cacheHome(), 'docker-proxy', 'docker-proxy');
  if (fs.existsSync(cached)) return cached;
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/libexec/docker']) {
    const candidate = path.join(dir, 'docker-proxy');
    if (fs.existsSync(candidate)) return candidate;
  }
  return cached;
}
