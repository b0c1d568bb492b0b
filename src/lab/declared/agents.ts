/**
 * What each generic agent declares of itself (its DECLARATION, printed by `<agent> --describe`): its semantics, the
 * counters of its summary and the events it writes. scripts/write-agents.ts collects them at build time into
 * schema/agents.json (and docs/agents.md); lab validate checks a lab file's counter and event names against them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../paths.js';
import type { GenericAgentKind } from './generic-agents.js';

export interface AgentDeclaration {
  kind: GenericAgentKind;
  semantics: string;
  counters: Record<string, string>;
  events: Record<string, string>;
}

export const AGENTS_FILE = path.join(packageRoot, 'schema', 'agents.json');

let loaded: Partial<Record<GenericAgentKind, AgentDeclaration>> | undefined;

/** The declarations by kind; empty when schema/agents.json is not built (names then go unchecked). */
export function agentDeclarations(): Partial<Record<GenericAgentKind, AgentDeclaration>> {
  if (!loaded) {
    try {
      loaded = JSON.parse(fs.readFileSync(AGENTS_FILE, 'utf8')) as Record<GenericAgentKind, AgentDeclaration>;
    } catch {
      loaded = {};
    }
  }
  return loaded;
}

/** Why a counter or event name is not one the agent declares, or undefined when it is (or nothing is known). */
export function undeclaredName(kind: GenericAgentKind, what: 'counter' | 'events', name: string): string | undefined {
  const declared = agentDeclarations()[kind];
  if (!declared) return undefined;
  const names = Object.keys(what === 'counter' ? declared.counters : declared.events);
  if (names.includes(name)) return undefined;
  return `found "${name}", expected ${what === 'counter' ? 'a counter' : 'an event'} of ${kind}: ${names.join(', ')} (docs/agents.md)`;
}
