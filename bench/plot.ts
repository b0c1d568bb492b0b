/** Small SVG charts for the bench page, drawn here (no plotting library): log-log lines and paired bars. */
export interface Series {
  name: string;
  points: Array<[number, number]>;
}

const W = 640;
const H = 360;
const M = { left: 64, right: 190, top: 34, bottom: 46 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) for (const m of [1, 2, 5]) out.push(m * 10 ** e);
  return out.filter((v) => v >= lo && v <= hi);
}

/** Lines on log-log axes, one per series, legend on the right. */
export function logLogChart(title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const all = series.flatMap((s) => s.points).filter(([x, y]) => x > 0 && y > 0);
  if (all.length === 0) return '';
  const [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  const [y0, y1] = [Math.min(...all.map((p) => p[1])) / 1.5, Math.max(...all.map((p) => p[1])) * 1.5];
  const sx = (x: number) => M.left + ((Math.log10(x) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0) || 1)) * (W - M.left - M.right);
  const sy = (y: number) => H - M.bottom - ((Math.log10(y) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0) || 1)) * (H - M.top - M.bottom);
  const xs = [...new Set(all.map((p) => p[0]))].sort((a, b) => a - b);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#333"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="#333"/>`,
    ...xs.map((x) => `<text x="${sx(x).toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle">${x}</text>`),
    ...decades(y0, y1).map(
      (y) =>
        `<line x1="${M.left}" y1="${sy(y).toFixed(1)}" x2="${W - M.right}" y2="${sy(y).toFixed(1)}" stroke="#eee"/><text x="${M.left - 6}" y="${(sy(y) + 4).toFixed(1)}" text-anchor="end">${y >= 1000 ? `${y / 1000} s` : `${y} ms`}</text>`,
    ),
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(14 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  ];
  series.forEach((s, i) => {
    const pts = s.points.filter(([x, y]) => x > 0 && y > 0).sort((a, b) => a[0] - b[0]);
    const color = COLORS[i % COLORS.length];
    if (pts.length)
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
        ...pts.map(([x, y]) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${color}"/>`),
      );
    parts.push(
      `<rect x="${W - M.right + 12}" y="${M.top + i * 20}" width="12" height="3" fill="${color}"/><text x="${W - M.right + 30}" y="${M.top + i * 20 + 5}">${esc(s.name)}${pts.length ? '' : ' (none)'}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Horizontal bars, one group per label with one bar per measure (e.g. serial and concurrent). */
export function groupedBars(title: string, unit: string, measures: string[], groups: Array<{ label: string; values: Array<number | null> }>): string {
  if (groups.length === 0) return '';
  const bar = 14;
  const groupH = measures.length * bar + 12;
  const left = 170;
  const right = 90;
  const height = 40 + groups.length * groupH + 20 * measures.length + 10;
  const max = Math.max(1, ...groups.flatMap((g) => g.values.filter((v): v is number => v !== null)));
  const sx = (v: number) => (v / max) * (W - left - right);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  groups.forEach((g, gi) => {
    const y = 34 + gi * groupH;
    parts.push(`<text x="${left - 8}" y="${y + (measures.length * bar) / 2 + 4}" text-anchor="end">${esc(g.label)}</text>`);
    g.values.forEach((v, mi) => {
      const by = y + mi * bar;
      parts.push(
        v === null
          ? `<text x="${left + 4}" y="${by + 11}" fill="#888">not measured</text>`
          : `<rect x="${left}" y="${by}" width="${sx(v).toFixed(1)}" height="${bar - 2}" fill="${COLORS[mi % COLORS.length]}"/><text x="${(left + sx(v) + 4).toFixed(1)}" y="${by + 11}">${(v / 1000).toFixed(1)} ${unit}</text>`,
      );
    });
  });
  const ly = 34 + groups.length * groupH + 6;
  measures.forEach((m, mi) =>
    parts.push(
      `<rect x="${left}" y="${ly + mi * 20}" width="12" height="12" fill="${COLORS[mi % COLORS.length]}"/><text x="${left + 18}" y="${ly + mi * 20 + 10}">${esc(m)}</text>`,
    ),
  );
  parts.push('</svg>');
  return parts.join('\n');
}
