/** `snapshot: { name, matches }`: lines of a snapshot that match a regular expression. */
import * as z from 'zod';
import { measureKind } from '../kind.js';

export const snapshot = measureKind({
  schema: (k) =>
    z.strictObject({
      name: k.stepName,
      matches: z
        .string()
        .min(1, 'a regular expression of 1 to 200 characters')
        .max(200, 'a regular expression of at most 200 characters')
        .refine(isRegex, 'a regular expression'),
    }),
  check(spec, c, at) {
    c.known('snapshot', spec.name, 'a snapshot', [...at, 'name']);
  },
  label: (s) => `lines of ${s.name} matching /${s.matches}/`,
  measure(s, ev) {
    const snap = ev.rec.snapshots[s.name];
    if (!snap) return { value: null, missing: `snapshot ${s.name} was not taken` };
    if (snap.exitCode !== 0) return { value: null, missing: `snapshot ${s.name} (${snap.argv.join(' ')}) exited with ${snap.exitCode}` };
    const text = ev.readText(snap.file);
    if (text === undefined) return { value: null, missing: `snapshot ${s.name} is unreadable` };
    const body = text.split('\n').slice(1).join('\n').split('\n# stderr\n')[0]!;
    const re = new RegExp(s.matches);
    return { value: body.split('\n').filter((l) => re.test(l)).length };
  },
});

function isRegex(s: string): boolean {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}
