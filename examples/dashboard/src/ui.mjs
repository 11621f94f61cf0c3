// Small DOM helpers shared by the views: elements, tables, errors, times in a site's zone.

/** An element: `h('td', {class: 'num'}, '17')`. Attributes starting with `on` are listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's content. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * A table: `columns` are `{label, num?}`, `rows` arrays of cells (text or nodes), an optional
 * `total` row and caption.
 */
export function table(columns, rows, { caption, total, id } = {}) {
  const cls = (c) => (c.num ? 'num' : undefined);
  return h(
    'table',
    { id },
    caption && h('caption', {}, caption),
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: cls(c) }, c.label)))),
    h(
      'tbody',
      {},
      rows.map((row) => h('tr', {}, row.map((cell, i) => h('td', { class: cls(columns[i]) }, cell)))),
      total && h('tr', { class: 'total' }, total.map((cell, i) => h('td', { class: cls(columns[i]) }, cell))),
    ),
  );
}

/**
 * A typed error as the page shows it: where, the core's code, its message, its fields.
 * Errors that are not fleetpath's (a failed fetch) show with their own name as the code.
 */
export function errorBox(where, err) {
  const code = err?.code ?? err?.name ?? 'error';
  const fields = err?.fields && Object.keys(err.fields).length ? err.fields : null;
  return h(
    'div',
    { class: 'error', 'data-code': code },
    h('strong', {}, where),
    ': ',
    h('code', {}, code),
    ' ',
    err?.message ?? String(err),
    fields && h('details', {}, h('summary', {}, 'fields'), h('pre', {}, JSON.stringify(fields, null, 2))),
  );
}

/** "Mon 30 Nov 16:00" in `zone` (an IANA name), or UTC. */
export function local(instant, zone) {
  const date = instant instanceof Date ? instant : new Date(instant);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: zone || 'UTC',
      weekday: 'short',
      day: '2-digit',
      month: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.weekday} ${parts.day} ${parts.month} ${parts.hour}:${parts.minute}`;
}

/** A zone's offset at an instant, as "UTC+01:00". */
export function offset(instant, zone) {
  const part = new Intl.DateTimeFormat('en-GB', { timeZone: zone || 'UTC', timeZoneName: 'longOffset' })
    .formatToParts(instant instanceof Date ? instant : new Date(instant))
    .find((p) => p.type === 'timeZoneName');
  return part ? part.value.replace('GMT', 'UTC') || 'UTC' : 'UTC';
}

/** A number for a table: fixed digits, or a dash when absent. */
export function num(value, digits = 2) {
  if (value === undefined || value === null) return '–';
  if (typeof value === 'string') return value;
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

/** A badge whose colour repeats what its text says. */
export function badge(text, tone) {
  return h('span', { class: `badge ${tone ?? ''}` }, text);
}
