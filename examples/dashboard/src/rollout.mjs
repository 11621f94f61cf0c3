// Rollout view: the stored state (status, stages, progress per line), what a tick now returns
// (the pending actions), the verdicts, and what a chosen device would be told now: the core's
// decision for the device as the fleet record has it (never what a device claims).
import { COLORS, chart } from './charts.mjs';
import { badge, errorBox, fill, h, local, table } from './ui.mjs';

/** Device statuses in rollout order, as the core names them. */
const STATUSES = ['pending', 'updating', 'succeeded', 'failed', 'timed_out', 'rolled_back', 'removed'];
const TONE = { running: '', completed: 'ok', halted: 'bad', cancelled: 'bad', succeeded: 'ok', failed: 'bad', timed_out: 'bad', rolled_back: 'warn' };

export function renderRollout(section, m, fp) {
  if (!m.rollout) return fill(section, h('p', { class: 'empty' }, 'Load a rollout state to follow a rollout.'));
  const state = m.rollout.toJSON();
  const devices = state.stages.flatMap((s) => s.devices.map((d) => ({ ...d, stage: s.name })));
  const reason = state.status.reason;
  const zone = m.zone;

  let pending;
  try {
    const { actions } = m.rollout.apply({ type: 'tick', at: m.now }, m.calendar ?? undefined);
    pending = actions.length
      ? table([{ label: 'action' }, { label: 'details' }], actions.map((a) => [h('code', {}, a.type), JSON.stringify({ ...a, type: undefined })]), { id: 'rollout-actions' })
      : h('p', { id: 'rollout-actions', class: 'muted' }, 'Nothing to do now.');
  } catch (err) {
    // A finished rollout takes no more events: nothing is pending, and the core says why.
    pending = err.code === 'rollout_finished' ? h('p', { id: 'rollout-actions', class: 'muted' }, `None: ${err.message}.`) : h('div', { id: 'rollout-actions' }, errorBox('a tick now', err));
  }

  const current = state.stages[Math.min(state.current, state.stages.length - 1)];
  fill(
    section,
    h(
      'h2',
      {},
      `${state.id} → ${state.target} `,
      badge(state.status.state, TONE[state.status.state]),
      h('span', { class: 'muted' }, ` stage ${current?.name ?? '–'} (${current?.phase ?? '–'}), revision ${state.revision}`),
    ),
    reason ? h('p', { id: 'rollout-reason', class: state.status.state === 'halted' ? 'bad' : '' }, `${reason.kind}${reason.stage ? ` in ${reason.stage}` : ''}: ${reason.detail ?? JSON.stringify(reason)}`) : null,
    progress(state, current),
    h('h3', {}, 'Stages and verdicts'),
    table(
      [{ label: 'stage' }, { label: 'phase' }, { label: 'devices', num: true }, { label: 'monitoring since' }, { label: 'healthy through' }, { label: 'verdict' }],
      state.stages.map((s) => [
        s.name,
        s.phase,
        s.devices.length,
        s.monitoring_since ? local(s.monitoring_since, zone) : '–',
        s.healthy_through ? local(s.healthy_through, zone) : '–',
        reason?.stage === s.name ? badge(reason.kind, 'bad') : s.healthy_through ? badge('healthy', 'ok') : '–',
      ]),
      { id: 'rollout-stages' },
    ),
    h('h3', {}, `Pending actions (a tick at ${local(m.now, zone)})`),
    pending,
    h('h3', {}, 'What a device would be told now'),
    deviceDecision(m, fp, devices),
  );
}

