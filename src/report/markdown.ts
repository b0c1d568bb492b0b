/** report.md: what a person reads first: topology, variants, verdicts, the evidence that decided each. */
import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedLab } from '../lab/model.js';
import type { RunResult, VariantResult } from '../run/run-lab.js';
import { checkOf, expectationLine, expectedVerdictText, kernelsToMatchText } from '../run/expect.js';
import { kernelSelectorText } from '../lab/expect.js';
import { kernelLabel } from '../run/kernel-version.js';
import { mechanismText, outcomeText, verdictText } from './facets.js';
import type { VariantPictures } from './pictures.js';
import { intervalText, timelineLines } from './timeline.js';
import { throughputLines } from './throughput.js';

export function renderMarkdown(lab: ResolvedLab, run: RunResult, pictures?: VariantPictures[]): string {
  const lines: string[] = [];
  lines.push(`# ${lab.name}: ${lab.title}`, '');
  lines.push(
    `Run \`${run.runId}\` on provider \`${run.provider}\`, kernel \`${kernelLabel(run)}\`${run.engine ? `, ${run.engine}` : ''}, started ${run.startedAt}.`,
    '',
  );
  lines.push(lab.description.trim(), '');
  lines.push(`Upstream: ${lab.upstream.map((u) => `<${u}>`).join(', ')}`, '');
  lines.push('## Verdicts', '', '| variant | verdict | expected | reason |', '|---|---|---|---|');
  const kernel = kernelsToMatchText(run);
  for (const v of run.variants) lines.push(`| ${v.name} | **${verdictText(v)}** | ${escapeCell(expectedCell(v, kernel))} | ${escapeCell(v.reason)} |`);
  lines.push('', '## Topology', '', ...topologyLines(lab), '');
  run.variants.forEach((v, i) => lines.push(...variantSection(v, kernel, pictures?.[i])));
  return `${lines.join('\n')}\n`;
}

export function topologyLines(lab: ResolvedLab): string[] {
  const lines = ['| node | kind | interfaces | routes |', '|---|---|---|---|'];
  for (const n of lab.nodes) {
    const ifaces = n.interfaces.map((i) => `${i.name} ${i.address}/${i.prefix}${i.peer ? ` → ${i.peer.node}` : ''}`);
    if (n.docker) ifaces.push(`${n.docker.bridge} ${n.docker.gateway}/${n.docker.prefix} (NAT)`);
    const kind =
      n.kind === 'container' ? `container on ${n.host}` : `${n.kind}${n.profile !== 'plain' ? ` (${n.profile})` : ''}${n.kernel ? `, kernel ${n.kernel}` : ''}`;
    lines.push(`| ${n.name} | ${kind} | ${ifaces.join('<br>')} | ${n.routes.map((r) => `${r.to} via ${r.via}`).join('<br>') || '—'} |`);
  }
  return lines;
}

/** "REPRODUCED on >=6.1", the difference spelled out, or "unchecked" and why (nothing, or unknown, expected on this kernel). */
export function expectedCell(v: VariantResult, kernel: string): string {
  const check = { expected: v.expected ?? null, matchesExpected: v.matchesExpected ?? null };
  if (checkOf(check) === 'differs' || !check.expected) return expectationLine(check, v.verdict, kernel);
  if (checkOf(check) === 'unchecked') return `unchecked: unknown on ${kernelSelectorText(check.expected.kernel)}`;
  return `${expectedVerdictText(check.expected)} on ${kernelSelectorText(check.expected.kernel)}`;
}

/** The why and source of an expectation, unless the cell already spelled out the why (a difference). */
function expectedDetail(v: VariantResult): string {
  if (!v.expected) return '';
  return checkOf(v) === 'differs' ? ` <${v.expected.source}>` : ` (${v.expected.why} <${v.expected.source}>)`;
}

/** Per capture point, per flow, the packets of each phase, and the marked moments: the timeline in words. */
function packetLines(pictures: VariantPictures | undefined): string[] {
  if (!pictures) return [];
  const throughput = throughputLines(pictures.progress, pictures.phases);
  if (!pictures.timelines.length || !Array.isArray(pictures.packets)) return throughput.length ? ['### Throughput', '', ...throughput] : [];
  const packets = pictures.packets;
  const every = [...new Set(pictures.timelines.map((tl) => intervalText(tl.interval)))].join(', ');
  const t0 = Math.min(...pictures.timelines.map((tl) => tl.t0));
  const moments = pictures.moments.map((m) => `- +${(m.t - t0).toFixed(3)} s: ${m.label}`);
  return [
    `### Flows${pictures.phases.length ? ' per phase' : ''} (report.html draws them per ${every})`,
    '',
    ...pictures.timelines.flatMap((tl) => timelineLines(tl, packets)),
    ...(moments.length ? ['Marked moments:', '', ...moments, ''] : []),
    ...throughput,
  ];
}

function variantSection(v: VariantResult, kernel: string, pictures?: VariantPictures): string[] {
  const lines = [`## Variant \`${v.name}\`: ${verdictText(v)}`, '', v.description.trim(), ''];
  if (v.overrides?.length) lines.push('Settings this variant overrode (its lab was built with them):', '', ...v.overrides.map((o) => `- \`${o}\``), '');
  if (v.changes.length) lines.push('Changes applied for this variant:', '', ...v.changes.map((c) => `- \`${c}\``), '');
  lines.push(`**Verdict:** ${verdictText(v)}. ${v.reason}`, '');
  if (v.outcome) lines.push(`**Outcome:** ${outcomeText(v.outcome)}`, '');
  if (v.mechanism) lines.push(`**Mechanism:** ${mechanismText(v.mechanism)}`, '');
  lines.push(`Decided by: ${v.decidedBy.map((d) => `\`${d}\``).join(', ')}`, '');
  lines.push(`**Expected:** ${expectedCell(v, kernel)}${expectedDetail(v)}`, '');
  lines.push(...packetLines(pictures));
  const files = collectFiles(v.evidence);
  if (files.length) lines.push('Artifacts:', '', ...files.map((f) => `- [${f}](${f})`), '');
  lines.push('<details><summary>Evidence</summary>', '', '```json', JSON.stringify(v.evidence, null, 2), '```', '', '</details>', '');
  return lines;
}

function collectFiles(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string' && /\.(pcap|jsonl|txt)$/.test(value)) out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => collectFiles(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => collectFiles(v, out));
  return out;
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function writeMarkdown(lab: ResolvedLab, run: RunResult, pictures?: VariantPictures[]): string {
  const file = path.join(run.resultsDir, 'report.md');
  fs.writeFileSync(file, renderMarkdown(lab, run, pictures));
  return file;
}
