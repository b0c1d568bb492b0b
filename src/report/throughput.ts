/**
 * Throughput over time from the agents' own progress events (the bulk agents report bytes and bits per second every
 * interval): a picture for runs whose captures hold only the few packets a verdict needs, or none.
 */
import fs from 'node:fs';
import { intervalFor, intervalText, phaseAt, type Moment, type PhaseWindow, type Timeline } from './timeline.js';

export interface Progress {
  t: number;
  bps: number;
}

/** An agent log's progress events (event "progress" with t and bps); an unreadable log or line gives none. */
export function progressOf(file: string): Progress[] {
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return content.split('\n').flatMap((line) => {
    try {
      const e = JSON.parse(line) as { event?: unknown; t?: unknown; bps?: unknown };
      return e.event === 'progress' && typeof e.t === 'number' && typeof e.bps === 'number' ? [{ t: e.t, bps: e.bps }] : [];
    } catch {
      return [];
    }
  });
}

/** Each report covers the time since the one before it (the first, the typical gap before it). */
function spans(progress: Progress[]): Array<Progress & { from: number }> {
  const gaps = progress
    .slice(1)
    .map((p, i) => p.t - progress[i]!.t)
    .sort((a, b) => a - b);
  const typical = gaps[Math.floor(gaps.length / 2)] ?? 1;
  return progress.map((p, i) => ({ ...p, from: i === 0 ? p.t - typical : progress[i - 1]!.t }));
}

/** One series per agent that reported progress, in Mbit/s: each interval shows the report that covers its middle. */
export function throughputTimeline(agents: Array<{ name: string; progress: Progress[] }>, phases: PhaseWindow[], moments: Moment[]): Timeline | null {
  const reporting = agents.filter((a) => a.progress.length > 0).map((a) => ({ name: a.name, spans: spans(a.progress) }));
  if (reporting.length === 0) return null;
  const times = [...reporting.flatMap((a) => a.spans.flatMap((p) => [p.from, p.t])), ...phases.flatMap((p) => [p.start, p.end])];
  const t0 = Math.min(...times);
  const interval = intervalFor(Math.max(...times) - t0 || 0.001);
  const buckets = Math.floor((Math.max(...times) - t0) / interval + 1e-9) + 1;
  const flows = reporting.map((a) => {
    const counts = Array.from({ length: buckets }, (_, b) => {
      const middle = t0 + (b + 0.5) * interval;
      const covering = a.spans.find((p) => p.from < middle && middle <= p.t);
      return covering ? Math.round(covering.bps / 1e5) / 10 : 0;
    });
    const peak = Math.max(...a.spans.map((p) => Math.round(p.bps / 1e5) / 10));
    return { flow: a.name, total: peak, counts, note: `peak ${peak} Mbit/s, ${a.spans.length} reports` };
  });
  const end = t0 + buckets * interval;
  return {
    hop: 'agents',
    t0,
    interval,
    buckets,
    flows,
    phases,
    moments: moments.filter((m) => m.t >= t0 && m.t <= end),
    caption: `Mbit/s the agents reported, each report drawn over the time it covers, stacked (shown per ${intervalText(interval)})`,
  };
}

/** report.md's version: each agent's mean reported Mbit/s in each phase, a report counted in the phase of the middle of its time. */
export function throughputLines(agents: Array<{ name: string; progress: Progress[] }>, phases: PhaseWindow[]): string[] {
  const reporting = agents.filter((a) => a.progress.length > 0).map((a) => ({ name: a.name, spans: spans(a.progress) }));
  if (reporting.length === 0) return [];
  const outside = phases.length ? 'outside phases' : 'whole run';
  const phaseOf = (p: Progress & { from: number }) => phaseAt(phases, (p.from + p.t) / 2) ?? outside;
  const columns = [...phases.map((p) => p.name), ...(reporting.some((a) => a.spans.some((p) => phaseOf(p) === outside)) ? [outside] : [])];
  const mean = (values: number[]) => (values.length ? (values.reduce((a, b) => a + b, 0) / values.length / 1e6).toFixed(1) : '—');
  return [
    'Throughput the agents reported (mean Mbit/s of their progress events):',
    '',
    `| agent | ${columns.join(' | ')} |`,
    `|---|${columns.map(() => '---:|').join('')}`,
    ...reporting.map((a) => `| ${a.name} | ${columns.map((c) => mean(a.spans.filter((p) => phaseOf(p) === c).map((p) => p.bps))).join(' | ')} |`),
    '',
  ];
}
