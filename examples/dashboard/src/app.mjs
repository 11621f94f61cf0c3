// The dashboard: loads a manifest, a fleet, a calendar, a rollout state and a health state
// (files picked or dropped, URLs in the query string, or the bundled seed story) into the
// fleetpath WASM package and renders five views from what the core computes. Nothing leaves
// the page.
//
// Query string: ?manifest=URL&fleet=URL&calendar=URL&rollout=URL&health=URL&story=URL&now=ISO
// (each optional; none at all loads the seed story from data/).
import * as fp from './fleetpath/index.mjs';

import { renderGraph } from './graph.mjs';
import { renderHealth } from './health.mjs';
import { defaultStages, renderPlan } from './plan.mjs';
import { renderRollout } from './rollout.mjs';
import { errorBox, fill, h, local, offset } from './ui.mjs';
import { renderWindows } from './windows.mjs';

const KINDS = ['manifest', 'fleet', 'calendar', 'rollout', 'health', 'story'];
const $ = (id) => document.getElementById(id);

/** What is loaded: the core's objects, their sources, and the time the views answer for. */
const m = { sources: {}, now: new Date(), zone: 'UTC', planInput: null };

/** Which of the dashboard's inputs a file is: by its content where JSON says, else by name. */
function classify(name, text) {
  const n = name.toLowerCase();
  if (n.endsWith('.csv')) return 'fleet';
  let doc;
  try {
    doc = JSON.parse(text);
  } catch {
    doc = undefined;
  }
  if (Array.isArray(doc)) return 'fleet';
  if (doc && typeof doc === 'object') {
    if ('releases' in doc || 'nodes' in doc) return 'manifest';
    if ('sites' in doc) return 'calendar';
    if ('revision' in doc && 'stages' in doc) return 'rollout';
    if ('devices' in doc && ('baselines' in doc || 'policy' in doc)) return 'health';
    if ('devices' in doc) return 'fleet';
    if ('at' in doc && 'target' in doc) return 'story';
  }
  // By name; a file that is none of these goes to the manifest loader, whose error says why.
  return KINDS.find((k) => n.includes(k)) ?? 'manifest';
}

/** Each source through the core; a source that fails keeps the last good object and says why. */
function load() {
  const errors = [];
  const parse = (kind, fn) => {
    const src = m.sources[kind];
    if (!src || src.parsed) return;
    try {
      m[kind === 'manifest' ? 'graph' : kind] = fn(src.text);
      src.parsed = true;
    } catch (err) {
      errors.push(errorBox(`${src.name} (${kind})`, err));
      // What was loaded before stays (the core object and the name it came from).
      if (src.previous) m.sources[kind] = src.previous;
      else delete m.sources[kind];
    }
  };
  parse('story', (t) => {
    try {
      return JSON.parse(t);
    } catch (err) {
      throw Object.assign(new Error(`not JSON: ${err.message}`), { code: 'invalid_json' });
    }
  });
  parse('manifest', (t) => ('nodes' in safeJson(t) ? fp.UpgradeGraph.fromCincinnati(t) : fp.UpgradeGraph.load(t)));
  parse('fleet', (t) => (t.trimStart().startsWith('[') || t.trimStart().startsWith('{') ? fp.Fleet.load(t) : fp.Fleet.fromCsv(t)));
  parse('calendar', (t) => fp.Calendar.load(t));
  parse('rollout', (t) => fp.Rollout.load(t));
  parse('health', (t) => fp.HealthState.load(t));
  return errors;
}

