/** A recorded flood with phases and IP fragments (test/fixtures/report/udp-flood-phases) drawn by report.html, as Chromium shows it. */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { lab, root, tempHome } from '../helpers/cli.js';

const fixture = path.join(root, 'test', 'fixtures', 'report', 'udp-flood-phases', 'run');

async function reportOfFixture(): Promise<string> {
  const dir = path.join(tempHome('lab-pictures-'), 'run');
  fs.cpSync(fixture, dir, { recursive: true });
  const result = await lab(['report', dir]);
  if (result.code !== 0) throw new Error(result.stderr);
  return dir;
}

test('report.md counts each flow per phase and names the marked moment', async (t) => {
  const md = fs.readFileSync(path.join(await reportOfFixture(), 'report.md'), 'utf8');
  const keep = md.slice(md.indexOf('## Variant `keep-entry`'), md.indexOf('## Variant `delete-entry`'));
  t.regex(keep, /\| flow \| before \| move \| after \|/);
  t.regex(keep, /\| UDP 10\.41\.1\.2 → 10\.41\.2\.2:8125 \| 100 \| 0 \| 100 \|/, 'the flood kept going to the old backend after the move');
  t.regex(keep, /\| UDP 10\.41\.1\.2 → 10\.41\.2\.2 \(fragments\) \| 100 \| 0 \| 100 \|/);
  t.regex(keep, /Marked moments:\n\n- \+1\.\d{3} s: after: first datagram of an earlier flow, still to 10\.41\.2\.2 \(to-old\)\n/);
  t.is(keep.split('earlier flow').length, 2, 'the moment is listed once');
  const fixed = md.slice(md.indexOf('## Variant `delete-entry`'));
  t.regex(fixed, /\| UDP 10\.41\.1\.2 → 10\.41\.3\.2:8125 \| 0 \| 0 \| 100 \|/, 'the workaround: after the move the flood went to the new backend');
  t.notRegex(fixed, /earlier flow/, 'no moment marked where nothing went wrong');
});

test('report.html draws a timeline per capture point with its phases, the moment, and a ladder with gaps and fragments', async (t) => {
  const dir = await reportOfFixture();
  const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
  t.notRegex(
    html,
    /<script|<link|<img|<iframe|<[^>]*\ssrc=|@import|url\((?!#)/,
    "self-contained: no scripts, nothing fetched (the evidence quotes conntrack's src=, escaped)",
  );
  t.notRegex(html, /:0 → :0/, 'no fragment drawn as port 0');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`file://${path.join(dir, 'report.html')}`);
    const drawn = await page.evaluate(() => {
      type Box = { x: number; y: number; width: number; height: number };
      const overlap = (a: Box, b: Box) => a.x < b.x + b.width - 1 && b.x < a.x + a.width - 1 && a.y < b.y + b.height - 1 && b.y < a.y + a.height - 1;
      const problems: string[] = [];
      const timelines = Array.from(document.querySelectorAll<SVGSVGElement>('.timeline svg')).map((svg) => {
        const vb = svg.viewBox.baseVal;
        const labels = Array.from(svg.querySelectorAll<SVGTextElement>('text')).map((el) => ({ text: el.textContent ?? '', box: el.getBBox() }));
        for (const l of labels)
          if (l.box.x < vb.x || l.box.y < vb.y || l.box.x + l.box.width > vb.x + vb.width || l.box.y + l.box.height > vb.y + vb.height)
            problems.push(`${svg.getAttribute('aria-label')}: "${l.text}" leaves the picture`);
        labels.forEach((a, i) => labels.slice(i + 1).forEach((b) => overlap(a.box, b.box) && problems.push(`"${a.text}" overlaps "${b.text}"`)));
        const rect = svg.getBoundingClientRect();
        return {
          label: svg.getAttribute('aria-label'),
          phases: Array.from(svg.querySelectorAll('.phase-label')).map((e) => e.textContent),
          shaded: Array.from(svg.querySelectorAll<SVGRectElement>('rect.phase')).map((r) => r.getBBox().width),
          moments: Array.from(svg.querySelectorAll('.moment-label')).map((e) => e.textContent),
          flows: svg.querySelectorAll('polygon.flow').length,
          size: [rect.width, rect.height],
        };
      });
      const ladderText = Array.from(document.querySelectorAll('.ladder svg text')).map((e) => e.textContent ?? '');
      return { timelines, problems, ladderText };
    });
    t.deepEqual(
      drawn.timelines.map((tl) => tl.label),
      ['flow timeline: to-old', 'flow timeline: to-old', 'flow timeline: to-new'],
      'keep-entry: only to-old saw packets; delete-entry: both',
    );
    for (const tl of drawn.timelines) {
      t.deepEqual(tl.phases, ['before', 'move', 'after']);
      t.true(tl.shaded.every((w) => w >= 1) && tl.shaded[0]! > 100, 'the phases are shaded, the longer ones wide');
      t.is(tl.flows, 2);
      t.true(tl.size[0]! > 600 && tl.size[1]! > 150, 'the timeline has a real size on screen');
    }
    t.deepEqual(drawn.timelines[0]!.moments, ['after: first datagram of an earlier flow, still to 10.41.2.2 (to-old)']);
    t.deepEqual(drawn.timelines[1]!.moments, []);
    t.deepEqual(drawn.problems, []);
    t.true(
      drawn.ladderText.some((l) => /^… \d+ packets …$/.test(l)),
      'the ladder leaves packets out as gaps',
    );
    t.true(drawn.ladderText.includes('phase after') && drawn.ladderText.includes('phase before'));
    t.true(drawn.ladderText.some((l) => l.startsWith('▶ after: first datagram of an earlier flow')));
    t.true(drawn.ladderText.some((l) => / IP fragment id 0x[0-9a-f]+ offset 1480 \(UDP\)$/.test(l)));
    fs.mkdirSync(path.join(root, 'test-results'), { recursive: true });
    await page.screenshot({ path: path.join(root, 'test-results', 'report-udp-flood-phases.png'), fullPage: true });
    await page
      .locator('.timeline')
      .first()
      .screenshot({ path: path.join(root, 'test-results', 'timeline-udp-flood-phases.png') });
    t.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
