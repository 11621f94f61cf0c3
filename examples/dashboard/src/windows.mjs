// Windows view: the next windows of each stage per site, from the core's calendar, on a
// timeline in the site's local time (Intl formats each instant in the site's zone, so a window
// across a DST change shows its real local hours and the offset says which side it is on),
// with the current time marked. Lines whose windows differ (an exclusion for one line) get
// their own row.
import { COLORS, chart, markX } from './charts.mjs';
import { badge, errorBox, fill, h, local, offset, table } from './ui.mjs';

const HORIZON_DAYS = 14;
const PER_ROW = 8;

/**
 * The windows of `stage` for `line` that end after `now`, at most PER_ROW, within the horizon.
 * The search starts a day back so that a window open now shows its real start (the core's
 * next window at an instant inside a window starts at that instant).
 */
function windows(calendar, site, line, stage, now) {
  const end = now.getTime() + HORIZON_DAYS * 86400e3;
  const out = [];
  let after = new Date(now.getTime() - 86400e3);
  while (out.length < PER_ROW) {
    const w = calendar.nextWindow(site, line, stage, after);
    if (!w || Date.parse(w.start) > end) break;
    if (Date.parse(w.end) > now.getTime()) out.push(w);
    after = new Date(w.end);
  }
  return out;
}

export function renderWindows(section, m) {
  if (!m.calendar) return fill(section, h('p', { class: 'empty' }, 'Load a calendar to see the windows.'));
  const now = m.now;
  const doc = JSON.parse(m.calendar.toJSONText());
  const rows = [];
  try {
    for (const site of doc.sites) {
      const devices = m.fleet ? m.fleet.devices().filter((d) => (d.site ?? doc.sites[0].name) === site.name) : [];
      const lines = [...new Set(devices.map((d) => d.line))].sort();
      if (!lines.length) lines.push('');
      for (const stage of Object.keys(site.stages ?? {})) {
        const groups = new Map();
        for (const line of lines) {
          const ws = windows(m.calendar, site.name, line, stage, now);
          const key = JSON.stringify(ws);
          if (!groups.has(key)) groups.set(key, { ws, lines: [] });
          groups.get(key).lines.push(line);
        }
        const split = groups.size > 1;
        for (const { ws, lines: ls } of [...groups.values()].sort((a, b) => b.lines.length - a.lines.length)) {
          const who = !ls[0] ? '' : split ? (ls.length > 3 ? `${ls.length} lines` : ls.join(', ')) : 'all lines';
          rows.push({ site, stage, who, ws, lines: ls });
        }
      }
    }
  } catch (err) {
    return fill(section, errorBox('calendar', err));
  }
  const zone = doc.sites[0]?.time_zone;
  const hours = (t) => (Date.parse(t) - now.getTime()) / 3600e3;
  const labels = rows.map((r) => `${doc.sites.length > 1 ? `${r.site.name} · ` : ''}${r.stage}${r.who ? ` (${r.who})` : ''}`);
  const stages = [...new Set(rows.map((r) => r.stage))];
  const datasets = stages.map((stage, i) => ({
    label: stage,
    backgroundColor: COLORS[i],
    data: rows.flatMap((r, y) => (r.stage === stage ? r.ws.map((w) => ({ x: [hours(w.start), hours(w.end)], y: labels[y] })) : [])),
    barPercentage: 0.7,
    grouped: false,
  }));
  const tick = (value) => local(new Date(now.getTime() + value * 3600e3), zone);
  const timeline = chart(
    'windows-chart',
    {
      type: 'bar',
      data: { labels, datasets },
      plugins: [markX(0, `now ${local(now, zone)}`)],
      options: {
        indexAxis: 'y',
        parsing: { xAxisKey: 'x', yAxisKey: 'y' },
        scales: {
          x: { type: 'linear', min: -6, max: HORIZON_DAYS * 24, ticks: { stepSize: 24, callback: tick, maxRotation: 0, autoSkip: true } },
          y: { type: 'category' },
        },
        plugins: {
          tooltip: { callbacks: { label: (c) => `${local(new Date(now.getTime() + c.raw.x[0] * 3600e3), zone)} – ${local(new Date(now.getTime() + c.raw.x[1] * 3600e3), zone)}` } },
        },
      },
    },
    { label: `Timeline of the next windows per stage over ${HORIZON_DAYS} days from now, in ${zone}; the table below lists them.`, caption: `Next ${HORIZON_DAYS} days, ${zone} local time` },
  );
  fill(
    section,
    h('h2', {}, 'Stage windows ', h('span', { class: 'muted' }, `now: ${local(now, zone)} ${zone} (${offset(now, zone)})`)),
    timeline,
    table(
      [{ label: 'site' }, { label: 'stage' }, { label: 'lines' }, { label: 'next windows (local time, offset)' }],
      rows.map((r) => [
        `${r.site.name} (${r.site.time_zone})`,
        r.stage,
        r.who || '–',
        r.ws.length
          ? h(
              'ul',
              {},
              r.ws.map((w) => {
                const open = Date.parse(w.start) <= now && now < Date.parse(w.end);
                return h('li', {}, `${local(w.start, r.site.time_zone)} – ${local(w.end, r.site.time_zone)} (${offset(w.start, r.site.time_zone)})`, open ? [' ', badge('open now', 'ok')] : null);
              }),
            )
          : h('span', { class: 'warn' }, `none in ${HORIZON_DAYS} days`),
      ]),
      { id: 'windows-table' },
    ),
  );
}
