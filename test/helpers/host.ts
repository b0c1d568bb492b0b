/** The root network namespace as a text snapshot: what a lab must leave byte-identical. */
import { sh } from './cli.js';

export async function rootSnapshot(): Promise<string> {
  const parts = await Promise.all([
    sh('ip', ['-d', 'link', 'show']),
    sh('ip', ['addr', 'show']),
    sh('ip', ['route', 'show', 'table', 'all']),
    sh('ip', ['rule', 'show']),
    sh('iptables-save', []).then((s) =>
      s
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .join('\n'),
    ),
    sh('nft', ['list', 'ruleset']),
  ]);
  return parts.join('\n----\n').replace(/ (rx|tx)_bytes \d+/g, '');
}

export async function namespacesWithPrefix(prefix: string): Promise<string[]> {
  const out = await sh('ip', ['netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n && n.startsWith(prefix));
}

export async function processesMatching(pattern: string): Promise<string[]> {
  try {
    return (await sh('pgrep', ['-af', pattern])).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
