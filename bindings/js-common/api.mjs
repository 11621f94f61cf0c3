// The JavaScript API of both npm packages, `fleetpath` (napi-rs addon) and `fleetpath-wasm`
// (wasm-bindgen): the native module's classes and functions, each wrapped so that
//   - arguments convert: a Date becomes RFC 3339 text, a Version or VersionRange its text,
//     bytes (Buffer, Uint8Array) UTF-8 text; the same for the values of a plain object given
//     as an argument (`{type: 'tick', at: new Date()}`), and of the rows of an array given to
//     the methods in ROWS (`addDevices([{id, line, updated_at: new Date()}])`);
//   - anything thrown (or a promise's rejection) is a FleetpathError subclass: the core's
//     errors by their code, a value of the wrong type `invalid_input`, a panic in Rust
//     `internal`.
// Everything else (parsing, checking, deciding, explaining) happens in the core.
//
// This file is the source; each package's build writes it as the module form it loads
// (bindings/js-common/build.js), so that both packages run exactly this code.

// Functions whose Uint8Array arguments are bytes (keys, seeds), not text.
const BYTES = new Set(['keyFromSeed', 'sealRetry', 'openRetry']);
// Methods whose array arguments are rows of plain objects that may hold dates. Others' arrays
// (columns, fleets of a million rows) pass untouched.
const ROWS = new Set(['HealthState.addDevices']);

/**
 * The package's API over `native` (the Rust module) and `errors` (the generated classes).
 * `hooks.trap(err)`, when given, turns what a trapped instance threw (a WebAssembly
 * `RuntimeError`) into the `{code, message, fields}` of the error to throw, or `null`;
 * `hooks.internal` lists native exports that stay out of the API; `hooks.textBytes` lists
 * the functions whose native side reads UTF-8 bytes itself (and refuses bytes that are not,
 * with the error made here for the others): their bytes are handed over as they are.
 */
