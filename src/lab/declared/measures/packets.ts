/** `packets: { capture, filter?, phase? }`: packets of a capture, matching a filter, within a phase. */
import * as z from 'zod';
import { measureKind } from '../kind.js';

export const packets = measureKind({
  schema: (k) => z.strictObject({ capture: k.stepName, filter: k.tcpdumpFilter.optional(), phase: k.stepName.optional() }),
  check(spec, c, at) {
    c.known('capture', spec.capture, 'a capture', [...at, 'capture']);
  },
  label: (s, inPhase) => `packets${s.filter ? ` matching "${s.filter}"` : ''} at ${s.capture}${inPhase}`,
  measure(s, ev) {
    const window = ev.window(ev.rec.captures[s.capture]?.node);
    if (window && 'missing' in window) return { value: null, missing: window.missing };
    return ev.countPackets(s.capture, s.filter, window);
  },
  filters: (s) => (s.filter ? [s.filter] : []),
});
