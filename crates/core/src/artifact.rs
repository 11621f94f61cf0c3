//! Artifact availability: whether a firmware binary can be downloaded now, and how long a
//! restore from cold storage takes.
//!
//! The core never talks to storage: a host observes an object (an S3 `HEAD`) and describes it
//! as an [`Availability`]; the core decides from that. Restore times default to the durations
//! AWS documents as upper bounds for each storage class and retrieval tier, and are
//! configurable ([`RestoreTimes`]) because the field report saw 1–2 hours where "3–5 hours" was
//! documented.
//!
//! ```
//! use fleetpath::{Availability, RestoreTier, RestoreTimes, StorageClass};
//!
//! let archived = Availability::Archived { class: StorageClass::GlacierFlexibleRetrieval };
//! let window_opens: jiff::Timestamp = "2026-11-23T13:00:00Z".parse()?;
//! assert!(!archived.downloadable_at(window_opens));
//! // A Standard restore takes up to 5 hours: request it by 08:00 to be ready at 13:00.
//! let times = RestoreTimes::default();
//! let by = times.request_by(StorageClass::GlacierFlexibleRetrieval, RestoreTier::Standard, window_opens);
//! assert_eq!(by.unwrap().to_string(), "2026-11-23T08:00:00Z");
//! // Deep Archive has no Expedited tier.
//! assert!(times.duration(StorageClass::DeepArchive, RestoreTier::Expedited).is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Where an object is stored (S3 storage classes; Intelligent-Tiering's archive tiers apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StorageClass {
    /// S3 Standard (and Reduced Redundancy, Express One Zone): downloadable.
    Standard,
    /// Standard-IA and One Zone-IA: downloadable.
    InfrequentAccess,
    /// Intelligent-Tiering frequent or infrequent tier: downloadable.
    IntelligentTiering,
    /// Glacier Instant Retrieval: downloadable.
    GlacierInstantRetrieval,
    /// Glacier Flexible Retrieval (`GLACIER`): needs a restore.
    GlacierFlexibleRetrieval,
    /// Glacier Deep Archive: needs a restore.
    DeepArchive,
    /// Intelligent-Tiering Archive Access tier: needs a restore (no restore days).
    IntelligentTieringArchive,
    /// Intelligent-Tiering Deep Archive Access tier: needs a restore (no restore days).
    IntelligentTieringDeepArchive,
}

impl StorageClass {
    /// Whether a `GET` needs a restore first.
    pub fn needs_restore(self) -> bool {
        matches!(
            self,
            Self::GlacierFlexibleRetrieval
                | Self::DeepArchive
                | Self::IntelligentTieringArchive
                | Self::IntelligentTieringDeepArchive
        )
    }
}

/// A restore's speed (S3 retrieval tiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestoreTier {
    /// Minutes; not for Deep Archive classes.
    Expedited,
    /// Hours.
    Standard,
    /// Many hours; cheapest.
    Bulk,
}

/// What a host observed about an artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Availability {
    /// Downloadable now (and for as long as lifecycle rules leave it).
    Available {
        /// Its storage class.
        class: StorageClass,
    },
    /// In cold storage; a restore must be requested.
    Archived {
        /// Its storage class.
        class: StorageClass,
    },
    /// A restore is in progress.
    Restoring {
        /// Its storage class.
        class: StorageClass,
        /// When the restore was requested.
        since: Timestamp,
        /// When it should be done (from [`RestoreTimes`]).
        ready_by: Timestamp,
    },
    /// A restored copy is downloadable until `until` (then the object is archived again).
    Restored {
        /// Its storage class.
        class: StorageClass,
        /// When the restored copy expires.
        until: Timestamp,
    },
    /// No such object.
    Missing,
}

impl Availability {
    /// Whether a download started at `at` can succeed.
    pub fn downloadable_at(&self, at: Timestamp) -> bool {
        match self {
            Self::Available { .. } => true,
            Self::Restored { until, .. } => at < *until,
            Self::Archived { .. } | Self::Restoring { .. } | Self::Missing => false,
        }
    }
}

