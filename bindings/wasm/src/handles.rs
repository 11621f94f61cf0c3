//! Objects found again from JavaScript: the `Rollout` and `Calendar` a `Decider`'s options
//! object names. wasm-bindgen can borrow an exported object only as a direct argument, so each
//! such object registers a shared reference under a number (its `_handle`), and the decider
//! looks it up; the entry goes when the object is freed.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

use wasm_bindgen::JsValue;

use crate::Result;
use crate::convert::{absent, invalid, kind, property};

thread_local! {
    static NEXT: Cell<u32> = const { Cell::new(1) };
    static OBJECTS: RefCell<HashMap<u32, Box<dyn Any>>> = RefCell::new(HashMap::new());
}

/// An object's registration; dropping it (the object is freed) removes the entry.
pub(crate) struct Handle(u32);

impl Handle {
    /// Registers `value`.
    pub(crate) fn register<T: Send + Sync + 'static>(value: &Arc<T>) -> Self {
        let id = NEXT.with(|n| {
            let id = n.get();
            n.set(id.wrapping_add(1).max(1));
            id
        });
        OBJECTS.with(|o| o.borrow_mut().insert(id, Box::new(Arc::clone(value))));
        Self(id)
    }

    /// The number JavaScript sees.
    pub(crate) fn id(&self) -> u32 {
        self.0
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _ = OBJECTS.try_with(|o| o.borrow_mut().remove(&self.0));
    }
}

/// The object of type `T` that `value` is, if any (`undefined`/`null`: none); `what` names
/// the argument in the error when it is something else.
pub(crate) fn find<T: Send + Sync + 'static>(value: &JsValue, what: &str, class: &str) -> Result<Option<Arc<T>>> {
    if absent(value) {
        return Ok(None);
    }
    let found = property(value, "_handle")
        .as_f64()
        .filter(|id| id.fract() == 0.0 && *id >= 0.0 && *id <= f64::from(u32::MAX))
        .and_then(|id| {
            // Checked above: a whole number in u32's range.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let id = id as u32;
            OBJECTS.with(|o| o.borrow().get(&id).and_then(|v| v.downcast_ref::<Arc<T>>()).cloned())
        });
    found.map(Some).ok_or_else(|| invalid(what, &format!("a {class}"), kind(value)))
}

/// The object of type `T` that `options[key]` holds, if any.
pub(crate) fn lookup<T: Send + Sync + 'static>(options: &JsValue, key: &str, class: &str) -> Result<Option<Arc<T>>> {
    find(&property(options, key), key, class)
}
