//! An artifact store backed by JavaScript promises, and the prefetch executor over it: the
//! host gives an object whose `availability(key)`, `requestRestore(key, tier, days)` and
//! `presign(key, lifetimeSeconds)` return promises (a browser's `fetch` to its own API, an SDK
//! call in Node), and fleetpath's executor (`fleetpath-aws`'s `prefetch::execute`, the same
//! code the S3 store runs through) decides what to observe and restore, through the core's
//! single-threaded store interface ([`fleetpath::LocalArtifactStore`]).

use fleetpath::artifact::PresignedUrl;
use fleetpath::prefetch::PrefetchPlan;
use fleetpath::{Availability, Document, LocalArtifactStore, RestoreTier};
use fleetpath_aws::StoreError;
use fleetpath_aws::prefetch::{Task, execute};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::convert::{document, invalid, json, kind, property, to_js};
use crate::{Result, core};

/// What a JavaScript store's call threw or rejected with: its `code` when it is one of
/// `fleetpath-aws`'s (`throttled`, `timeout`, …), else `store_error`; retryable as its
/// `retryable` says, else when it is a `TypeError` (what `fetch` rejects with offline).
#[derive(Debug)]
pub(crate) struct JsStoreError {
    code: &'static str,
    retryable: bool,
    message: String,
}

impl std::fmt::Display for JsStoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for JsStoreError {}

impl StoreError for JsStoreError {
    fn code(&self) -> &'static str {
        self.code
    }

    fn is_retryable(&self) -> bool {
        self.retryable
    }
}

impl JsStoreError {
    fn thrown(method: &str, thrown: &JsValue) -> Self {
        let given = property(thrown, "code").as_string();
        let code = given
            .and_then(|c| fleetpath_aws::S3Error::CODES.iter().find(|known| **known == c).copied())
            .unwrap_or("store_error");
        let message =
            thrown.dyn_ref::<js_sys::Error>().map_or_else(|| format!("{thrown:?}"), |e| String::from(e.message()));
        let retryable =
            property(thrown, "retryable").as_bool().unwrap_or_else(|| thrown.is_instance_of::<js_sys::TypeError>());
        Self { code, retryable, message: format!("store.{method}: {message}") }
    }

    fn bad_answer(method: &str, err: &fleetpath::Error) -> Self {
        Self { code: "bad_response", retryable: false, message: format!("store.{method} answered {err}") }
    }
}

/// The host's store object.
struct JsStore {
    object: JsValue,
}

impl JsStore {
    async fn call<T: Document>(&self, method: &str, args: &[JsValue]) -> std::result::Result<T, JsStoreError> {
        let function = property(&self.object, method);
        let function: &js_sys::Function = function.dyn_ref().ok_or_else(|| JsStoreError {
            code: "store_error",
            retryable: false,
            message: format!("the store has no method {method} (found {})", kind(&function)),
        })?;
        let args: js_sys::Array = args.iter().collect();
        let answer = function.apply(&self.object, &args).map_err(|e| JsStoreError::thrown(method, &e))?;
        let answer =
            JsFuture::from(js_sys::Promise::resolve(&answer)).await.map_err(|e| JsStoreError::thrown(method, &e))?;
        let value = json(&answer, "store answer").map_err(|_| JsStoreError {
            code: "bad_response",
            retryable: false,
            message: format!("store.{method} answered {}, not JSON", kind(&answer)),
        })?;
        T::from_value(value).map_err(|e| JsStoreError::bad_answer(method, &e))
    }
}

impl LocalArtifactStore for JsStore {
    type Error = JsStoreError;

    async fn availability(&self, key: &str) -> std::result::Result<Availability, Self::Error> {
        self.call("availability", &[key.into()]).await
    }

    async fn request_restore(
        &self,
        key: &str,
        tier: RestoreTier,
        days: u32,
    ) -> std::result::Result<Availability, Self::Error> {
        let tier = serde_json::to_value(tier).ok().and_then(|t| t.as_str().map(str::to_owned)).unwrap_or_default();
        self.call("requestRestore", &[key.into(), tier.into(), days.into()]).await
    }

    async fn presign(&self, key: &str, lifetime_seconds: u32) -> std::result::Result<PresignedUrl, Self::Error> {
        self.call("presign", &[key.into(), lifetime_seconds.into()]).await
    }
}