/// The longest a restore takes, per storage class and tier, in minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RestoreTimes {
    /// Glacier Flexible Retrieval and Intelligent-Tiering Archive Access: Expedited.
    pub flexible_expedited_minutes: u32,
    /// … Standard.
    pub flexible_standard_minutes: u32,
    /// … Bulk.
    pub flexible_bulk_minutes: u32,
    /// Deep Archive and Intelligent-Tiering Deep Archive Access: Standard.
    pub deep_standard_minutes: u32,
    /// … Bulk.
    pub deep_bulk_minutes: u32,
}

impl Default for RestoreTimes {
    /// The upper bounds AWS documents: Flexible Retrieval 1–5 minutes (Expedited), 3–5 hours
    /// (Standard), 5–12 hours (Bulk); Deep Archive within 12 hours (Standard) and 48 hours
    /// (Bulk).
    fn default() -> Self {
        Self {
            flexible_expedited_minutes: 5,
            flexible_standard_minutes: 5 * 60,
            flexible_bulk_minutes: 12 * 60,
            deep_standard_minutes: 12 * 60,
            deep_bulk_minutes: 48 * 60,
        }
    }
}

impl RestoreTimes {
    /// How long a restore of `class` at `tier` takes at most; `None` when the class needs no
    /// restore or does not offer the tier (Deep Archive has no Expedited).
    pub fn duration(&self, class: StorageClass, tier: RestoreTier) -> Option<SignedDuration> {
        let minutes = match (class, tier) {
            (StorageClass::GlacierFlexibleRetrieval | StorageClass::IntelligentTieringArchive, tier) => match tier {
                RestoreTier::Expedited => self.flexible_expedited_minutes,
                RestoreTier::Standard => self.flexible_standard_minutes,
                RestoreTier::Bulk => self.flexible_bulk_minutes,
            },
            (StorageClass::DeepArchive | StorageClass::IntelligentTieringDeepArchive, RestoreTier::Standard) => {
                self.deep_standard_minutes
            }
            (StorageClass::DeepArchive | StorageClass::IntelligentTieringDeepArchive, RestoreTier::Bulk) => {
                self.deep_bulk_minutes
            }
            _ => return None,
        };
        Some(SignedDuration::from_mins(i64::from(minutes)))
    }

    /// When a restore must be requested at the latest so that the artifact is downloadable at
    /// `needed_at`; `None` as for [`RestoreTimes::duration`].
    pub fn request_by(&self, class: StorageClass, tier: RestoreTier, needed_at: Timestamp) -> Option<Timestamp> {
        self.duration(class, tier).and_then(|d| needed_at.checked_sub(d).ok())
    }

    /// When a restore requested at `at` should be done.
    pub fn ready_by(&self, class: StorageClass, tier: RestoreTier, at: Timestamp) -> Option<Timestamp> {
        self.duration(class, tier).and_then(|d| at.checked_add(d).ok())
    }
}

/// A presigned download URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresignedUrl {
    /// The URL.
    pub url: String,
    /// When it stops working.
    pub expires_at: Timestamp,
}

/// The longest lifetime of an S3 presigned URL signed with `SigV4` (7 days), in seconds.
pub const MAX_URL_LIFETIME_SECONDS: u32 = 7 * 24 * 3600;

/// What a host observed about each artifact: object key to availability (see
/// [`Decider::with_availability`](crate::decision::Decider::with_availability)).
pub type Observations = std::collections::BTreeMap<String, Availability>;

