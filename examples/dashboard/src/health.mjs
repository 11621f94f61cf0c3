// Health view: the core's evaluation of the loaded health state at the page's time: the verdict
// and why, the findings that are problems with the devices that contribute most, and per rule
// each line's metric after the update beside its 7-day baseline with the rule's limit drawn.
import { COLORS, chart } from './charts.mjs';
import { badge, errorBox, fill, h, num, table } from './ui.mjs';

const TONE = { healthy: 'ok', pass: 'ok', breach: 'bad', inconclusive: 'warn' };

const scopeName = (scope) => (typeof scope === 'string' ? scope : scope.line ? `line ${scope.line}` : scope.device ? `device ${scope.device}` : JSON.stringify(scope));

/** Where a finding's change would cross its threshold, in the metric's units (for the chart). */
function limit(f, direction) {
  if (f.threshold === undefined || f.threshold === null || f.baseline === undefined || f.baseline === null) return null;
  const sign = direction === 'lower_is_worse' ? -1 : 1;
  if (f.change_kind === 'relative') return f.baseline * (1 + sign * f.threshold);
  if (f.change_kind === 'absolute') return f.baseline + sign * f.threshold;
  return null;
}

export function renderHealth(section, m, fp) {
  if (!m.health) return fill(section, h('p', { class: 'empty' }, 'Load a health state to judge a stage.'));
  let report;
  try {
    report = m.health.evaluate(undefined, m.now);
  } catch (err) {
    return fill(section, errorBox('health evaluation', err));
  }
  const metrics = new Map(m.health.metrics().map((x) => [x.name, x]));
  const stage = m.story?.stage ?? (m.rollout ? m.rollout.toJSON().stages[m.rollout.toJSON().current]?.name : null) ?? 'stage';
  const problems = report.problems.map((i) => report.findings[i]);
  const byRule = new Map();
  for (const f of report.findings) {
    if (!byRule.has(f.rule)) byRule.set(f.rule, []);
    byRule.get(f.rule).push(f);
  }
  const charts = [];
  for (const [rule, findings] of byRule) {
    const lines = findings.filter((f) => f.scope?.line && f.baseline != null && f.observed != null);
    const devices = findings.filter((f) => f.scope?.device && f.projection);
    if (lines.length) {
      const direction = metrics.get(lines[0].metric)?.direction;
      charts.push(
        chart(
          `health-${rule}-lines`,
          {
            type: 'bar',
            data: {
              labels: lines.map((f) => f.scope.line),
              datasets: [
                { label: '7-day baseline', data: lines.map((f) => f.baseline), backgroundColor: '#999999' },
                { label: 'since the update', data: lines.map((f) => f.observed), backgroundColor: lines.map((f) => (f.outcome === 'breach' ? '#D55E00' : COLORS[0])) },
                { type: 'line', label: 'limit', data: lines.map((f) => limit(f, direction)), borderColor: '#cf222e', borderDash: [6, 3], pointStyle: 'crossRot', pointRadius: 5, showLine: false },
              ],
            },
            options: { scales: { y: { beginAtZero: false, title: { display: true, text: lines[0].metric } } } },
          },
          { label: `${rule}: ${lines[0].metric} per line, baseline beside since-update values and the limit; ${lines.filter((f) => f.outcome !== 'pass').length} lines not passing.`, caption: `${rule}: ${lines[0].statistic ?? ''} ${lines[0].metric} per line`, small: true },
        ),
      );
    }
    if (devices.length) {
      charts.push(
        chart(
          `health-${rule}-devices`,
          {
            type: 'bar',
            data: {
              labels: devices.map((f) => f.scope.device),
              datasets: [
                { label: '7-day baseline', data: devices.map((f) => f.baseline), backgroundColor: '#999999' },
                { label: 'now', data: devices.map((f) => f.projection.current), backgroundColor: COLORS[0] },
                { label: 'projected', data: devices.map((f) => f.projection.projected), backgroundColor: devices.map((f) => (f.outcome === 'breach' ? '#D55E00' : COLORS[1])) },
                { type: 'line', label: 'limit', data: devices.map((f) => f.projection.limit), borderColor: '#cf222e', borderDash: [6, 3], pointStyle: 'crossRot', pointRadius: 6, showLine: false },
              ],
            },
            options: { scales: { y: { beginAtZero: false, title: { display: true, text: devices[0].metric } } } },
          },
          { label: `${rule}: ${devices[0].metric} per device: baseline, now, projected and the limit.`, caption: `${rule}: ${devices[0].metric}, projected over the observation` },
        ),
      );
    }
  }
  fill(
    section,
    h('h2', {}, `Health of ${stage} `, h('span', { class: 'muted' }, `${report.devices} devices, ${num(report.observed_hours)} h observed, evaluated ${report.evaluated_at}`)),
    h('p', { id: 'health-verdict', class: `verdict ${TONE[report.status] ?? ''}` }, h('strong', {}, report.status.toUpperCase()), ' ', report.summary),
    h('h3', {}, `Findings that are not a pass (${problems.length})`),
    problems.length
      ? table(
          [{ label: 'rule' }, { label: 'scope' }, { label: 'outcome' }, { label: 'finding' }, { label: 'devices contributing most' }],
          problems.map((f) => [
            f.rule,
            scopeName(f.scope),
            badge(f.outcome, TONE[f.outcome]),
            f.message,
            f.top_devices?.length ? f.top_devices.slice(0, 5).map((d) => `${d.device} (${d.line}) ${num(d.baseline)} → ${num(d.observed)}`).join('; ') : f.scope?.device ?? '–',
          ]),
          { id: 'health-problems' },
        )
      : h('p', { id: 'health-problems', class: 'ok' }, 'Every rule passes.'),
    h('div', { class: 'charts' }, charts),
    h(
      'details',
      {},
      h('summary', {}, `All ${report.findings.length} findings`),
      table(
        [{ label: 'rule' }, { label: 'scope' }, { label: 'outcome' }, { label: 'baseline', num: true }, { label: 'since update', num: true }, { label: 'change', num: true }, { label: 'threshold', num: true }],
        report.findings.map((f) => [f.rule, scopeName(f.scope), badge(f.outcome, TONE[f.outcome]), num(f.baseline, 4), num(f.observed, 4), num(f.change, 4), num(f.threshold, 4)]),
        { id: 'health-findings' },
      ),
    ),
    h('details', {}, h('summary', {}, 'The report as the core writes it'), h('pre', {}, fp.healthReportText(report))),
  );
}