#[wasm_bindgen(typescript_custom_section)]
const STORE_TYPES: &str = r"
/** A presigned download URL. */
export interface PresignedUrl {
  /** The URL. */
  url: string;
  /** When it stops working (RFC 3339). */
  expires_at: string;
}

/**
 * The host's artifact store, for `executePrefetch` and `executeTasks`: each method answers with
 * a promise (or the value itself). A method that throws or rejects fails that task (never the
 * run) with the error's `code` when it is one of `fleetpath-aws`'s (`throttled`, `timeout`, …),
 * else `store_error`; retryable as the error's `retryable` says, else when it is a `TypeError`
 * (what `fetch` rejects with offline).
 */
export interface ArtifactStore {
  /** The object's availability now (`{state: 'missing'}` when it does not exist). */
  availability(key: string): Availability | PromiseLike<Availability>;
  /** Requests a restore of an archived object; its availability afterwards. */
  requestRestore(key: string, tier: 'expedited' | 'standard' | 'bulk', days: number): Availability | PromiseLike<Availability>;
  /** A presigned download URL (part of the core's store interface; the executor does not call it). */
  presign?(key: string, lifetimeSeconds: number): PresignedUrl | PromiseLike<PresignedUrl>;
}

/** One thing to do about one object: restore it if it is archived, or observe it. */
export interface PrefetchTask {
  /** The object key. */
  key: string;
  /** What to do. */
  kind: { type: 'restore'; tier: 'expedited' | 'standard' | 'bulk'; days: number } | { type: 'check' };
}

/** A task and what happened to it. */
export interface PrefetchReport extends PrefetchTask {
  /** What happened: a restore was requested now, one was already running, the object was downloadable already, it was observed (a check task), it does not exist, or the store failed. */
  outcome: 'restore_requested' | 'already_restoring' | 'already_downloadable' | 'observed' | 'missing' | 'failed';
  /** The object (every outcome but `missing` and `failed`). */
  availability?: Availability;
  /** `failed`: the store error's code. */
  code?: string;
  /** `failed`: whether the next run may succeed. */
  retryable?: boolean;
  /** `failed`: the error's message. */
  message?: string;
}
";

/// Carries out what a prefetch plan (as `planPrefetch` returned it) makes due now, through
/// `store` (see the module's docs), each key once: a promise of the reports, one a task
/// (`{key, kind, outcome, …}`). Safe to run repeatedly: objects are observed first, so a
/// restore already running is left alone and only archived objects are restored.
#[wasm_bindgen(js_name = "executePrefetch", unchecked_return_type = "PrefetchReport[]")]
pub async fn execute_prefetch(
    #[wasm_bindgen(unchecked_param_type = "ArtifactStore")] store: JsValue,
    #[wasm_bindgen(unchecked_param_type = "PrefetchPlan | string")] plan: JsValue,
) -> Result<JsValue> {
    let plan: PrefetchPlan = document(&plan, "plan")?;
    run(store, &Task::from_plan(&plan)).await
}

/// Carries out tasks (`{key, kind: {type: "restore", tier, days} | {type: "check"}}`) through
/// `store`, in order, each key once: a promise of the reports.
#[wasm_bindgen(js_name = "executeTasks", unchecked_return_type = "PrefetchReport[]")]
pub async fn execute_tasks(
    #[wasm_bindgen(unchecked_param_type = "ArtifactStore")] store: JsValue,
    #[wasm_bindgen(unchecked_param_type = "PrefetchTask[] | string")] tasks: JsValue,
) -> Result<JsValue> {
    let tasks: Vec<Task> = match json(&tasks, "tasks")? {
        serde_json::Value::String(text) => fleetpath::document::from_str("prefetch tasks", &text),
        value => fleetpath::document::from_value("prefetch tasks", value),
    }
    .map_err(core)?;
    run(store, &tasks).await
}

async fn run(store: JsValue, tasks: &[Task]) -> Result<JsValue> {
    if !store.is_object() {
        return Err(invalid("store", "an object with availability, requestRestore and presign", kind(&store)));
    }
    to_js(&execute(&JsStore { object: store }, tasks).await)
}