/// Where firmware binaries live: the interface the core's decisions are carried out
/// through. The core never calls it; hosts do (the `fleetpath-aws` crate implements it over
/// S3, [`MemoryStore`] in memory for tests and demos).
///
/// Methods return futures so that an async SDK can implement the trait directly; the core
/// has no runtime and never polls them. This is the single-threaded form: its futures need not
/// be `Send`, so a store backed by JavaScript promises (a browser's `fetch`, a Node service
/// through wasm) implements it. Multi-threaded hosts implement [`ArtifactStore`], the same
/// trait with `Send` futures, and get this one for free.
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use fleetpath::artifact::PresignedUrl;
/// use fleetpath::{Availability, LocalArtifactStore, RestoreTier, StorageClass};
///
/// /// A store whose answers come from the host's event loop (here, a shared cell).
/// struct BrowserStore { seen: Rc<RefCell<Vec<String>>> }
///
/// impl LocalArtifactStore for BrowserStore {
///     type Error = std::io::Error;
///     async fn availability(&self, key: &str) -> Result<Availability, Self::Error> {
///         let seen = Rc::clone(&self.seen); // not Send: fine for a single-threaded host
///         seen.borrow_mut().push(key.to_owned());
///         Ok(Availability::Available { class: StorageClass::Standard })
///     }
///     async fn request_restore(&self, _: &str, _: RestoreTier, _: u32) -> Result<Availability, Self::Error> {
///         Err(std::io::Error::other("not archived"))
///     }
///     async fn presign(&self, key: &str, _: u32) -> Result<PresignedUrl, Self::Error> {
///         Ok(PresignedUrl { url: format!("https://example.test/{key}"), expires_at: jiff::Timestamp::UNIX_EPOCH })
///     }
/// }
/// ```
#[trait_variant::make(ArtifactStore: Send)]
pub trait LocalArtifactStore {
    /// What can go wrong (network, permissions, throttling).
    type Error: std::error::Error + 'static;

    /// Observes an object (S3: `HEAD`, its storage class and `x-amz-restore` header).
    async fn availability(&self, key: &str) -> Result<Availability, Self::Error>;

    /// Requests a restore of an archived object for `days` days (S3: `RestoreObject`), and
    /// returns its availability afterwards (restoring, or already restored).
    async fn request_restore(&self, key: &str, tier: RestoreTier, days: u32) -> Result<Availability, Self::Error>;

    /// A download URL for the object that works for `lifetime_seconds` (at most
    /// [`MAX_URL_LIFETIME_SECONDS`]).
    async fn presign(&self, key: &str, lifetime_seconds: u32) -> Result<PresignedUrl, Self::Error>;
}

/// Why a [`MemoryStore`] refused a call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MemoryStoreError {
    /// No such object.
    #[error("no object {key:?}")]
    NoSuchKey {
        /// The key.
        key: String,
    },
    /// A restore of an object that is not archived (S3 answers `InvalidObjectState`).
    #[error("object {key:?} is not archived")]
    NotArchived {
        /// The key.
        key: String,
    },
    /// The storage class does not offer the tier.
    #[error("object {key:?}: its storage class has no {tier:?} restore")]
    TierUnavailable {
        /// The key.
        key: String,
        /// The tier.
        tier: RestoreTier,
    },
    /// A presigned URL's lifetime out of range, or of an object that cannot be downloaded.
    #[error("object {key:?}: {problem}")]
    NotDownloadable {
        /// The key.
        key: String,
        /// Why.
        problem: String,
    },
}

#[derive(Debug, Default)]
struct MemoryInner {
    now: Option<Timestamp>,
    objects: std::collections::BTreeMap<String, (Availability, u32)>,
    restores: u32,
}

/// An in-memory [`ArtifactStore`] with an explicit clock, for tests, demos and dry runs:
/// restores take exactly the [`RestoreTimes`] of their class and tier and finish when
/// [`MemoryStore::set_now`] passes their end.
///
/// ```
/// use fleetpath::{ArtifactStore, Availability, MemoryStore, RestoreTier, StorageClass};
/// let t0: jiff::Timestamp = "2026-11-23T08:00:00Z".parse()?;
/// let store = MemoryStore::new(t0, fleetpath::RestoreTimes::default());
/// store.insert("fw/5.6.30.bin", Availability::Archived { class: StorageClass::GlacierFlexibleRetrieval });
/// // Any executor runs these futures; they are ready at once.
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let waker = std::task::Waker::noop();
/// #     let mut cx = std::task::Context::from_waker(&waker);
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// let state = block_on(store.request_restore("fw/5.6.30.bin", RestoreTier::Standard, 7))?;
/// assert!(matches!(state, Availability::Restoring { .. }));
/// store.set_now("2026-11-23T13:00:00Z".parse()?);
/// assert!(matches!(block_on(store.availability("fw/5.6.30.bin"))?, Availability::Restored { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct MemoryStore {
    times: RestoreTimes,
    inner: std::sync::Mutex<MemoryInner>,
}

