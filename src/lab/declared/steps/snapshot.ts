/** `snapshot: { name, node, of }`: one of a fixed set of listings (conntrack, ss, iptables...) saved to a file. */
import * as z from 'zod';
import { stepKind } from '../kind.js';

export const SNAPSHOTS = {
  conntrack: ['conntrack', '-L'],
  'conntrack-stats': ['conntrack', '-S'],
  ss: ['ss', '-tuanp'],
  iptables: ['iptables-save', '-c'],
  addresses: ['ip', '-o', 'address'],
  routes: ['ip', 'route'],
} as const;

export const snapshot = stepKind({
  schema: (k) => z.strictObject({ name: k.stepName, node: k.nodeName, of: z.enum(Object.keys(SNAPSHOTS) as [keyof typeof SNAPSHOTS]) }),
  check(spec, c, at) {
    c.node(spec.node, [...at, 'node']);
    c.declare('snapshot', spec.name, [...at, 'name']);
  },
  async execute(s, rt) {
    const argv = [...SNAPSHOTS[s.of]];
    const out = await rt.exec(s.node, argv);
    const text = out.stdout + (out.stderr ? `\n# stderr\n${out.stderr}` : '');
    const file = rt.writeArtifact(`snapshots/${s.name}.txt`, `# ${s.node}: ${argv.join(' ')} (exit ${out.exitCode})\n${text}`);
    rt.rec.snapshots[s.name] = { node: s.node, argv, file, exitCode: out.exitCode };
  },
});
