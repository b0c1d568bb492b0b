/** `agent: { name, node, run, args, readyTimeout }`: starts one of the generic agents on a node. */
import * as z from 'zod';
import { stepKind } from '../kind.js';
import { GENERIC_AGENTS, agentArgSchemas, type GenericAgentKind } from '../generic-agents.js';

export const agent = stepKind({
  schema: (k) =>
    z.strictObject({
      name: k.stepName,
      node: k.nodeName,
      run: z.enum(Object.keys(GENERIC_AGENTS) as [GenericAgentKind]),
      args: z.record(z.string(), z.unknown()).default({}),
      readyTimeout: k.seconds.default(15),
    }),
  editorSchema: (k) => {
    const args = agentArgSchemas();
    const each: z.ZodType[] = (Object.keys(GENERIC_AGENTS) as GenericAgentKind[]).map((run) =>
      z.strictObject({ name: k.stepName, node: k.nodeName, run: z.literal(run), args: args[run].optional(), readyTimeout: k.seconds.default(15) }),
    );
    return z.union(each as [z.ZodType, z.ZodType, ...z.ZodType[]]);
  },
  parse(spec, parseWith, at) {
    const args = parseWith(agentArgSchemas()[spec.run], spec.args, [...at, 'args']);
    if (args === undefined) return undefined;
    spec.args = args as Record<string, unknown>;
    return spec;
  },
  check(spec, c, at) {
    c.node(spec.node, [...at, 'node']);
    c.declare('agent', spec.name, [...at, 'name'], spec.run);
  },
  async execute(s, rt) {
    await rt.startAgent(s.node, s.name, GENERIC_AGENTS[s.run], agentArgs(s.args), s.readyTimeout * 1000);
  },
  clockNode: (s) => s.node,
});

/** { count: 5, connected: true } -> --count 5 --connected ; values were checked against the agent's schema. */
export function agentArgs(args: Record<string, unknown>): string[] {
  return Object.entries(args).flatMap(([k, v]) => {
    const flag = `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    if (v === false || v === undefined) return [];
    if (v === true) return [flag];
    return [flag, String(v)];
  });
}