impl MemoryStore {
    /// An empty store whose clock reads `now`.
    pub fn new(now: Timestamp, times: RestoreTimes) -> Self {
        Self { times, inner: std::sync::Mutex::new(MemoryInner { now: Some(now), ..MemoryInner::default() }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        // A poisoned lock only means another thread panicked mid-call; the map is still whole.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds or replaces an object.
    pub fn insert(&self, key: &str, availability: Availability) {
        self.lock().objects.insert(key.to_owned(), (availability, 0));
    }

    /// Moves the clock (restores whose end has passed become restored; restored copies
    /// whose days ran out are archived again).
    pub fn set_now(&self, now: Timestamp) {
        let mut inner = self.lock();
        inner.now = Some(now);
        for (availability, days) in inner.objects.values_mut() {
            match *availability {
                Availability::Restoring { class, ready_by, .. } if ready_by <= now => {
                    let until = ready_by.checked_add(SignedDuration::from_hours(24 * i64::from(*days)));
                    *availability = Availability::Restored { class, until: until.unwrap_or(Timestamp::MAX) };
                }
                Availability::Restored { class, until } if until <= now => {
                    *availability = Availability::Archived { class };
                }
                _ => {}
            }
        }
    }

    /// Every object and its availability, by key (what a host passes to a decider).
    pub fn snapshot(&self) -> std::collections::BTreeMap<String, Availability> {
        self.lock().objects.iter().map(|(k, (a, _))| (k.clone(), a.clone())).collect()
    }

    /// How many restores were requested.
    pub fn restores_requested(&self) -> u32 {
        self.lock().restores
    }

    fn now(inner: &MemoryInner) -> Timestamp {
        inner.now.unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

impl ArtifactStore for MemoryStore {
    type Error = MemoryStoreError;

    fn availability(&self, key: &str) -> impl Future<Output = Result<Availability, Self::Error>> + Send {
        let inner = self.lock();
        let result = inner.objects.get(key).map_or(Ok(Availability::Missing), |(a, _)| Ok(a.clone()));
        std::future::ready(result)
    }

    fn request_restore(
        &self,
        key: &str,
        tier: RestoreTier,
        days: u32,
    ) -> impl Future<Output = Result<Availability, Self::Error>> + Send {
        let mut inner = self.lock();
        let now = Self::now(&inner);
        let result = match inner.objects.get(key).map(|(a, _)| a.clone()) {
            None => Err(MemoryStoreError::NoSuchKey { key: key.to_owned() }),
            Some(Availability::Archived { class }) => match self.times.ready_by(class, tier, now) {
                None => Err(MemoryStoreError::TierUnavailable { key: key.to_owned(), tier }),
                Some(ready_by) => {
                    let restoring = Availability::Restoring { class, since: now, ready_by };
                    inner.objects.insert(key.to_owned(), (restoring.clone(), days.max(1)));
                    inner.restores += 1;
                    Ok(restoring)
                }
            },
            // S3 accepts a repeated request while one is in progress, and extends a restored
            // copy; neither starts a new restore.
            Some(state @ (Availability::Restoring { .. } | Availability::Restored { .. })) => Ok(state),
            Some(Availability::Available { .. } | Availability::Missing) => {
                Err(MemoryStoreError::NotArchived { key: key.to_owned() })
            }
        };
        std::future::ready(result)
    }

    fn presign(
        &self,
        key: &str,
        lifetime_seconds: u32,
    ) -> impl Future<Output = Result<PresignedUrl, Self::Error>> + Send {
        let inner = self.lock();
        let now = Self::now(&inner);
        let not = |problem: String| Err(MemoryStoreError::NotDownloadable { key: key.to_owned(), problem });
        let result = if lifetime_seconds == 0 || lifetime_seconds > MAX_URL_LIFETIME_SECONDS {
            not(format!("URL lifetime {lifetime_seconds} s is outside 1 to 604800"))
        } else {
            match inner.objects.get(key) {
                Some((a, _)) if a.downloadable_at(now) => {
                    let expires_at = now
                        .checked_add(SignedDuration::from_secs(i64::from(lifetime_seconds)))
                        .unwrap_or(Timestamp::MAX);
                    Ok(PresignedUrl { url: format!("memory:///{key}?expires={}", expires_at.as_second()), expires_at })
                }
                Some(_) => not("not downloadable now (archived or restoring)".to_owned()),
                None => Err(MemoryStoreError::NoSuchKey { key: key.to_owned() }),
            }
        };
        std::future::ready(result)
    }
}

crate::document::documents! {
    Observations => "availability";
    Availability => "artifact availability";
    PresignedUrl => "presigned URL";
    StorageClass => "storage class";
    RestoreTier => "restore tier";
    RestoreTimes => "restore times";
}
#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn what_can_be_downloaded() {
        let at = t("2026-11-23T08:00:00Z");
        assert!(Availability::Available { class: StorageClass::GlacierInstantRetrieval }.downloadable_at(at));
        assert!(!Availability::Archived { class: StorageClass::DeepArchive }.downloadable_at(at));
        let restoring = Availability::Restoring {
            class: StorageClass::GlacierFlexibleRetrieval,
            since: at,
            ready_by: t("2026-11-23T13:00:00Z"),
        };
        assert!(!restoring.downloadable_at(t("2026-11-23T14:00:00Z")), "a host must observe the restore done");
        let restored =
            Availability::Restored { class: StorageClass::GlacierFlexibleRetrieval, until: t("2026-11-25T00:00:00Z") };
        assert!(restored.downloadable_at(at));
        assert!(!restored.downloadable_at(t("2026-11-25T00:00:00Z")), "expired at `until`");
        assert!(!Availability::Missing.downloadable_at(at));
        assert!(StorageClass::IntelligentTieringArchive.needs_restore());
        assert!(!StorageClass::IntelligentTiering.needs_restore());
    }

    #[test]
    fn restore_times_per_class_and_tier() {
        let times = RestoreTimes::default();
        let hours = |c, tier| times.duration(c, tier).map(|d: SignedDuration| d.as_secs() / 3600);
        assert_eq!(hours(StorageClass::GlacierFlexibleRetrieval, RestoreTier::Standard), Some(5));
        assert_eq!(hours(StorageClass::GlacierFlexibleRetrieval, RestoreTier::Bulk), Some(12));
        assert_eq!(hours(StorageClass::DeepArchive, RestoreTier::Standard), Some(12));
        assert_eq!(hours(StorageClass::IntelligentTieringDeepArchive, RestoreTier::Bulk), Some(48));
        assert_eq!(times.duration(StorageClass::DeepArchive, RestoreTier::Expedited), None);
        assert_eq!(times.duration(StorageClass::Standard, RestoreTier::Standard), None, "no restore needed");
        let field = RestoreTimes { flexible_standard_minutes: 120, ..RestoreTimes::default() };
        let needed = t("2026-11-23T13:00:00Z");
        assert_eq!(
            field.request_by(StorageClass::GlacierFlexibleRetrieval, RestoreTier::Standard, needed),
            Some(t("2026-11-23T11:00:00Z"))
        );
        assert_eq!(
            field.ready_by(StorageClass::GlacierFlexibleRetrieval, RestoreTier::Standard, needed),
            Some(t("2026-11-23T15:00:00Z"))
        );
        let json = serde_json::to_string(&Availability::Archived { class: StorageClass::DeepArchive }).unwrap();
        assert_eq!(json, r#"{"state":"archived","class":"deep_archive"}"#);
    }
}
