// A shared analysis file must be safe to open (issue 10, item 3). Before: the validator accepted
// strings in model.totalParams, objective.batches and objective.batchSize, the page inserted them
// unescaped, and `rnnscope report` on a crafted file ran script when the page was opened (two
// alerts in Chromium). Now every field is type-checked, every value reaches the page escaped or as
// text, and a Content-Security-Policy lets only the page's own scripts run.
//
// 1. Every field of the schema (walked from the fixtures) set to markup: a field that is not a
//    string type is refused, naming it; a string field is accepted.
// 2. Every string field set to markup at once, one page per payload, opened in Chromium: no dialog
//    fires, nothing injected exists in the page, the payload shows as text, every chart draws, and
//    the console stays silent (a CSP violation of the page's own scripts would be an error there).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { validateReportInput } from '../src/analysis/validate.js';
import type { Analysis, AnalysisSet } from '../src/analysis/schema.js';
import { DataError } from '../src/model/errors.js';
import { contentSecurityPolicy, reportHtml } from '../src/report/html.js';
import { readBundles } from '../src/report/render-node.js';
import { launchChromium } from './helpers/browser.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`./fixtures/analysis/${name}`, import.meta.url), 'utf8'));

const PAYLOADS = [
  '<img src=x onerror=alert(1)>',
  '</script><script>alert(2)</script>',
  '"><svg onload=alert(3)>',
  'javascript:alert(4)//\'><a href="javascript:alert(5)">x</a>',
];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every leaf path of `x` (arrays by their first element: the schema is the same for all). */
function leaves(x: Json, at = '$'): { path: string; value: Json }[] {
  if (Array.isArray(x)) return x.length === 0 ? [] : leaves(x[0]!, `${at}[0]`);
  if (x !== null && typeof x === 'object') return Object.entries(x).flatMap(([k, v]) => leaves(v, `${at}.${k}`));
  return [{ path: at, value: x }];
}

/** A copy of `x` with the leaf at `p` replaced. */
function setAt(x: Json, p: string, v: Json): Json {
  const copy = structuredClone(x);
  const keys = [...p.slice(1).matchAll(/\.([^.[]+)|\[(\d+)\]/g)].map((m) => m[1] ?? Number(m[2]));
  let o = copy as Record<string | number, Json>;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string | number, Json>;
  o[keys[keys.length - 1]!] = v;
  return copy;
}

// Enumerations keep their values (the validator refuses anything else, as the first test shows).
const ENUMS = new Set([
  'schema',
  'kind',
  'severity',
  'direction',
  'lossSource',
  'targets',
  'selfObjective',
  'data',
  'lossSteps',
  'state',
]);
const PARAM_GROUPS = new Set(['kernel', 'recurrent_kernel', 'bias']);

/**
 * Every free string (all array elements, and the keys of evidence and thresholds) replaced by
 * `payload#<n>`, the same original string always by the same replacement so names still match up.
 */
function allStrings(x: Json, payload: string, names = new Map<string, string>(), key = ''): Json {
  const sub = (s: string) => names.get(s) ?? (names.set(s, `${payload}#${names.size}`), names.get(s)!);
  if (typeof x === 'string') return ENUMS.has(key) || (key === 'group' && PARAM_GROUPS.has(x)) ? x : sub(x);
  if (Array.isArray(x)) return x.map((v) => allStrings(v, payload, names, key));
  if (x !== null && typeof x === 'object') {
    const free = key === 'evidence' || key === 'thresholds';
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [free ? sub(k) : k, allStrings(v, payload, names, k)]));
  }
  return x;
}

function refusal(input: Json): string | null {
  try {
    validateReportInput(input);
    return null;
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return (e as Error).message;
  }
}

