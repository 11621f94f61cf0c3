//! [`S3ArtifactStore`]: the core's [`ArtifactStore`] over S3.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{ChecksumMode, GlacierJobParameters, RestoreRequest, Tier};
use fleetpath::{
    Artifact, ArtifactStore, Availability, RestoreTier, StorageClass, UpgradeGraph, artifact::PresignedUrl,
};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::client::{classify, code_of, status_of};
use crate::error::S3Error;
use crate::object::{Head, Integrity, Observation};
use crate::settings::S3Settings;

/// Reads the time (the adapter's only clock; tests and simulations pass their own).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// A restore this store requested, or was told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreNote {
    /// When it was requested.
    pub since: Timestamp,
    /// Its tier.
    pub tier: RestoreTier,
}

struct Inner {
    client: aws_sdk_s3::Client,
    settings: S3Settings,
    clock: Clock,
    ledger: Mutex<HashMap<String, RestoreNote>>,
}

/// Firmware artifacts in one S3 bucket: the core's [`ArtifactStore`] (availability from
/// `HEAD`, restores, presigned `GET` URLs), plus integrity checks against the manifest.
///
/// Cheap to clone (the client and the restore ledger are shared).
///
/// **Restores in progress.** S3 says that a restore runs (`ongoing-request="true"`) but not
/// since when. The store remembers the restores it requests (its *ledger*); for others a host
/// that keeps its own records passes them with [`note_restore`](Self::note_restore).
/// Otherwise `since` is the moment of the observation and the tier
/// [`S3Settings::assumed_restore_tier`], so `ready_by` is a conservative estimate.
///
/// **Least privilege**: `s3:GetObject` (which also covers `HEAD`) and `s3:RestoreObject` on
/// the firmware prefix; `s3:ListBucket` on that prefix only so that a missing object reads as
/// 404 rather than 403 (see the crate docs' policy).
#[derive(Clone)]
pub struct S3ArtifactStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for S3ArtifactStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3ArtifactStore").field("settings", &self.inner.settings).finish_non_exhaustive()
    }
}

/// Many artifacts observed (see [`S3ArtifactStore::observe_graph`]).
#[derive(Debug, Default)]
pub struct Observations {
    /// What a [`Decider`](fleetpath::decision::Decider) and the prefetch planner take.
    pub availability: BTreeMap<String, Availability>,
    /// What the integrity checks verified, per key.
    pub integrity: BTreeMap<String, Integrity>,
    /// Objects that could not be observed or failed their integrity check. They are absent
    /// from `availability`, so the core treats them as unobserved (never downloadable).
    pub errors: BTreeMap<String, S3Error>,
}

impl S3ArtifactStore {
    /// Connects with the default credential chain (see [`s3_client`](crate::s3_client)).
    ///
    /// # Errors
    ///
    /// [`S3Error::Config`] for invalid settings or no region.
    pub async fn connect(settings: S3Settings) -> Result<Self, S3Error> {
        let client = crate::s3_client(&settings, None).await?;
        Ok(Self::new(client, settings))
    }

    /// A store over an existing client. The clock is the system's.
    pub fn new(client: aws_sdk_s3::Client, settings: S3Settings) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                settings,
                clock: Arc::new(Timestamp::now),
                ledger: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The same store reading `clock` (URLs are signed as of its time, restores noted at it).
    /// The client is shared; the restore ledger is copied, not shared, from here on.
    #[must_use]
    pub fn with_clock(self, clock: Clock) -> Self {
        let inner = Inner {
            client: self.inner.client.clone(),
            settings: self.inner.settings.clone(),
            clock,
            ledger: Mutex::new(self.ledger().clone()),
        };
        Self { inner: Arc::new(inner) }
    }

    /// The settings.
    pub fn settings(&self) -> &S3Settings {
        &self.inner.settings
    }

