/** Verdicts of the same lab across runs: "which kernels still have this bug" as one table. */
import { LabError } from '../errors.js';
import type { RunResult } from '../run/run-lab.js';
import { esc } from './svg.js';

export interface Matrix {
  lab: string;
  columns: Array<{ kernel: string; provider: string; runId: string }>;
  rows: Array<{ variant: string; cells: string[] }>;
}

export function buildMatrix(runs: RunResult[]): Matrix {
  const labs = [...new Set(runs.map((r) => r.lab))];
  if (labs.length !== 1) throw new LabError(`a matrix compares runs of one lab; these runs are of ${labs.join(', ')}`);
  const sorted = [...runs].sort((a, b) => a.kernel.localeCompare(b.kernel, undefined, { numeric: true }) || a.provider.localeCompare(b.provider) || a.runId.localeCompare(b.runId));
  const variants = [...new Set(sorted.flatMap((r) => r.variants.map((v) => v.name)))];
  return {
    lab: labs[0]!,
    columns: sorted.map((r) => ({ kernel: r.kernel, provider: r.provider, runId: r.runId })),
    rows: variants.map((variant) => ({ variant, cells: sorted.map((r) => r.variants.find((v) => v.name === variant)?.verdict ?? '—') })),
  };
}

export function matrixMarkdown(m: Matrix): string {
  const head = `| variant | ${m.columns.map((c) => `${c.kernel} (${c.provider})<br>${c.runId}`).join(' | ')} |`;
  const sep = `|---|${m.columns.map(() => '---').join('|')}|`;
  return `# ${m.lab}: verdicts across runs\n\n${head}\n${sep}\n${m.rows.map((r) => `| ${r.variant} | ${r.cells.join(' | ')} |`).join('\n')}\n`;
}

export function matrixHtml(m: Matrix): string {
  const style = 'td,th{border:1px solid #ccc;padding:4px 8px}.REPRODUCED{background:#fed7d7}.NOT_REPRODUCED{background:#c6f6d5}.INCONCLUSIVE{background:#fefcbf}table{border-collapse:collapse}body{font-family:sans-serif}';
  const head = `<tr><th>variant</th>${m.columns.map((c) => `<th>${esc(c.kernel)}<br>${esc(c.provider)}<br><small>${esc(c.runId)}</small></th>`).join('')}</tr>`;
  const rows = m.rows.map((r) => `<tr><td>${esc(r.variant)}</td>${r.cells.map((c) => `<td class="${esc(c)}">${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(m.lab)} matrix</title><style>${style}</style></head><body><h1>${esc(m.lab)}: verdicts across runs</h1><table>${head}\n${rows}</table></body></html>\n`;
}
