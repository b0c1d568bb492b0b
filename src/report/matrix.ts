/** Verdicts of the same lab across runs: "which kernels still have this bug" as one table. */
import { LabError } from '../errors.js';
import type { RunResult, VariantResult } from '../run/run-lab.js';
import { esc } from './svg.js';

export interface Matrix {
  lab: string;
  columns: Array<{ kernel: string; provider: string; runId: string }>;
  rows: Array<{ variant: string; cells: string[]; differs: boolean[] }>;
}

/** A cell that differs from the run's expectation says so: "REPRODUCED ≠ expected NOT_REPRODUCED". */
function cell(v: VariantResult | undefined): { text: string; differs: boolean } {
  if (!v) return { text: '—', differs: false };
  if (v.matchesExpected === false && v.expected) return { text: `${v.verdict} ≠ expected ${v.expected.verdict}`, differs: true };
  return { text: v.verdict, differs: false };
}

export function buildMatrix(runs: RunResult[]): Matrix {
  const labs = [...new Set(runs.map((r) => r.lab))];
  if (labs.length !== 1) throw new LabError(`a matrix compares runs of one lab; these runs are of ${labs.join(', ')}`);
  const sorted = [...runs].sort((a, b) => a.kernel.localeCompare(b.kernel, undefined, { numeric: true }) || a.provider.localeCompare(b.provider) || a.runId.localeCompare(b.runId));
  const variants = [...new Set(sorted.flatMap((r) => r.variants.map((v) => v.name)))];
  return {
    lab: labs[0]!,
    columns: sorted.map((r) => ({ kernel: r.kernel, provider: r.provider, runId: r.runId })),
    rows: variants.map((variant) => {
      const cells = sorted.map((r) => cell(r.variants.find((v) => v.name === variant)));
      return { variant, cells: cells.map((c) => c.text), differs: cells.map((c) => c.differs) };
    }),
  };
}

export function matrixMarkdown(m: Matrix): string {
  const head = `| variant | ${m.columns.map((c) => `${c.kernel} (${c.provider})<br>${c.runId}`).join(' | ')} |`;
  const sep = `|---|${m.columns.map(() => '---').join('|')}|`;
  const rows = m.rows.map((r) => `| ${r.variant} | ${r.cells.map((c, i) => (r.differs[i] ? `**${c}**` : c)).join(' | ')} |`);
  const differing = m.rows.reduce((n, r) => n + r.differs.filter(Boolean).length, 0);
  const note = differing ? `\n${differing} cell(s) differ from what the lab file expects on that kernel (in bold).\n` : '';
  return `# ${m.lab}: verdicts across runs\n\n${head}\n${sep}\n${rows.join('\n')}\n${note}`;
}

export function matrixHtml(m: Matrix): string {
  const style = '.differs{outline:3px solid #c53030;font-weight:bold}' + 'td,th{border:1px solid #ccc;padding:4px 8px}.REPRODUCED{background:#fed7d7}.NOT_REPRODUCED{background:#c6f6d5}.INCONCLUSIVE{background:#fefcbf}table{border-collapse:collapse}body{font-family:sans-serif}';
  const head = `<tr><th>variant</th>${m.columns.map((c) => `<th>${esc(c.kernel)}<br>${esc(c.provider)}<br><small>${esc(c.runId)}</small></th>`).join('')}</tr>`;
  const td = (c: string, differs: boolean | undefined) => `<td class="${esc(c.split(' ')[0]!)}${differs ? ' differs' : ''}">${esc(c)}</td>`;
  const rows = m.rows.map((r) => `<tr><td>${esc(r.variant)}</td>${r.cells.map((c, i) => td(c, r.differs[i])).join('')}</tr>`).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(m.lab)} matrix</title><style>${style}</style></head><body><h1>${esc(m.lab)}: verdicts across runs</h1><table>${head}\n${rows}</table></body></html>\n`;
}
