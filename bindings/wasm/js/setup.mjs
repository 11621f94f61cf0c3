// The WASM package's API: the wrapper both fleetpath packages share (api.mjs) over the
// wasm-bindgen module, plus what only wasm needs.
//
// A panic in Rust aborts (wasm32 has no unwinding here): the instance traps with a
// `RuntimeError`. The panic hook (src/lib.rs) kept the panic's `internal` error, which is what
// the call throws. The trap skipped the epilogues that give back the shadow stack, so its
// pointer is put back to where it rests between calls; the instance stays usable. What the
// trapped call had allocated is not freed, and an object whose own method panicked may refuse
// later changes (its borrow flag stays set): both are bounded by the number of panics, which
// the core is built never to have.
import * as native from './fleetpath_wasm.js';
import * as errors from './errors.mjs';
import { wrapApi } from './api.mjs';

/** The API over an instantiated module (`wasm`: its exports, as init/initSync return them). */
export function setup(wasm) {
  const stack = (delta) => wasm.__wbindgen_add_to_stack_pointer(delta);
  const top = stack(0);
  function trap(err) {
    if (!(err instanceof WebAssembly.RuntimeError)) return null;
    stack(top - stack(0));
    const panic = native.takePanic();
    if (panic) return JSON.parse(panic);
    const message = `internal error in fleetpath: ${err.message}`;
    return { code: 'internal', message, fields: { message: err.message } };
  }
  return wrapApi(native, errors, { trap, internal: ['default', 'initSync', 'takePanic'] });
}
