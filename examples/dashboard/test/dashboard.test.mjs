// The dashboard in headless Chromium (Debian's, through playwright-core): the seed story's
// answers on each view, typed errors for bad files, keyboard tabs, no console errors. Takes a
// screenshot of each view into docs/dashboard/ and reports (does not assert) how long a
// 10k-device fleet takes to load, plan and render.
//
//   node examples/dashboard/tools/build.mjs && node --test examples/dashboard/test/
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { ROOT, launch, serve } from '../../../bindings/wasm/browser/serve.mjs';

const PAGE = '/examples/dashboard/dist/index.html';
const SHOTS = join(ROOT, 'docs', 'dashboard');
let server;
let browser;
let page;
const problems = [];

before(async () => {
  assert.ok(existsSync(join(ROOT, PAGE)), 'build the dashboard first: node examples/dashboard/tools/build.mjs');
  mkdirSync(SHOTS, { recursive: true });
  server = await serve();
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
  page.on('pageerror', (err) => problems.push(`page error: ${err.stack || err}`));
  page.on('console', (msg) => msg.type() === 'error' && problems.push(`console error: ${msg.text()}`));
  const t0 = performance.now();
  await page.goto(`${server.origin}${PAGE}`);
  await ready();
  console.log(`# seed story loaded and every view rendered in ${(performance.now() - t0).toFixed(0)} ms`);
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** Waits until every view has rendered after the last change. */
async function ready() {
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
}

async function tab(name) {
  await page.click(`#tab-${name}`);
  await page.waitForSelector(`#view-${name}:not([hidden])`);
}

async function shot(name) {
  await page.waitForTimeout(100); // Chart.js draws on the next frame
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

const text = (sel) => page.locator(sel).first().innerText();

test('the seed story loads: every input, no error', async () => {
  const loaded = await text('#loaded');
  for (const kind of ['manifest seed-story.json', 'fleet fleet.csv', 'calendar plant-calendar.json', 'rollout rollout.json', 'health health.json', 'story story.json']) {
    assert.ok(loaded.includes(kind), `${kind} in "${loaded}"`);
  }
  assert.equal(await page.locator('#errors .error').count(), 0);
  assert.equal(await page.inputValue('#now'), '2026-11-30T15:00:00Z');
  assert.match(await text('#tz'), /Mon 30 Nov 16:00 Europe\/Berlin \(UTC\+01:00\)/);
});

test('graph: the path finder shows the bridge path for IPM-1, and the refusal of a one-hop limit', async () => {
  await tab('graph');
  await page.selectOption('#path-finder [name=from]', '5.6.14');
  await page.selectOption('#path-finder [name=to]', '6.15.008');
  await page.selectOption('#path-finder [name=model]', 'IPM-1');
  await page.waitForFunction(() => document.querySelector('#path-result .path')?.textContent.startsWith('5.6.14 → 5.6.30 → 6.15.008'));
  assert.equal(await text('#path-result .path'), '5.6.14 → 5.6.30 → 6.15.008 (2 hops)');
  // The core drew the path (thick green) into the SVG Graphviz rendered.
  await page.waitForSelector('#graph-svg svg .edge path[stroke="#1e8449"]', { state: 'attached' });
  assert.equal(await page.locator('#graph-svg svg .edge path[stroke="#1e8449"]').count(), 2);
  assert.equal(await page.locator('#graph-svg svg .node').count(), 4); // the four releases
  assert.ok((await text('#lint')).length > 0);
  await shot('graph');
  await page.fill('#path-finder [name=maxHops]', '1');
  await page.dispatchEvent('#path-finder [name=maxHops]', 'change');
  await page.waitForSelector('#path-result .error[data-code=too_many_hops]');
  assert.match(await text('#path-result .error'), /too_many_hops/);
  await page.fill('#path-finder [name=maxHops]', '');
  await page.dispatchEvent('#path-finder [name=maxHops]', 'change');
  await page.waitForSelector('#path-result .path');
});

test('plan: 17 / 68 / 255 with one canary per line; a policy change re-plans; a bad share is the typed error', async () => {
  await tab('plan');
  assert.equal(await text('#plan-summary'), 'rollout-6.15.008 to 6.15.008: canary 17 / early 68 / production 255');
  const total = await page.locator('#plan-table tr.total td').allInnerTexts();
  assert.deepEqual(total, ['all lines', '17', '68', '255', '340']);
  assert.equal(await page.locator('#plan-table tbody tr').count(), 18); // 17 lines and the total
  await page.waitForSelector('#plan-chart canvas');
  await shot('plan');
  await page.fill('#plan-policy [name=share-0]', '10');
  await page.waitForFunction(() => !document.querySelector('#plan-summary')?.textContent.includes('canary 17 '));
  assert.match(await text('#plan-summary'), /canary (\d+) /);
  await page.fill('#plan-policy [name=share-0]', '0');
  await page.waitForSelector('#plan-result .error');
  assert.match(await page.getAttribute('#plan-result .error', 'data-code'), /^invalid_share$/);
  await page.fill('#plan-policy [name=share-0]', '5');
  await page.waitForFunction(() => document.querySelector('#plan-summary')?.textContent.includes('canary 17 /'));
});

test('windows: the canary window is open now (2nd shift), and the offsets follow DST', async () => {
  await tab('windows');
  const rows = await page.locator('#windows-table tbody tr').allInnerTexts();
  assert.deepEqual(rows.map((r) => r.split('\t')[1]), ['canary', 'early', 'production']);
  assert.match(rows[0], /Mon 30 Nov 14:00 – Mon 30 Nov 22:00 \(UTC\+01:00\) open now/);
  assert.match(rows[1], /Mon 30 Nov 22:00 – Tue 01 Dec 06:00/);
  await page.waitForSelector('#windows-chart canvas');
  await shot('windows');
  // Central European Summer Time starts on Sunday 28 March 2027: the 2nd shift keeps its local
  // hours, its offset moves from +01:00 to +02:00.
  await page.fill('#now', '2027-03-26T10:00:00Z');
  await page.dispatchEvent('#now', 'change');
  await ready();
  const canary = (await page.locator('#windows-table tbody tr').allInnerTexts())[0];
  assert.match(canary, /Fri 26 Mar 14:00 – Fri 26 Mar 22:00 \(UTC\+01:00\)/);
  assert.match(canary, /Mon 29 Mar 14:00 – Mon 29 Mar 22:00 \(UTC\+02:00\)/);
  await page.fill('#now', '2026-11-30T15:00:00Z');
  await page.dispatchEvent('#now', 'change');
  await ready();
});

test('rollout: halted by the canary breach, rolling back; what devices are told now', async () => {
  await tab('rollout');
  assert.match(await text('#view-rollout h2'), /rollout-6\.15\.007 → 6\.15\.007 halted/);
  assert.match(await text('#rollout-reason'), /breach in canary: breach: memory_leak on device assembly-2-04/);
  // The canary's 17 devices, one per line, all rolled back; early and production wait.
  assert.deepEqual(await page.locator('#rollout-progress thead th').allInnerTexts(), ['line', 'rolled back']);
  assert.deepEqual(await page.locator('#rollout-progress tr.total td').allInnerTexts(), ['all lines', '17']);
  await page.selectOption('#rollout-stage', '');
  assert.deepEqual(await page.locator('#rollout-progress tr.total td').allInnerTexts(), ['all lines', '323', '17']);
  await page.selectOption('#rollout-stage', 'canary');
  assert.match(await text('#rollout-actions'), /None: rollout "rollout-6.15.007" is finished \(halted\)/);
  // The leaking device: told to roll back, only as far as the bridge.
  assert.equal(await page.inputValue('#device'), 'assembly-2-04');
  const told = await text('#device-decision');
  assert.match(told, /roll_back/);
  assert.match(told, /partial_rollback/);
  assert.match(told, /6\.15\.007 → 5\.6\.30/);
  await shot('rollout');
  await page.fill('#device', 'press-1-01');
  await page.dispatchEvent('#device', 'change');
  assert.match(await text('#device-decision'), /wait[\s\S]*rollout_halted/);
  await page.fill('#device', 'no-such-device');
  await page.dispatchEvent('#device', 'change');
  assert.match(await text('#device-decision'), /not in the fleet/);
});

test('health: the 6.15.007 breach with the leaking device named, charts with the limit', async () => {
  await tab('health');
  const verdict = await text('#health-verdict');
  assert.match(verdict, /^BREACH breach: memory_leak on device assembly-2-04 \(line assembly-2\)/);
  const problemRows = await page.locator('#health-problems tbody tr').allInnerTexts();
  assert.ok(problemRows.some((r) => r.startsWith('memory_leak\tdevice assembly-2-04\tbreach')), problemRows.join('\n'));
  assert.ok((await page.locator('#view-health figure canvas').count()) >= 3);
  await shot('health');
});

test('bad files give the typed error in the page and keep what was loaded', async () => {
  await page.setInputFiles('#files', { name: 'fleet.csv', mimeType: 'text/csv', buffer: Buffer.from('id,model\npress-9-01,IPM-1\n') });
  await page.waitForSelector('#errors .error');
  assert.match(await text('#errors .error'), /^fleet\.csv \(fleet\): missing_column /);
  await page.setInputFiles('#files', { name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"format_version": 2, "releases": [') });
  await page.waitForFunction(() => document.querySelector('#errors .error')?.textContent.startsWith('broken.json'));
  assert.match(await text('#errors .error'), /^broken\.json \(manifest\): invalid_json .*line 1/);
  assert.match(await text('#loaded'), /manifest seed-story\.json · fleet fleet\.csv · /);
  await tab('plan');
  assert.match(await text('#plan-summary'), /canary 17 \/ early 68 \/ production 255/);
  await shot('error');
});

test('tabs work from the keyboard', async () => {
  await page.focus('#tab-graph');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.getAttribute('#tab-plan', 'aria-selected'), 'true');
  await page.keyboard.press('End');
  assert.equal(await page.getAttribute('#tab-health', 'aria-selected'), 'true');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.getAttribute('#tab-graph', 'aria-selected'), 'true');
});

test('a 10k-device fleet loads, plans and renders (reported)', async () => {
  const lines = Array.from({ length: 100 }, (_, i) => `line-${String(i).padStart(3, '0')}`);
  let csv = 'id,model,line,site,version\n';
  for (let i = 0; i < 10000; i++) csv += `dev-${String(i).padStart(5, '0')},IPM-1,${lines[i % 100]},plant-a,${i % 5 ? '5.6.14' : '5.6.30'}\n`;
  const t0 = performance.now();
  await page.setInputFiles('#files', { name: 'fleet-10k.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.waitForFunction(() => document.getElementById('loaded').textContent.includes('fleet-10k.csv'));
  await ready();
  const ms = performance.now() - t0;
  await tab('plan');
  assert.match(await text('#plan-summary'), /canary \d+ \/ early \d+ \/ production \d+/);
  console.log(`# 10k-device fleet (100 lines): load, plan and render every view in ${ms.toFixed(0)} ms`);
});

test('files dropped on the page load like files picked', async () => {
  const manifest = readFileSync(join(ROOT, 'examples', 'data', 'line-controller.json'), 'utf8');
  const dt = await page.evaluateHandle((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'line-controller.json', { type: 'application/json' }));
    return dt;
  }, manifest);
  await page.dispatchEvent('#drop', 'drop', { dataTransfer: dt });
  await page.waitForFunction(() => document.getElementById('loaded').textContent.includes('manifest line-controller.json'));
  await ready();
  await tab('graph');
  assert.match(await text('#view-graph h2'), /^Upgrade graph: line-controller/);
  await page.click('#seed');
  await page.waitForFunction(() => document.getElementById('loaded').textContent.includes('manifest seed-story.json'));
  await ready();
});

test('inputs named by URL in the query string; a URL that fails is a typed error', async () => {
  const other = await browser.newPage({ viewport: { width: 1366, height: 860 } });
  const seen = [];
  other.on('pageerror', (err) => seen.push(String(err)));
  await other.goto(`${server.origin}${PAGE}?manifest=/examples/data/line-controller.json&fleet=/examples/data/no-such-fleet.csv&now=2026-12-01T08:00:00Z`);
  await other.waitForFunction(() => document.body.dataset.ready === 'true');
  assert.match(await other.locator('#loaded').innerText(), /^Loaded: manifest \/examples\/data\/line-controller\.json$/);
  assert.equal(await other.getAttribute('#errors .error', 'data-code'), 'fetch_failed');
  assert.match(await other.locator('#errors .error').innerText(), /no-such-fleet\.csv: HTTP 404/);
  assert.equal(await other.inputValue('#now'), '2026-12-01T08:00:00Z');
  assert.match(await other.locator('#view-plan').innerText(), /Load a manifest and a fleet/);
  assert.deepEqual(seen, []);
  await other.close();
});

test('no console errors, no page errors', () => {
  assert.deepEqual(problems, []);
});