export function wrapApi(native, errors, hooks = {}) {
  const { FleetpathError, errorClass } = errors;
  const internal = new Set(hooks.internal || []);
  const textBytes = new Set(hooks.textBytes || []);
  const utf8 = new TextDecoder('utf-8', { fatal: true });

  function build(code, message, fields) {
    const Class = errorClass(code);
    const err = new Class(message, fields);
    if (Class === FleetpathError) Object.defineProperty(err, 'code', { value: code, enumerable: true });
    return err;
  }

  function invalidInput(what, expected, found) {
    return build('invalid_input', `${what}: expected ${expected}, got ${found}`, { what, expected, found });
  }

  /** What a native call threw, as the package's error. */
  function translate(err, what) {
    if (err instanceof FleetpathError) return err;
    if (err && err.code === 'FLEETPATH') {
      const { code, message, fields } = JSON.parse(err.message);
      return build(code, message, fields);
    }
    const trapped = hooks.trap && hooks.trap(err);
    if (trapped) return build(trapped.code, trapped.message, trapped.fields);
    // The binding refused an argument's type before the core saw it.
    const message = err instanceof Error ? err.message : String(err);
    return build('invalid_input', `${what}: ${message}`, { what, expected: '', found: message });
  }

  function convert(value, what, bytes) {
    if (typeof value === 'string') {
      if (!value.isWellFormed()) throw invalidInput(what, 'a string', 'a string with a lone surrogate');
      return value;
    }
    if (value === null || typeof value !== 'object') return value;
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
    if (value instanceof native.Version || value instanceof native.VersionRange) return value.toString();
    if (value instanceof Uint8Array && !bytes) {
      if (textBytes.has(what)) return value;
      try {
        return utf8.decode(value);
      } catch {
        throw invalidInput(what, 'UTF-8 text', 'bytes that are not UTF-8');
      }
    }
    return value;
  }

  function argument(value, what, bytes, rows) {
    if (rows && Array.isArray(value)) return value.map((row, i) => argument(row, `${what}[${i}]`, bytes, false));
    if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      const out = {};
      for (const key of Object.keys(value)) out[key] = convert(value[key], `${what}.${key}`, bytes);
      return out;
    }
    return convert(value, what, bytes);
  }

  function wrap(fn, what) {
    const bytes = BYTES.has(fn.name) || BYTES.has(what);
    const rows = ROWS.has(what);
    function fleetpathCall(...args) {
      for (let i = 0; i < args.length; i++) args[i] = argument(args[i], what, bytes, rows);
      let result;
      try {
        result = fn.apply(this, args);
      } catch (err) {
        throw translate(err, what);
      }
      if (result instanceof Promise) {
        return result.then(undefined, (err) => {
          throw translate(err, what);
        });
      }
      return result;
    }
    // A `…Async` function never throws: a wrong argument rejects its promise too.
    if (!what.endsWith('Async')) return fleetpathCall;
    return function fleetpathAsyncCall(...args) {
      try {
        return fleetpathCall.apply(this, args);
      } catch (err) {
        return Promise.reject(err);
      }
    };
  }

  /**
   * The class `Native` with its methods wrapped. napi-rs defines static methods as read-only,
   * so the exported class is a constructor function sharing `Native.prototype` (instances the
   * core returns are `instanceof` it) whose statics wrap the native ones.
   */
  function wrapClass(Native, name) {
    const proto = Native.prototype;
    for (const key of Object.getOwnPropertyNames(proto)) {
      const desc = Object.getOwnPropertyDescriptor(proto, key);
      if (key === 'constructor' || key.startsWith('__') || typeof desc.value !== 'function') continue;
      Object.defineProperty(proto, key, { ...desc, value: wrap(desc.value, `${name}.${key}`) });
    }
    function Class(...args) {
      if (!new.target) throw new TypeError(`Class constructor ${name} cannot be invoked without 'new'`);
      for (let i = 0; i < args.length; i++) args[i] = argument(args[i], name, false);
      try {
        return Reflect.construct(Native, args, Native);
      } catch (err) {
        throw translate(err, name);
      }
    }
    Object.defineProperty(Class, 'name', { value: name });
    Class.prototype = proto;
    Object.defineProperty(proto, 'constructor', { value: Class, writable: true, configurable: true });
    for (const key of Object.getOwnPropertyNames(Native)) {
      const value = Native[key];
      if (['length', 'name', 'prototype'].includes(key) || key.startsWith('__') || typeof value !== 'function') continue;
      Class[key] = wrap(value, `${name}.${key}`);
    }
    return Class;
  }

  const api = {};
  for (const [name, value] of Object.entries(native)) {
    if (typeof value !== 'function' || internal.has(name) || name.startsWith('__')) continue;
    api[name] = /^[A-Z]/.test(name) ? wrapClass(value, name) : wrap(value, name);
  }
  if (api.Decider) {
    Object.defineProperty(api.Decider.prototype, 'decideFleetTable', {
      value: function decideFleetTable(fleet, at, arrow) {
        return arrowTable(this.decideFleetColumns(fleet, at), fleet, arrow);
      },
      writable: true,
      configurable: true,
    });
  }

  if (api.Decider) shareDecisions(api.Decider.prototype);
  if (api.Decider) splitVersions(api.Decider.prototype);
  if (api.RouteTable) rememberHops(api.RouteTable.prototype);

  /**
   * `Decider.decideFleet` from the native module's distinct decisions and each device's index
   * among them: one frozen object per distinct decision, shared by the devices that repeat it
   * (as Python's records are), instead of one object a device.
   */
  function shareDecisions(proto) {
    const parts = proto.decideFleet;
    Object.defineProperty(proto, 'decideFleet', {
      value: function decideFleet() {
        const [decisions, rows] = parts.apply(this, arguments);
        for (const decision of decisions) deepFreeze(decision);
        const out = new Array(rows.length);
        for (let i = 0; i < rows.length; i++) out[i] = decisions[rows[i]];
        return out;
      },
      writable: true,
      configurable: true,
    });
  }

  /**
   * `Decider.decideFleetColumns` with `versions` a list: the decider's releases, asked of the
   * native module once a decider and kept (frozen, shared by its batches), then the versions
   * no release is, which the native module hands over as one text, a line each (a version has
   * no line break: see the version grammar), as one string costs less to make than thousands.
   */
  function splitVersions(proto) {
    const columns = proto.decideFleetColumns;
    const releaseVersions = proto.__releaseVersions;
    const releases = new WeakMap();
    const lines = (text) => (text === '' ? [] : text.split('\n'));
    Object.defineProperty(proto, 'decideFleetColumns', {
      value: function decideFleetColumns() {
        const out = columns.apply(this, arguments);
        let listed = releases.get(this);
        if (listed === undefined) {
          listed = Object.freeze(lines(releaseVersions.call(this)));
          releases.set(this, listed);
        }
        out.versions = out.versions === '' ? listed : Object.freeze(listed.concat(lines(out.versions)));
        return out;
      },
      writable: true,
      configurable: true,
    });
  }

  /**
   * `RouteTable.nextHop` remembered per spelling: a table never changes, so each release's
   * answer is computed and converted once, then handed out frozen (as Python's records are),
   * so no caller can change what the next one gets. At most `LIMIT` answers a table; errors
   * are never remembered; `free()` forgets the table's answers.
   */
  function rememberHops(proto) {
    const LIMIT = 65536;
    const answers = new WeakMap();
    const nextHop = proto.nextHop;
    const define = (name, value) => Object.defineProperty(proto, name, { value, writable: true, configurable: true });
    define('nextHop', function rememberedNextHop(from) {
      const key = typeof from === 'string' ? from : from instanceof native.Version ? `${from}` : null;
      // Anything unusual (no table, other arguments) goes to the call, which says what is wrong.
      if (key === null || arguments.length !== 1 || this === null || typeof this !== 'object') {
        return nextHop.apply(this, arguments);
      }
      let known = answers.get(this);
      if (!known) answers.set(this, (known = new Map()));
      const answer = known.get(key);
      if (answer !== undefined) return answer;
      const computed = deepFreeze(nextHop.call(this, from));
      if (known.size < LIMIT) known.set(key, computed);
      return computed;
    });
    if (typeof proto.free === 'function') {
      const free = proto.free;
      function forgetAndFree() {
        if (this !== null && typeof this === 'object') answers.delete(this);
        return free.call(this);
      }
      define('free', forgetAndFree);
      // wasm-bindgen points `Symbol.dispose` (`using`) at the original `free`.
      if (typeof Symbol.dispose === 'symbol' && typeof proto[Symbol.dispose] === 'function') define(Symbol.dispose, forgetAndFree);
    }
  }

  function deepFreeze(value) {
    if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
      for (const inner of Object.values(value)) deepFreeze(inner);
      Object.freeze(value);
    }
    return value;
  }

  /**
   * Strings as an Arrow utf8 vector: one encoding of them all when they are ASCII (ids almost
   * always are: offsets are then the strings' lengths), else Arrow's own builder.
   */
  function utf8Vector(arrow, strings) {
    const joined = strings.join('');
    const bytes = new TextEncoder().encode(joined);
    if (bytes.length !== joined.length) return arrow.vectorFromArray(strings, new arrow.Utf8());
    const offsets = new Int32Array(strings.length + 1);
    for (let i = 0; i < strings.length; i++) offsets[i + 1] = offsets[i] + strings[i].length;
    return arrow.makeVector(arrow.makeData({ type: new arrow.Utf8(), length: strings.length, nullCount: 0, valueOffsets: offsets, data: bytes }));
  }

  /**
   * `decideFleetColumns` as an Apache Arrow table, built by `arrow` (the host's `apache-arrow`
   * module: an optional dependency this package never imports) over the columns' own typed
   * arrays where Arrow's layout is theirs: `device` (utf8), `kind`, `reason`, `next` and
   * `host_action` (dictionary-encoded utf8; `next` null where there is no version to install),
   * `at` (timestamp[ms, UTC], null where there is no time to ask again). Python's
   * `decide_fleet_table` has the same columns.
   */
  function arrowTable(c, fleet, arrow) {
    const what = 'Decider.decideFleetTable';
    const needed = ['Table', 'makeData', 'makeVector', 'vectorFromArray', 'Dictionary', 'Utf8', 'Uint8', 'Uint16', 'Uint32', 'TimestampMillisecond'];
    const missing = needed.filter((k) => !arrow || typeof arrow[k] !== 'function');
    if (missing.length) throw invalidInput(`${what}: arrow`, "the apache-arrow module (import * as arrow from 'apache-arrow')", `a value without ${missing.join(', ')}`);
    const n = c.kind.length;
    const { Dictionary, Utf8, makeData, makeVector, vectorFromArray } = arrow;
    // Validity bitmap (least significant bit first): set where `valid(i)`.
    const validity = (valid) => {
      const bits = new Uint8Array((n + 7) >> 3);
      let nulls = 0;
      for (let i = 0; i < n; i++) {
        if (valid(i)) bits[i >> 3] |= 1 << (i & 7);
        else nulls += 1;
      }
      return nulls ? { nullCount: nulls, nullBitmap: bits } : { nullCount: 0 };
    };
    const dictionary = (indices, Index, names, nulls = { nullCount: 0 }) =>
      makeVector(makeData({ type: new Dictionary(new Utf8(), new Index()), length: n, data: indices, dictionary: vectorFromArray(names, new Utf8()), ...nulls }));
    const NONE = 4294967295;
    const nextNulls = validity((i) => c.next[i] !== NONE);
    const next = nextNulls.nullCount ? c.next.map((v) => (v === NONE ? 0 : v)) : c.next;
    const at = new BigInt64Array(n);
    for (let i = 0; i < n; i++) if (!Number.isNaN(c.at[i])) at[i] = BigInt(c.at[i]);
    return new arrow.Table({
      device: utf8Vector(arrow, fleet.ids()),
      kind: dictionary(c.kind, arrow.Uint8, c.kinds),
      reason: dictionary(c.reason, arrow.Uint16, c.reasons),
      next: dictionary(next, arrow.Uint32, c.versions, nextNulls),
      at: makeVector(makeData({ type: new arrow.TimestampMillisecond('UTC'), length: n, data: at, ...validity((i) => !Number.isNaN(c.at[i])) })),
      host_action: dictionary(c.hostAction, arrow.Uint8, c.hostActions),
    });
  }
  return {
    ...api,
    ...errors,
    /** Every error code, by module (the core's `ERROR_CODES`). */
    ERROR_CODES: Object.freeze(native.errorCodes().map(({ module, codes }) => Object.freeze({ module, codes }))),
    /** Every reason a decision can give. */
    DECISION_REASONS: Object.freeze(native.decisionReasons()),
    /** The package's version. */
    version: native.packageVersion(),
  };
}
