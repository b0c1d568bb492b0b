/** `capture: { name, node, iface | toward, filter? }`: tcpdump on one interface of a node until stopped or the end. */
import * as z from 'zod';
import { IFACE_NAME } from '../../names.js';
import { stepKind } from '../kind.js';

export const capture = stepKind({
  schema: (k) =>
    z
      .strictObject({
        name: k.stepName,
        node: k.nodeName,
        iface: z.string().regex(IFACE_NAME, 'an interface name').optional(),
        toward: k.nodeName.optional(),
        filter: k.tcpdumpFilter.optional(),
      })
      .refine(
        (c) => Boolean(c.iface) !== Boolean(c.toward),
        'either iface (an interface of the node) or toward (the node at the other end of a link), not both',
      ),
  check(spec, c, at) {
    c.node(spec.node, [...at, 'node']);
    const { node, toward } = spec;
    if (toward && !c.topo.linked.some(([a, b]) => (a === node && b === toward) || (b === node && a === toward))) {
      c.problem([...at, 'toward'], `no link joins ${spec.node} and ${spec.toward}`);
    }
    c.declare('capture', spec.name, [...at, 'name']);
  },
  async execute(s, rt) {
    const iface = s.iface ?? rt.interfaceToward(s.node, s.toward!);
    const filter = s.filter ? [s.filter.trim()] : [];
    await rt.startCapture(s.node, iface, s.name, filter);
    rt.rec.captures[s.name] = { node: s.node, iface, ...(s.filter ? { filter: s.filter } : {}), file: '', captured: null, droppedByKernel: null };
  },
  filters: (s) => (s.filter ? [s.filter] : []),
  clockNode: (s) => s.node,
});