function safeJson(text) {
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

async function fetchText(url) {
  const res = await fetch(url);
  if (!res.ok) throw Object.assign(new Error(`${url}: HTTP ${res.status} ${res.statusText}`), { code: 'fetch_failed' });
  return res.text();
}

/** The bundled seed story: the moment rollout-6.15.007's canary breaches (seed_story --snapshot). */
async function seedSources() {
  const story = await fetchText('data/story.json');
  const s = JSON.parse(story);
  const files = { story: 'story.json', manifest: s.manifest, fleet: 'fleet.csv', calendar: s.calendar, rollout: 'rollout.json', health: 'health.json' };
  const out = {};
  await Promise.all(Object.entries(files).map(async ([kind, name]) => (out[kind] = { name, text: kind === 'story' ? story : await fetchText(`data/${name}`) })));
  return out;
}

async function start() {
  $('version').textContent = `fleetpath ${fp.version}`;
  const params = new URLSearchParams(location.search);
  const errors = [];
  try {
    const named = KINDS.filter((k) => params.has(k));
    if (named.length) {
      await Promise.all(
        named.map(async (kind) => {
          const url = params.get(kind);
          try {
            m.sources[kind] = { name: url, text: await fetchText(url) };
          } catch (err) {
            errors.push(errorBox(`${url} (${kind})`, err));
          }
        }),
      );
    } else {
      m.sources = await seedSources();
    }
  } catch (err) {
    errors.push(errorBox('seed story', err));
  }
  refresh(errors, params.get('now'));
}

/** After sources changed: parse, pick the time, render every view. */
function refresh(errors = [], now = null) {
  errors.push(...load());
  const at = now ?? m.story?.at;
  if (at) m.now = new Date(at);
  if (Number.isNaN(m.now.getTime())) {
    errors.push(errorBox('now', Object.assign(new Error(`${at} is not an instant (RFC 3339, e.g. 2026-11-30T15:00:00Z)`), { code: 'invalid_time' })));
    m.now = new Date();
  }
  if (m.calendar) m.zone = JSON.parse(m.calendar.toJSONText()).sites?.[0]?.time_zone ?? 'UTC';
  else if (m.story?.zone) m.zone = m.story.zone;
  if (m.graph && m.fleet && (!m.planInput || m.planInput.graph !== m.graph)) {
    const target = nextTarget(m.graph, m.fleet);
    m.planInput = { graph: m.graph, target, rolloutId: `rollout-${target}`, stages: defaultStages(fp) };
  }
  fill($('errors'), errors);
  $('now').value = m.now.toISOString().replace('.000Z', 'Z');
  $('tz').textContent = `= ${local(m.now, m.zone)} ${m.zone} (${offset(m.now, m.zone)})`;
  $('loaded').textContent = `Loaded: ${KINDS.filter((k) => m.sources[k]).map((k) => `${k} ${m.sources[k].name}`).join(' · ') || 'nothing'}`;
  render();
}

/**
 * The next rollout's target: the newest release for the fleet's first model (the seed story's
 * respin), else for the graph's first model, else the newest release (the plan then says why
 * the fleet cannot take it).
 */
function nextTarget(graph, fleet) {
  for (const model of [fleet.devices()[0]?.model, graph.models()[0]]) {
    try {
      if (model) return graph.latestFor(model).toString();
    } catch {
      // no installable release for this model: try the next
    }
  }
  return graph.releases().at(-1).version;
}

const VIEWS = {
  graph: (s) => renderGraph(s, m),
  plan: (s) => renderPlan(s, m, fp),
  windows: (s) => renderWindows(s, m),
  rollout: (s) => renderRollout(s, m, fp),
  health: (s) => renderHealth(s, m, fp),
};

/** Renders every view; one failing view shows its error, the others still render. */
async function render() {
  document.body.dataset.ready = 'false';
  for (const [name, view] of Object.entries(VIEWS)) {
    const section = $(`view-${name}`);
    try {
      await view(section);
    } catch (err) {
      fill(section, errorBox(`${name} view`, err));
    }
  }
  document.body.dataset.ready = 'true';
}

async function addFiles(files) {
  const errors = [];
  for (const file of files) {
    const text = await file.text();
    const kind = classify(file.name, text);
    m.sources[kind] = { name: file.name, text, previous: m.sources[kind]?.parsed ? m.sources[kind] : undefined };
  }
  refresh(errors, $('now').value);
}

// Tabs: click, or arrow keys / Home / End on the tab list (WAI-ARIA tabs pattern).
function selectTab(tab) {
  for (const t of document.querySelectorAll('[role=tab]')) {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute('aria-controls')).hidden = !on;
  }
  tab.focus();
  history.replaceState(null, '', `${location.search}#${tab.id.slice(4)}`);
}
$('tabs').addEventListener('click', (e) => e.target.closest('[role=tab]') && selectTab(e.target.closest('[role=tab]')));
$('tabs').addEventListener('keydown', (e) => {
  const tabs = [...document.querySelectorAll('[role=tab]')];
  const i = tabs.indexOf(document.activeElement);
  const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
  if (to === undefined || i < 0) return;
  e.preventDefault();
  selectTab(tabs[(to + tabs.length) % tabs.length]);
});
if (location.hash && $(`tab-${location.hash.slice(1)}`)) selectTab($(`tab-${location.hash.slice(1)}`));

$('files').addEventListener('change', (e) => addFiles(e.target.files));
const drop = $('drop');
drop.addEventListener('dragover', (e) => (e.preventDefault(), drop.classList.add('over')));
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  addFiles(e.dataTransfer.files);
});
$('seed').addEventListener('click', async () => {
  try {
    m.sources = await seedSources();
  } catch (err) {
    return fill($('errors'), errorBox('seed story', err));
  }
  m.planInput = null;
  refresh();
});
$('now').addEventListener('change', (e) => refresh([], e.target.value));

start();
