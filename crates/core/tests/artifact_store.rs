//! The artifact store interface from a single-threaded host: a store whose calls resolve
//! later on the host's event loop (as JavaScript promises do), holding `!Send` state across
//! `.await`, used through `LocalArtifactStore` beside `MemoryStore` (a `Send` store).

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use fleetpath::{
    Availability, LocalArtifactStore, MemoryStore, RestoreTier, RestoreTimes, StorageClass, artifact::PresignedUrl,
};
use jiff::Timestamp;

/// A promise: pending until the event loop settles it.
struct Promise<T> {
    slot: Rc<RefCell<Option<T>>>,
}

impl<T> Future for Promise<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<T> {
        self.slot.borrow_mut().take().map_or(Poll::Pending, Poll::Ready)
    }
}

/// A call the host settles on a later turn of its event loop.
type Settle = Box<dyn FnOnce(&mut BTreeMap<String, Availability>)>;

/// The host's side: objects, and a queue of calls the event loop answers one per turn.
#[derive(Default)]
struct EventLoop {
    objects: BTreeMap<String, Availability>,
    queue: VecDeque<Settle>,
    calls: Vec<String>,
}

/// A store backed by the host's promises (what a wasm binding wraps around `fetch`).
struct PromiseStore {
    host: Rc<RefCell<EventLoop>>,
}

#[derive(Debug, thiserror::Error)]
#[error("host refused {0}")]
struct HostError(String);

impl PromiseStore {
    fn call<T: 'static>(
        &self,
        what: String,
        answer: impl FnOnce(&mut BTreeMap<String, Availability>) -> T + 'static,
    ) -> Promise<T> {
        let slot = Rc::new(RefCell::new(None));
        let settle = Rc::clone(&slot);
        let mut host = self.host.borrow_mut();
        host.calls.push(what);
        host.queue.push_back(Box::new(move |objects| *settle.borrow_mut() = Some(answer(objects))));
        Promise { slot }
    }
}

impl LocalArtifactStore for PromiseStore {
    type Error = HostError;

    async fn availability(&self, key: &str) -> Result<Availability, HostError> {
        let key = key.to_owned();
        let found = self.call(format!("head {key}"), move |o| o.get(&key).cloned()).await;
        Ok(found.unwrap_or(Availability::Missing))
    }

    async fn request_restore(&self, key: &str, tier: RestoreTier, days: u32) -> Result<Availability, HostError> {
        let k = key.to_owned();
        let now: Timestamp = "2026-11-30T07:00:00Z".parse().unwrap();
        let done = self
            .call(format!("restore {key} {tier:?} {days}"), move |o| match o.get(&k).cloned() {
                Some(Availability::Archived { class }) => {
                    let ready_by = RestoreTimes::default().ready_by(class, tier, now).unwrap_or(now);
                    let restoring = Availability::Restoring { class, since: now, ready_by };
                    o.insert(k, restoring.clone());
                    Some(restoring)
                }
                _ => None,
            })
            .await;
        done.ok_or_else(|| HostError(format!("restore of {key}")))
    }

    async fn presign(&self, key: &str, lifetime_seconds: u32) -> Result<PresignedUrl, HostError> {
        let url = format!("https://plant.example/fw/{key}?ttl={lifetime_seconds}");
        let expires_at = self.call(format!("presign {key}"), |_| Timestamp::UNIX_EPOCH).await;
        Ok(PresignedUrl { url, expires_at })
    }
}

/// Runs `future` on a one-thread loop: poll, then let the host settle one queued call.
fn run<T>(host: &Rc<RefCell<EventLoop>>, future: impl Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..100 {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        let next = host.borrow_mut().queue.pop_front();
        let Some(settle) = next else { panic!("pending with nothing queued") };
        let mut objects = std::mem::take(&mut host.borrow_mut().objects);
        settle(&mut objects);
        host.borrow_mut().objects = objects;
    }
    panic!("the future never finished")
}

/// What a host does for an archived artifact, written once against the single-threaded
/// interface: observe it, and request a restore when it is archived.
async fn ensure_restoring<S: LocalArtifactStore>(store: &S, key: &str) -> Result<Availability, S::Error> {
    match store.availability(key).await? {
        Availability::Archived { .. } => store.request_restore(key, RestoreTier::Standard, 7).await,
        other => Ok(other),
    }
}

#[test]
fn a_promise_backed_store_works_through_the_local_interface() {
    let host = Rc::new(RefCell::new(EventLoop::default()));
    let archived = Availability::Archived { class: StorageClass::GlacierFlexibleRetrieval };
    host.borrow_mut().objects.insert("fw/5.6.30.bin".into(), archived);
    let store = PromiseStore { host: Rc::clone(&host) };

    let state = run(&host, ensure_restoring(&store, "fw/5.6.30.bin")).unwrap();
    let Availability::Restoring { ready_by, .. } = state else { panic!("{state:?}") };
    assert_eq!(ready_by.to_string(), "2026-11-30T12:00:00Z"); // a 5-hour Standard restore
    assert_eq!(host.borrow().calls, ["head fw/5.6.30.bin", "restore fw/5.6.30.bin Standard 7"]);

    // Nothing to do for an object that is missing; errors are the store's own type.
    assert_eq!(run(&host, ensure_restoring(&store, "fw/none.bin")).unwrap(), Availability::Missing);
    let err = run(&host, store.request_restore("fw/none.bin", RestoreTier::Bulk, 1)).unwrap_err();
    assert_eq!(err.to_string(), "host refused restore of fw/none.bin");
    let url = run(&host, store.presign("fw/5.6.30.bin", 900)).unwrap();
    assert_eq!(url.url, "https://plant.example/fw/fw/5.6.30.bin?ttl=900");
}

#[test]
fn a_send_store_is_a_local_store_too() {
    let host = Rc::new(RefCell::new(EventLoop::default()));
    let t0: Timestamp = "2026-11-30T07:00:00Z".parse().unwrap();
    let memory = MemoryStore::new(t0, RestoreTimes::default());
    memory.insert("fw/5.6.30.bin", Availability::Archived { class: StorageClass::GlacierFlexibleRetrieval });
    // The same generic host code, over `MemoryStore` through the blanket implementation.
    let state = run(&host, ensure_restoring(&memory, "fw/5.6.30.bin")).unwrap();
    assert!(matches!(state, Availability::Restoring { .. }), "{state:?}");
    assert_eq!(memory.restores_requested(), 1);
}
