// Plan view: the core's stage plan per production line, as a table and a stacked bar chart,
// who is excluded and why; the policy (shares, minimum per line), target and rollout id editable.
import { COLORS, chart } from './charts.mjs';
import { errorBox, fill, h, table } from './ui.mjs';

/** The stages the page starts from: the core's default policy (canary 5% with one per line, early 20%, the rest). */
export const defaultStages = (fp) =>
  fp.defaultRolloutPolicy().stages.map((s) => ({ name: s.name, share: s.share ?? null, min_per_line: s.min_per_line ?? 0 }));

/** The plan the page shows (also read by the rollout view): recomputed from `m.planInput`. */
export function plan(m, fp) {
  const { target, rolloutId, stages } = m.planInput;
  const policy = { stages: stages.map((s) => ({ name: s.name, share: s.share ?? undefined, min_per_line: s.min_per_line })) };
  return fp.planRollout(m.graph, m.fleet, target, rolloutId, policy);
}

export function renderPlan(section, m, fp) {
  if (!m.graph || !m.fleet) return fill(section, h('p', { class: 'empty' }, 'Load a manifest and a fleet to plan a rollout.'));
  const versions = m.graph.releases().map((r) => r.version);
  const out = h('div', { id: 'plan-result' });
  const stageInputs = m.planInput.stages.map((s, i) =>
    h(
      'fieldset',
      { class: 'stage' },
      h('legend', {}, s.name),
      h('label', {}, 'share of each line (%)', h('input', { name: `share-${i}`, type: 'number', step: 'any', value: s.share === null ? '' : +(s.share * 100).toFixed(4), placeholder: 'the rest', size: 6 })),
      h('label', {}, 'at least per line', h('input', { name: `min-${i}`, type: 'number', min: 0, step: 1, value: s.min_per_line, size: 4 })),
    ),
  );
  const form = h(
    'form',
    { id: 'plan-policy', onsubmit: (e) => e.preventDefault() },
    h(
      'fieldset',
      {},
      h('legend', {}, 'Policy'),
      h('label', {}, 'target', h('select', { name: 'target' }, versions.map((v) => h('option', { value: v, selected: v === m.planInput.target }, v)))),
      h('label', {}, 'rollout id (seeds the draw)', h('input', { name: 'rolloutId', value: m.planInput.rolloutId, size: 22 })),
      stageInputs,
    ),
  );
  form.addEventListener('input', () => {
    const f = form.elements;
    m.planInput = {
      target: f.target.value,
      rolloutId: f.rolloutId.value,
      stages: m.planInput.stages.map((s, i) => ({
        name: s.name,
        share: f[`share-${i}`].value === '' ? null : Number(f[`share-${i}`].value) / 100,
        min_per_line: Number(f[`min-${i}`].value || 0),
      })),
    };
    show();
  });
  fill(section, h('h2', {}, 'Stage plan per production line'), form, out);
  show();

  function show() {
    let p;
    try {
      p = plan(m, fp);
    } catch (err) {
      return fill(out, errorBox('plan', err));
    }
    const lines = [...new Set(p.stages.flatMap((s) => Object.keys(s.lines)))].sort();
    const rows = lines.map((line) => {
      const counts = p.stages.map((s) => s.lines[line] ?? 0);
      return [line, ...counts, counts.reduce((a, b) => a + b, 0)];
    });
    const totals = p.stages.map((s) => s.devices.length);
    const cols = [{ label: 'line' }, ...p.stages.map((s) => ({ label: s.name, num: true })), { label: 'total', num: true }];
    const summary = `${p.rollout_id} to ${p.target}: ${p.stages.map((s) => `${s.name} ${s.devices.length}`).join(' / ')}`;
    fill(
      out,
      h('p', { id: 'plan-summary', class: 'path' }, summary),
      h(
        'div',
        { class: 'grid' },
        chart(
          'plan-chart',
          {
            type: 'bar',
            data: {
              labels: lines,
              datasets: p.stages.map((s, i) => ({ label: s.name, data: lines.map((l) => s.lines[l] ?? 0), backgroundColor: COLORS[i] })),
            },
            options: { indexAxis: 'y', scales: { x: { stacked: true, title: { display: true, text: 'devices' } }, y: { stacked: true, ticks: { autoSkip: false } } } },
          },
          { label: `Stacked bars: devices per line in each stage. ${summary}.`, caption: 'Devices per line and stage' },
        ),
        h(
          'div',
          {},
          table(cols, rows, { id: 'plan-table', total: ['all lines', ...totals, totals.reduce((a, b) => a + b, 0)] }),
          h('h3', {}, `Not in the plan (${p.excluded.length + p.up_to_date.length})`),
          p.up_to_date.length ? h('p', {}, `${p.up_to_date.length} already on ${p.target}.`) : null,
          p.excluded.length
            ? table(
                [{ label: 'device' }, { label: 'code' }, { label: 'why' }],
                p.excluded.slice(0, 200).map((x) => [x.id, h('code', {}, x.code), x.message ?? '']),
                { id: 'plan-excluded', caption: p.excluded.length > 200 ? `first 200 of ${p.excluded.length}` : undefined },
              )
            : h('p', { class: 'muted' }, 'No device is excluded.'),
        ),
      ),
    );
  }
}
