// Upgrade graph view: the core's DOT drawn by Graphviz (compiled to wasm, @viz-js/viz), a path
// finder whose path the core highlights (thick green, and listed in words), the lint findings.
import { instance as vizInstance } from '@viz-js/viz';

import { badge, errorBox, fill, h, table } from './ui.mjs';

let viz;

/** The form's constraints: model, hop limit, blocked releases allowed. */
function constraints(form) {
  const c = { allow_blocked: form.allowBlocked.checked };
  if (form.model.value) c.model = form.model.value;
  if (form.maxHops.value !== '') c.max_hops = Number(form.maxHops.value);
  return c;
}

function select(name, label, options, value) {
  return h(
    'label',
    {},
    label,
    h('select', { name }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text))),
  );
}

/** What the path finder starts with: the fleet's most common version and model, the story's target. */
function defaults(m, versions, models) {
  const count = new Map();
  for (const d of m.fleet ? m.fleet.devices() : []) count.set(`${d.version}\u0000${d.model}`, (count.get(`${d.version}\u0000${d.model}`) ?? 0) + 1);
  let [from, model] = [versions[0], models[0] ?? ''];
  let best = 0;
  for (const [key, n] of count) {
    const [v, mdl] = key.split('\u0000');
    if (n > best && versions.includes(v)) [best, from, model] = [n, v, mdl];
  }
  return { from, to: 'latest', model };
}

export async function renderGraph(section, m) {
  if (!m.graph) return fill(section, h('p', { class: 'empty' }, 'Load a manifest to see its upgrade graph.'));
  const releases = m.graph.releases();
  const versions = releases.map((r) => r.version);
  const models = m.graph.models();
  const start = defaults(m, versions, models);
  const result = h('div', { id: 'path-result', 'aria-live': 'polite' });
  const drawing = h('div', { class: 'graph', id: 'graph-svg', role: 'img', 'aria-label': `Upgrade graph of ${m.graph.name ?? 'the manifest'}` });
  const form = h(
    'form',
    { id: 'path-finder', onsubmit: (e) => (e.preventDefault(), update()) },
    h(
      'fieldset',
      {},
      h('legend', {}, 'Path finder'),
      select('from', 'from', versions.map((v) => [v, v]), start.from),
      select('to', 'to', [['latest', 'newest for the model'], ...versions.map((v) => [v, v])], start.to),
      select('model', 'model', [['', 'any'], ...models.map((x) => [x, x])], start.model),
      h('label', {}, 'max hops', h('input', { name: 'maxHops', type: 'number', min: 1, max: 64, size: 4 })),
      h('label', {}, 'blocked allowed', h('input', { name: 'allowBlocked', type: 'checkbox' })),
      h('button', { type: 'submit' }, 'Find path'),
    ),
  );
  form.addEventListener('change', () => update());
  const lint = m.graph.lint();
  fill(
    section,
    h('h2', {}, `Upgrade graph: ${m.graph.name ?? ''} `, h('span', { class: 'muted' }, `${versions.length} releases, ${m.graph.edges().length} edges`)),
    h(
      'div',
      { class: 'grid' },
      h('div', {}, form, result, drawing, legend()),
      h(
        'div',
        {},
        h('h3', {}, `Lint findings (${lint.length})`),
        lint.length
          ? table(
              [{ label: 'severity' }, { label: 'code' }, { label: 'finding' }],
              lint.map((f) => [badge(f.severity, f.severity === 'error' ? 'bad' : f.severity === 'warning' ? 'warn' : ''), h('code', {}, f.code), f.message]),
              { id: 'lint' },
            )
          : h('p', { id: 'lint', class: 'ok' }, 'No findings.'),
        h('h3', {}, 'Releases'),
        table(
          [{ label: 'version' }, { label: 'status' }, { label: 'models' }, { label: 'notes' }],
          releases.map((r) => [r.version, [r.status ?? 'active', r.barrier ? ' · barrier' : ''], (r.models ?? ['any']).join(', '), r.reason ?? r.notes ?? '']),
        ),
      ),
    ),
  );

  async function update() {
    const f = form.elements;
    let path = null;
    try {
      const to = f.to.value === 'latest' ? m.graph.latestFor(f.model.value || models[0]).toString() : f.to.value;
      path = m.graph.resolve(f.from.value, to, constraints(f));
      fill(
        result,
        h('p', { class: 'path' }, `${path.versions.join(' → ')}`, ' ', h('span', { class: 'muted' }, `(${path.hops.length} hop${path.hops.length === 1 ? '' : 's'})`)),
        table(
          [{ label: 'hop' }, { label: 'artifact' }],
          path.hops.map((hop) => [`${hop.from} → ${hop.to}`, hop.artifact?.key ?? '–']),
        ),
      );
    } catch (err) {
      fill(result, errorBox('no path', err));
    }
    viz ??= await vizInstance();
    fill(drawing, viz.renderSVGElement(m.graph.toDot(path ?? undefined)));
  }
  await update();
}

function legend() {
  return h(
    'p',
    { class: 'muted' },
    'Oldest releases on the left. Double border: barrier (every path stops there). Dashed red: blocked. ',
    'Grey: archived. Dashed arrow: generated from a range. Red dotted with a bar: blocked hop (with its reason). ',
    'Blue dotted: rollback. The path found is drawn thick green and listed above.',
  );
}
