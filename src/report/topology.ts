/** The lab's topology as SVG, Mermaid and DOT: hosts, containers, routers, links with subnets, NAT points. */
import type { ResolvedLab, ResolvedNode } from '../lab/model.js';
import { esc, svgDoc, text } from './svg.js';

interface Placed {
  node: ResolvedNode;
  x: number;
  y: number;
}

const BOX_W = 200;
const BOX_H = 78;
/** Room between columns for a link's subnet label ("10.100.200.0/24 (impaired)" at 12px, ~150 px). */
const GAP = 170;

/** Columns by hops along the links from the first node; containers sit under their host. */
export function layout(lab: ResolvedLab): Placed[] {
  const infra = lab.nodes.filter((n) => n.kind !== 'container');
  const depth = new Map<string, number>();
  const queue = infra.length ? [infra[0]!.name] : [];
  if (queue[0]) depth.set(queue[0], 0);
  while (queue.length) {
    const name = queue.shift()!;
    for (const link of lab.links) {
      const names = link.endpoints.map((e) => e.node);
      if (!names.includes(name)) continue;
      for (const other of names) {
        if (!depth.has(other)) {
          depth.set(other, depth.get(name)! + 1);
          queue.push(other);
        }
      }
    }
  }
  let extra = Math.max(0, ...depth.values()) + 1;
  for (const n of infra) if (!depth.has(n.name)) depth.set(n.name, extra++);
  const rows = new Map<number, number>();
  const placed: Placed[] = [];
  for (const n of infra) {
    const col = depth.get(n.name)!;
    const row = rows.get(col) ?? 0;
    rows.set(col, row + 1);
    placed.push({ node: n, x: 30 + col * (BOX_W + GAP), y: 30 + row * (BOX_H * 2 + 80) });
  }
  for (const c of lab.nodes.filter((n) => n.kind === 'container')) {
    const host = placed.find((p) => p.node.name === c.host)!;
    const siblings = placed.filter((p) => p.node.host === c.host).length;
    placed.push({ node: c, x: host.x + siblings * 30, y: host.y + BOX_H + 70 + siblings * (BOX_H + 20) });
  }
  return placed;
}

export function topologySvg(lab: ResolvedLab): string {
  const placed = layout(lab);
  const at = (name: string) => placed.find((p) => p.node.name === name)!;
  const body: string[] = [];
  // Subnet labels are drawn last, over the links and between the boxes (the gap is sized for them).
  const labels: string[] = [];
  for (const link of lab.links) {
    const [a, b] = link.endpoints.map((e) => at(e.node));
    const [ax, ay, bx, by] = [a!.x + BOX_W / 2, a!.y + BOX_H / 2, b!.x + BOX_W / 2, b!.y + BOX_H / 2];
    body.push(`<line class="link" x1="${ax}" y1="${ay}" x2="${bx}" y2="${by}" stroke="#555" stroke-width="2"/>`);
    const mtus = [...new Set(link.endpoints.map((e) => lab.nodes.find((n) => n.name === e.node)?.interfaces.find((i) => i.name === e.iface)?.mtu ?? 1500))];
    const shaped = (link.impairments.length ? ' (impaired)' : '') + (mtus.some((m) => m !== 1500) ? ` mtu ${mtus.join('/')}` : '');
    labels.push(text((ax + bx) / 2, (ay + by) / 2 - 6, `${link.subnet}${shaped}`, 'class="subnet" fill="#333" text-anchor="middle"'));
  }
  for (const p of placed.filter((q) => q.node.kind === 'container')) {
    const host = at(p.node.host!);
    body.push(
      `<line class="bridge-port" x1="${host.x + 40}" y1="${host.y + BOX_H}" x2="${p.x + 40}" y2="${p.y}" stroke="#2b6cb0" stroke-dasharray="5,3" stroke-width="2"/>`,
    );
  }
  for (const p of placed) body.push(nodeBox(p));
  body.push(...labels);
  const width = Math.max(...placed.map((p) => p.x)) + BOX_W + 40;
  const height = Math.max(...placed.map((p) => p.y)) + BOX_H + 40;
  return svgDoc(width, height, body, `topology of ${lab.name}`);
}

function nodeBox({ node, x, y }: Placed): string {
  const fill = node.kind === 'router' ? '#fefcbf' : node.kind === 'container' ? '#ebf8ff' : '#f0fff4';
  const lines = [
    `${node.name} (${node.kind === 'container' ? 'container' : node.kind}${node.profile !== 'plain' && node.kind !== 'container' ? `, ${node.profile}` : ''})`,
  ];
  for (const i of node.interfaces) lines.push(`${i.name} ${i.address}/${i.prefix}`);
  if (node.docker) lines.push(`${node.docker.bridge} ${node.docker.gateway}/${node.docker.prefix} NAT`);
  const h = Math.max(BOX_H, 18 + lines.length * 15);
  const out = [`<g class="node" data-node="${esc(node.name)}"><rect x="${x}" y="${y}" width="${BOX_W}" height="${h}" rx="6" fill="${fill}" stroke="#333"/>`];
  lines.forEach((l, i) => out.push(text(x + 8, y + 18 + i * 15, l, i === 0 ? 'font-weight="bold"' : '')));
  if (node.docker)
    out.push(
      `<g class="nat"><rect x="${x + BOX_W - 44}" y="${y - 10}" width="40" height="18" rx="4" fill="#c53030"/>${text(x + BOX_W - 36, y + 3, 'NAT', 'fill="white" font-weight="bold"')}</g>`,
    );
  out.push('</g>');
  return out.join('');
}

const mid = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');

export function topologyMermaid(lab: ResolvedLab): string {
  const lines = ['graph LR'];
  for (const n of lab.nodes) {
    const addrs = n.interfaces.map((i) => `${i.name} ${i.address}`).join('<br/>');
    const shape = n.kind === 'router' ? ['{{', '}}'] : n.kind === 'container' ? ['([', '])'] : ['[', ']'];
    lines.push(`  ${mid(n.name)}${shape[0]}"${n.name}<br/>${addrs}${n.docker ? `<br/>${n.docker.bridge} NAT ${n.docker.subnet}` : ''}"${shape[1]}`);
  }
  for (const l of lab.links) lines.push(`  ${mid(l.endpoints[0].node)} ---|${l.subnet}| ${mid(l.endpoints[1].node)}`);
  for (const c of lab.nodes.filter((n) => n.kind === 'container')) lines.push(`  ${mid(c.host!)} -.-|docker0| ${mid(c.name)}`);
  return `${lines.join('\n')}\n`;
}

export function topologyDot(lab: ResolvedLab): string {
  const q = (s: string) => `"${s.replace(/"/g, '\\"')}"`;
  const lines = [`graph ${q(lab.name)} {`, '  rankdir=LR;', '  node [fontname="sans-serif"];'];
  for (const n of lab.nodes) {
    const shape = n.kind === 'router' ? 'diamond' : n.kind === 'container' ? 'ellipse' : 'box';
    const addrs = n.interfaces.map((i) => `${i.name} ${i.address}`).join('\\n');
    lines.push(`  ${q(n.name)} [shape=${shape}, label=${q(`${n.name}\\n${addrs}${n.docker ? `\\n${n.docker.bridge} NAT` : ''}`)}];`);
  }
  for (const l of lab.links) lines.push(`  ${q(l.endpoints[0].node)} -- ${q(l.endpoints[1].node)} [label=${q(l.subnet)}];`);
  for (const c of lab.nodes.filter((n) => n.kind === 'container')) lines.push(`  ${q(c.host!)} -- ${q(c.name)} [style=dashed, label="docker0"];`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