/** Devices per line by status, for one stage (the current one first) or all. */
function progress(state, current) {
  const out = h('div', {});
  const pick = h(
    'select',
    { id: 'rollout-stage', 'aria-label': 'stage' },
    state.stages.map((s) => h('option', { value: s.name, selected: s === current }, `${s.name} (${s.devices.length})`)),
    h('option', { value: '' }, 'every stage'),
  );
  function show() {
    const devices = state.stages.filter((s) => !pick.value || s.name === pick.value).flatMap((s) => s.devices);
    const lines = [...new Set(devices.map((d) => d.line))].sort();
    const count = (line, status) => devices.filter((d) => d.line === line && d.status === status).length;
    const present = STATUSES.filter((s) => devices.some((d) => d.status === s));
    const name = pick.value || 'every stage';
    fill(
      out,
      h(
        'div',
        { class: 'grid' },
        chart(
          'rollout-chart',
          {
            type: 'bar',
            data: { labels: lines, datasets: present.map((s, i) => ({ label: s.replace('_', ' '), data: lines.map((l) => count(l, s)), backgroundColor: COLORS[i] })) },
            options: { indexAxis: 'y', scales: { x: { stacked: true, title: { display: true, text: 'devices' } }, y: { stacked: true, ticks: { autoSkip: false } } } },
          },
          { label: `Stacked bars: devices of ${name} per line by status (${present.join(', ')}); the table beside lists the counts.`, caption: `Progress per line: ${name}` },
        ),
        table(
          [{ label: 'line' }, ...present.map((s) => ({ label: s.replace('_', ' '), num: true }))],
          lines.map((l) => [l, ...present.map((s) => count(l, s))]),
          { id: 'rollout-progress', total: ['all lines', ...present.map((s) => devices.filter((d) => d.status === s).length)] },
        ),
      ),
    );
  }
  pick.addEventListener('change', show);
  show();
  return h('div', {}, h('label', {}, 'progress of ', pick), out);
}

function deviceDecision(m, fp, devices) {
  const fleet = m.fleet ? m.fleet.devices() : devices.map((d) => ({ id: d.id, model: d.model, line: d.line, version: d.version }));
  const out = h('div', { id: 'device-decision', 'aria-live': 'polite' });
  const list = h('datalist', { id: 'device-ids' }, fleet.slice(0, 20000).map((d) => h('option', { value: d.id })));
  const first = devices.find((d) => m.rollout.toJSON().status.reason?.detail?.includes(d.id)) ?? devices[0] ?? fleet[0];
  const input = h('input', { id: 'device', list: 'device-ids', value: first?.id ?? '', size: 24, 'aria-label': 'device id' });
  const byId = new Map(fleet.map((d) => [d.id, d]));
  let decider;
  function show() {
    const d = byId.get(input.value.trim());
    if (!d) return fill(out, h('p', { class: 'warn' }, `${input.value} is not in the fleet.`));
    try {
      decider ??= new fp.Decider(m.graph, { rollout: m.rollout, calendar: m.calendar ?? undefined });
      const decision = decider.decide({ device: d.id, model: d.model, version: d.version, at: m.now, labels: d.labels ?? undefined });
      const step = decision.step;
      fill(
        out,
        h(
          'dl',
          { class: 'kv' },
          h('dt', {}, 'device'),
          h('dd', {}, `${d.id} (${d.model}, line ${d.line}) on ${d.version}, as the fleet record says`),
          h('dt', {}, 'decision'),
          h('dd', {}, badge(decision.kind, decision.kind === 'download' || decision.kind === 'up_to_date' ? 'ok' : decision.kind === 'wait' || decision.kind === 'retry_after' ? 'warn' : 'bad')),
          h('dt', {}, 'reason'),
          h('dd', {}, h('code', {}, decision.reason)),
          step && [h('dt', {}, 'step'), h('dd', {}, `${step.from} → ${step.to}${step.artifact ? ` (${step.artifact.key})` : ''}`)],
          step?.previous_refused && [h('dt', {}, 'why not further'), h('dd', {}, step.previous_refused)],
          decision.at && [h('dt', {}, 'retry after'), h('dd', {}, `${local(decision.at, m.zone)} (${decision.at})`)],
          decision.until !== undefined && [h('dt', {}, 'wait until'), h('dd', {}, decision.until ? local(decision.until, m.zone) : 'the rollout says')],
          decision.host_action && [h('dt', {}, 'host action'), h('dd', {}, h('code', {}, `${decision.host_action.type} ${decision.host_action.key}`))],
          decision.message && [h('dt', {}, 'message'), h('dd', {}, decision.message)],
        ),
      );
    } catch (err) {
      fill(out, errorBox(`decision for ${d.id}`, err));
    }
  }
  input.addEventListener('change', show);
  const view = h('div', {}, h('label', {}, 'device ', input), list, out);
  if (m.graph) show();
  else fill(out, h('p', { class: 'empty' }, 'Load a manifest to see decisions.'));
  return view;
}
