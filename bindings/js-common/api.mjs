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
 * `hooks.internal` lists native exports that stay out of the API.
 */
export function wrapApi(native, errors, hooks = {}) {
  const { FleetpathError, errorClass } = errors;
  const internal = new Set(hooks.internal || []);
  const utf8 = new TextDecoder('utf-8', { fatal: true });

  function build(code, message, fields) {
    const Class = errorClass(code);
    const err = new Class(message, fields);
    if (Class === FleetpathError) Object.defineProperty(err, 'code', { value: code, enumerable: true });
    return err;
  }

  function invalidInput(what, expected, found) {
    return build('invalid_input', `${what}: expected ${expected}, found ${found}`, { what, expected, found });
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
    return function fleetpathCall(...args) {
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