    /// The SDK client.
    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.inner.client
    }

    fn now(&self) -> Timestamp {
        (self.inner.clock)()
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, HashMap<String, RestoreNote>> {
        // A poisoned lock only means a panic elsewhere mid-insert; the map is still whole.
        self.inner.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a restore requested elsewhere (by an earlier run whose records the host keeps),
    /// so that its `ready_by` is exact.
    pub fn note_restore(&self, key: &str, note: RestoreNote) {
        self.ledger().insert(key.to_owned(), note);
    }

    /// The restores this store requested or was told about, by key.
    pub fn restore_notes(&self) -> BTreeMap<String, RestoreNote> {
        self.ledger().iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    fn target(&self, key: &str) -> String {
        self.inner.settings.target(key)
    }

    /// `since` and `ready_by` of a running restore of `key`.
    fn restoring_times(&self, key: &str, class: StorageClass) -> (Timestamp, Timestamp) {
        let settings = &self.inner.settings;
        let note = self.ledger().get(key).copied();
        let (since, tier) = note.map_or((self.now(), settings.assumed_restore_tier), |n| (n.since, n.tier));
        crate::object::restoring_window(&settings.restore_times, class, tier, since)
    }

    /// One `HEAD` (with checksums): the object's parts, or `None` when it does not exist.
    async fn head(&self, key: &str) -> Result<Option<aws_sdk_s3::operation::head_object::HeadObjectOutput>, S3Error> {
        // The SDK's futures are large (~17 KB); boxing keeps this crate's futures small.
        let result = Box::pin(
            self.inner
                .client
                .head_object()
                .bucket(&self.inner.settings.bucket)
                .key(key)
                .checksum_mode(ChecksumMode::Enabled)
                .send(),
        )
        .await;
        match result {
            Ok(out) => Ok(Some(out)),
            Err(err) if status_of(&err) == Some(404) => Ok(None),
            Err(err) => Err(classify("HeadObject", self.target(key), &err)),
        }
    }

    fn parts(out: &aws_sdk_s3::operation::head_object::HeadObjectOutput) -> Head<'_> {
        Head {
            storage_class: out.storage_class().map(aws_sdk_s3::types::StorageClass::as_str),
            archive_status: out.archive_status().map(aws_sdk_s3::types::ArchiveStatus::as_str),
            restore: out.restore(),
            content_length: out.content_length(),
            checksum_sha256: out.checksum_sha256(),
            checksum_type: out.checksum_type().map(aws_sdk_s3::types::ChecksumType::as_str),
            metadata_sha256: out.metadata().and_then(|m| m.get("sha256")).map(String::as_str),
        }
    }

    async fn observe_key(&self, key: &str) -> Result<Availability, S3Error> {
        let Some(out) = self.head(key).await? else {
            return Ok(Availability::Missing);
        };
        Self::parts(&out).availability(|class| self.restoring_times(key, class)).map_err(|source| S3Error::BadHeader {
            operation: "HeadObject",
            target: self.target(key),
            source,
        })
    }

    /// Observes the manifest's artifact with one `HEAD`: its availability, and its size and
    /// SHA-256 checked where S3 reports them.
    ///
    /// # Errors
    ///
    /// [`S3Error::IntegrityMismatch`] when the object is not the manifest's binary (a device
    /// must never be sent it); the SDK's errors otherwise.
    pub async fn observe(&self, artifact: &Artifact) -> Result<Observation, S3Error> {
        let key = &artifact.key;
        let Some(out) = self.head(key).await? else {
            return Ok(Observation { availability: Availability::Missing, integrity: None });
        };
        let head = Self::parts(&out);
        let integrity = head.check(artifact)?;
        let availability = head
            .availability(|class| self.restoring_times(key, class))
            .map_err(|source| S3Error::BadHeader { operation: "HeadObject", target: self.target(key), source })?;
        Ok(Observation { availability, integrity: Some(integrity) })
    }

    /// Observes every artifact of the graph ([`S3Settings::concurrency`] `HEAD`s at a time).
    /// The result is the same whatever order the answers come in.
    pub async fn observe_graph(&self, graph: &UpgradeGraph) -> Observations {
        let mut artifacts: BTreeMap<&str, &Artifact> = BTreeMap::new();
        for release in graph.releases() {
            if let Some(artifact) = release.artifact() {
                artifacts.insert(&artifact.key, artifact);
            }
        }
        self.observe_all(artifacts.into_values().cloned().collect()).await
    }

    /// Observes `artifacts` ([`S3Settings::concurrency`] at a time).
    pub async fn observe_all(&self, artifacts: Vec<Artifact>) -> Observations {
        let mut observations = Observations::default();
        let mut tasks = tokio::task::JoinSet::new();
        let mut pending = artifacts.into_iter();
        loop {
            while tasks.len() < self.inner.settings.concurrency {
                let Some(artifact) = pending.next() else { break };
                let store = self.clone();
                tasks.spawn(async move {
                    let result = store.observe(&artifact).await;
                    (artifact.key, result)
                });
            }
            let Some(joined) = tasks.join_next().await else { break };
            match joined {
                Ok((key, Ok(observation))) => {
                    if let Some(integrity) = observation.integrity {
                        observations.integrity.insert(key.clone(), integrity);
                    }
                    observations.availability.insert(key, observation.availability);
                }
                Ok((key, Err(err))) => {
                    observations.errors.insert(key, err);
                }
                // A task only ends without a value when it panicked: resume the panic here,
                // where the caller can see it (the SDK does not panic on bad input).
                Err(join_error) => std::panic::resume_unwind(join_error.into_panic()),
            }
        }
        observations
    }

    async fn send_restore(&self, key: &str, class: StorageClass, tier: RestoreTier, days: u32) -> Result<(), S3Error> {
        let target = self.target(key);
        let Some(_) = self.inner.settings.restore_times.duration(class, tier) else {
            return Err(S3Error::TierUnavailable { target, class, tier });
        };
        let tier_sdk = match tier {
            RestoreTier::Expedited => Tier::Expedited,
            RestoreTier::Standard => Tier::Standard,
            RestoreTier::Bulk => Tier::Bulk,
        };
        let job = GlacierJobParameters::builder()
            .tier(tier_sdk)
            .build()
            .map_err(|e| S3Error::Config { detail: e.to_string() })?;
        let mut request = RestoreRequest::builder().glacier_job_parameters(job);
        if let Some(days) = crate::object::restore_days(class, days) {
            request = request.days(i32::try_from(days).unwrap_or(i32::MAX));
        }
        let result = Box::pin(
            self.inner
                .client
                .restore_object()
                .bucket(&self.inner.settings.bucket)
                .key(key)
                .restore_request(request.build())
                .send(),
        )
        .await;
        match result {
            Ok(_) => {}
            // Someone else's restore runs: nothing to do, and not an error.
            Err(err) if status_of(&err) == Some(409) && code_of(&err) == Some("RestoreAlreadyInProgress") => {}
            Err(err) => return Err(classify("RestoreObject", target, &err)),
        }
        self.ledger().entry(key.to_owned()).or_insert(RestoreNote { since: self.now(), tier });
        Ok(())
    }

    async fn restore_key(&self, key: &str, tier: RestoreTier, days: u32) -> Result<Availability, S3Error> {
        let target = || self.target(key);
        match self.observe_key(key).await? {
            Availability::Missing => Err(S3Error::NoSuchKey { operation: "RestoreObject", target: target() }),
            Availability::Available { class } => Err(S3Error::NotArchived { target: target(), class }),
            // Running already: a second request would only be refused (409).
            restoring @ Availability::Restoring { .. } => Ok(restoring),
            Availability::Restored { class, until } => {
                // A repeated restore extends a restored copy (S3 answers 200); only ask when
                // the copy would expire before `days` from now.
                let wanted = self.now().checked_add(SignedDuration::from_hours(24 * i64::from(days)));
                if wanted.is_ok_and(|wanted| until < wanted) {
                    self.send_restore(key, class, tier, days).await?;
                    self.observe_key(key).await
                } else {
                    Ok(Availability::Restored { class, until })
                }
            }
            Availability::Archived { class } => {
                self.send_restore(key, class, tier, days).await?;
                self.observe_key(key).await
            }
            // A state this version does not know: never restore on a guess.
            other => Ok(other),
        }
    }

    async fn presign_key(&self, key: &str, lifetime_seconds: u32) -> Result<PresignedUrl, S3Error> {
        let max = self.inner.settings.max_url_lifetime_seconds.min(fleetpath::decision::MAX_URL_LIFETIME_SECONDS);
        if lifetime_seconds == 0 || lifetime_seconds > max {
            return Err(S3Error::InvalidLifetime { target: self.target(key), requested: lifetime_seconds, max });
        }
        let now = self.now();
        let lifetime = Duration::from_secs(u64::from(lifetime_seconds));
        let start = SystemTime::try_from(now).map_err(|e| S3Error::Config { detail: format!("clock: {e}") })?;
        let config = PresigningConfig::builder()
            .start_time(start)
            .expires_in(lifetime)
            .build()
            .map_err(|e| S3Error::Config { detail: e.to_string() })?;
        let request =
            Box::pin(self.inner.client.get_object().bucket(&self.inner.settings.bucket).key(key).presigned(config))
                .await
                .map_err(|err| classify("GetObject (presign)", self.target(key), &err))?;
        let expires_at =
            now.checked_add(SignedDuration::from_secs(i64::from(lifetime_seconds))).unwrap_or(Timestamp::MAX);
        Ok(PresignedUrl { url: request.uri().to_owned(), expires_at })
    }
}

impl ArtifactStore for S3ArtifactStore {
    type Error = S3Error;

    /// `HEAD` → availability: a missing key is [`Availability::Missing`] (not an error).
    fn availability(&self, key: &str) -> impl Future<Output = Result<Availability, S3Error>> + Send {
        self.observe_key(key)
    }

    /// Observes the object first, so repeated calls are safe: a running restore is left
    /// alone, a restored copy is extended only when it would expire within `days`, an
    /// archived object gets one `RestoreObject` (a 409 `RestoreAlreadyInProgress` from a
    /// concurrent caller is accepted). Returns the availability afterwards. Refused for
    /// objects that need no restore ([`S3Error::NotArchived`]) and tiers the class does not
    /// offer ([`S3Error::TierUnavailable`]).
    fn request_restore(
        &self,
        key: &str,
        tier: RestoreTier,
        days: u32,
    ) -> impl Future<Output = Result<Availability, S3Error>> + Send {
        self.restore_key(key, tier, days)
    }

    /// Signs a `GET` locally (no request), valid from the clock's now for
    /// `lifetime_seconds` (1 to [`S3Settings::max_url_lifetime_seconds`]). It does not check
    /// that the object is downloadable: decide first (the core's decider never hands out an
    /// archived artifact). With temporary credentials (a Lambda role) the URL also stops
    /// working when the session does.
    fn presign(&self, key: &str, lifetime_seconds: u32) -> impl Future<Output = Result<PresignedUrl, S3Error>> + Send {
        self.presign_key(key, lifetime_seconds)
    }
}