describe('the validator types every field', () => {
  for (const name of ['example.json', 'example-set.json']) {
    it(`${name}: markup in a non-string field is refused naming it; in a string field it is accepted`, () => {
      const base = fixture(name) as Json;
      const all = leaves(base);
      expect(all.length).toBeGreaterThan(100);
      const refused: string[] = [];
      for (const { path: p, value } of all) {
        if (p === '$.schema' || p.endsWith('].schema')) continue;
        for (const payload of [PAYLOADS[0]!, PAYLOADS[2]!]) {
          const msg = refusal(setAt(base, p, payload));
          // Evidence values are numbers or strings by the schema; every other number or boolean is typed.
          if ((typeof value === 'number' || typeof value === 'boolean') && !p.includes('.evidence.')) {
            expect(msg, `${p} (${typeof value}) accepted markup`).not.toBeNull();
          }
          if (msg !== null) {
            expect(msg, p).toContain(`Analysis JSON field '${p}' is the string`);
            if (payload === PAYLOADS[0]) refused.push(p);
          }
        }
      }
      if (name === 'example.json') {
        // The three fields of the original report, and the other counts the page prints.
        for (const p of [
          '$.model.totalParams',
          '$.objective.batches',
          '$.objective.batchSize',
          '$.objective.samples',
          '$.model.layers[0].params',
          '$.objective.warnings[0].count',
          '$.run.index',
        ]) {
          expect(refused).toContain(p);
        }
        // Strings stay accepted (names, messages), except enumerations.
        expect(refused).not.toContain('$.model.name');
        expect(refused).not.toContain('$.findings[0].message');
        expect(refused).toContain('$.findings[0].severity');
        expect(refused).toContain('$.recurrent[0].kind');
      }
    });
  }

  it('arrays must be arrays and objects objects, at every level', () => {
    const base = fixture('example.json') as Json;
    expect(refusal(setAt(base, '$.recurrent[0].dh.norm', '<b>x</b>'))).toContain(
      '\'$.recurrent[0].dh.norm\' is the string "<b>x</b>"; expected an array of length 60',
    );
    expect(refusal(setAt(base, '$.model.layers', { length: 1 }))).toContain(
      "'$.model.layers' is a object; expected an array",
    );
    expect(refusal(setAt(base, '$.findings[0].evidence', ['<img>']))).toContain(
      "'$.findings[0].evidence' is an array of length 1; expected an object",
    );
    expect(refusal(setAt(base, '$.params[0].histogram.counts[3]', 1.5))).toContain(
      "'$.params[0].histogram.counts[3]' is a number; expected a non-negative integer",
    );
  });
});

