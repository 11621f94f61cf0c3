// node:test for the browser run: the suite only calls test(name, fn). A file's tests are queued
// while it loads and run after it, in order, as node --test does; the page drives that through
// globalThis.nodeTestShim.
const pending = [];

export function test(name, fn) {
  // Fail loudly on options, subtests or hooks this shim does not implement.
  if (typeof name !== 'string' || typeof fn !== 'function') throw new TypeError('the browser shim supports test(name, fn) only');
  pending.push({ name, fn });
}
export default test;

globalThis.nodeTestShim = {
  async run() {
    const results = [];
    for (const { name, fn } of pending.splice(0)) {
      try {
        await fn();
        results.push({ name });
      } catch (err) {
        results.push({ name, error: { message: String(err?.message ?? err), stack: String(err?.stack ?? '') } });
      }
    }
    return results;
  },
  // A file that threw while loading fails as a whole; what it queued does not run.
  drop() {
    pending.length = 0;
  },
};