describe('the page is safe with markup in every string field (Chromium)', () => {
  let browser: Browser;
  let dir: string;
  const bundles = readBundles();

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'rnnscope-xss-'));
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens `html` from disk; returns dialogs, console problems and what the page holds. With `hover`, moves the mouse
   * over every chart so the tooltips show data. */
  async function open(html: string, name: string, hover = false) {
    const file = path.join(dir, `${name}.html`);
    writeFileSync(file, html);
    const page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
    const dialogs: string[] = [];
    const problems: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(pathToFileURL(file).href);
    await page.evaluate(() => (window as unknown as { rnnscope: { ready: Promise<unknown> } }).rnnscope.ready);
    let tooltipShowedPayload = false;
    if (hover) {
      for (const box of await page.$$eval('.vis svg', (svgs) =>
        svgs.map((s) => {
          const r = s.getBoundingClientRect();
          return { x: r.x + window.scrollX, y: r.y + window.scrollY, w: r.width, h: r.height };
        }),
      )) {
        for (let i = 1; i < 8; i++) {
          for (let j = 1; j < 5; j++) {
            await page.evaluate(([_x, y]) => window.scrollTo(0, y! - 300), [box.x, box.y]);
            const top = await page.evaluate(() => window.scrollY);
            await page.mouse.move(box.x + (box.w * i) / 8, box.y - top + (box.h * j) / 5);
            const t = await page.evaluate(() => document.getElementById('vg-tooltip-element')?.textContent ?? '');
            if (t.includes('#')) tooltipShowedPayload = true;
          }
        }
      }
    }
    // Give any deferred handler (onerror of a broken image, onload of an svg) time to fire.
    await page.waitForTimeout(500);
    const seen = await page.evaluate(() => ({
      injected: document.querySelectorAll('img, svg[onload], [onerror], [onload], iframe, object, embed').length,
      scripts: document.scripts.length,
      jsLinks: Array.from(document.querySelectorAll('a[href], area[href]')).filter((a) =>
        /^\s*javascript:/i.test(a.getAttribute('href') ?? ''),
      ).length,
      drawn: Array.from(document.querySelectorAll('.vis')).filter((v) => v.getAttribute('data-rendered') === 'true')
        .length,
      charts: document.querySelectorAll('.vis').length,
      text: document.body.textContent,
    }));
    await page.close();
    return { dialogs, problems, tooltipShowedPayload, ...seen };
  }

  for (const [i, payload] of PAYLOADS.entries()) {
    it(`payload ${i + 1}: ${payload}`, async () => {
      const input = allStrings(fixture('example.json') as Json, payload) as unknown as Analysis;
      expect(() => validateReportInput(input)).not.toThrow();
      const r = await open(reportHtml(input, { bundles }), `single-${i}`, i === 0);
      if (i === 0) expect(r.tooltipShowedPayload, 'a tooltip showed a marked-up name').toBe(true);
      expect(r.dialogs).toEqual([]);
      expect(r.problems).toEqual([]);
      expect(r.injected).toBe(0);
      expect(r.scripts).toBe(5); // data, vega, vega-lite, vega-embed, page: nothing added
      expect(r.jsLinks).toBe(0);
      expect(r.drawn).toBe(r.charts);
      expect(r.text).toContain(`${payload}#`); // shown as text, not dropped
    }, 120_000);
  }

  it('an analysis set with markup in its title, labels and groups', async () => {
    const input = allStrings(fixture('example-set.json') as Json, PAYLOADS[0]!) as unknown as AnalysisSet;
    expect(() => validateReportInput(input)).not.toThrow();
    const r = await open(reportHtml(input, { bundles }), 'set');
    expect(r.dialogs).toEqual([]);
    expect(r.problems).toEqual([]);
    expect(r.injected).toBe(0);
    expect(r.drawn).toBe(r.charts);
  }, 120_000);

  it('without the validator (a library caller passing a crafted object), the counts it printed raw are escaped too', async () => {
    const a = fixture('example.json') as Record<string, Record<string, unknown>>;
    a.model!.totalParams = PAYLOADS[0];
    a.objective!.batches = PAYLOADS[2];
    a.objective!.batchSize = PAYLOADS[1];
    const html = reportHtml(a as unknown as Analysis, { bundles });
    expect(html).not.toContain(PAYLOADS[0]);
    const file = path.join(dir, 'unvalidated.html');
    writeFileSync(file, html);
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(pathToFileURL(file).href);
    await page.waitForTimeout(1000);
    expect(await page.evaluate(() => document.querySelectorAll('img, svg[onload]').length)).toBe(0);
    await page.close();
    expect(dialogs).toEqual([]);
  }, 120_000);

  it("the CSP allows exactly the page's own scripts, by hash, with no unsafe-inline or unsafe-eval for scripts", () => {
    const html = reportHtml(fixture('example.json') as Analysis, { bundles });
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1]?.replace(/&#39;/g, "'");
    expect(csp).toBeDefined();
    // The page's script elements each start a line (a bundle may mention "<script>" inside).
    const scripts = [...html.matchAll(/^<script((?: [a-z-]+="[^"]*")*)>([\s\S]*?)<\/script>$/gm)]
      .filter((m) => !m[1]!.includes('type="application/json"'))
      .map((m) => m[2]!);
    expect(scripts).toHaveLength(4); // the JSON data block is not a script
    expect(csp).toBe(contentSecurityPolicy(scripts));
    const scriptSrc = csp!.split('; ').find((d) => d.startsWith('script-src '))!;
    expect(scriptSrc.split(' ').slice(1)).toHaveLength(4);
    expect(scriptSrc).not.toMatch(/unsafe|\*|data:|http/);
    expect(csp).toContain("default-src 'none'");
  });
});
