//! Manifests, fleets and calendars loaded from S3, parsed once per version of the object.
//!
//! Every byte is read under a deadline, the operation timeout
//! ([`S3Settings::operation_timeout_ms`]) counted from the request to the body's last byte
//! (the SDK's own timeouts stop when the headers arrive), and a document is at most
//! [`S3Settings::max_document_bytes`] long: checked against `Content-Length` before the body
//! is read, and while reading (a body without one, or longer than announced, stops there).
//!
//! A warm Lambda keeps one [`Documents`] in a static; each invocation asks for the manifest
//! with `If-None-Match: <ETag>`. An unchanged object answers `304 Not Modified` with no body,
//! and the parsed value is handed out again (an `Arc`, no copy); a changed one is fetched,
//! parsed by the core and cached under its new `ETag`. A document the core refuses is an
//! error and leaves the previous version cached (hosts decide whether to keep serving it).
//!
//! With trusted keys ([`Documents::with_trust`]), [`Documents::signed_graph`] (and its fleet
//! and calendar peers) read signed envelopes (`fleetpath::trust`): a document is verified
//! before it is parsed or cached, and a version older than one already accepted (a replayed
//! manifest that would unblock a recalled release) is refused and never replaces the cached
//! one. Persist [`Documents::accepted_versions`] and seed a cold start with
//! [`Documents::accept_versions`], so a restarted host cannot be rolled back either.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use fleetpath::trust::{DocumentKind, TrustedKeys};
use fleetpath::{Calendar, Document, Fleet, UpgradeGraph};
use jiff::Timestamp;

use crate::client::{classify, status_of};
use crate::error::S3Error;
use crate::settings::{DEFAULT_MAX_DOCUMENT_BYTES, S3Settings};

/// A document and the object version it came from.
#[derive(Debug)]
pub struct Loaded<T> {
    /// The parsed document, shared with the cache.
    pub value: Arc<T>,
    /// The object's `ETag`.
    pub etag: String,
    /// Whether it came from the cache (S3 answered 304).
    pub cached: bool,
    /// The signed envelope's version and expiry, for documents read with trusted keys.
    pub signed: Option<(u64, Timestamp)>,
}

struct Entry {
    etag: String,
    value: Arc<dyn Any + Send + Sync>,
    signed: Option<(u64, Timestamp)>,
}

/// Documents in one bucket, cached by key and `ETag`.
pub struct Documents {
    client: aws_sdk_s3::Client,
    bucket: String,
    cache: Mutex<HashMap<String, Entry>>,
    fetches: AtomicU64,
    parses: AtomicU64,
    trusted: Option<TrustedKeys>,
    /// The highest version accepted per key.
    accepted: Mutex<HashMap<String, u64>>,
    /// The longest document read.
    max_bytes: u64,
    /// From the request to the body's last byte.
    deadline: Duration,
}

impl std::fmt::Debug for Documents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Documents").field("bucket", &self.bucket).finish_non_exhaustive()
    }
}

impl Documents {
    /// An empty cache over `bucket`: documents of at most [`DEFAULT_MAX_DOCUMENT_BYTES`]
    /// (16 MiB), each read within the client's operation timeout (30 s if it has none).
    /// [`Documents::from_settings`] takes both from the settings.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        let deadline = client
            .config()
            .timeout_config()
            .and_then(aws_smithy_types::timeout::TimeoutConfig::operation_timeout)
            .unwrap_or(Duration::from_secs(30));
        Self {
            client,
            bucket: bucket.into(),
            cache: Mutex::new(HashMap::new()),
            fetches: AtomicU64::new(0),
            parses: AtomicU64::new(0),
            trusted: None,
            accepted: Mutex::new(HashMap::new()),
            max_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
            deadline,
        }
    }

    /// An empty cache over `settings.bucket`: documents of at most
    /// [`S3Settings::max_document_bytes`], each read, to its last byte, within
    /// [`S3Settings::operation_timeout_ms`].
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), fleetpath_aws::S3Error> {
    /// let store = fleetpath_aws::S3ArtifactStore::connect(fleetpath_aws::S3Settings::new("plant-firmware")).await?;
    /// let documents = fleetpath_aws::Documents::from_settings(store.client().clone(), store.settings());
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_settings(client: aws_sdk_s3::Client, settings: &S3Settings) -> Self {
        Self {
            max_bytes: settings.max_document_bytes,
            deadline: Duration::from_millis(settings.operation_timeout_ms),
            ..Self::new(client, settings.bucket.clone())
        }
    }

    /// Reads signed documents with these keys ([`Documents::signed_graph`] and peers).
    #[must_use]
    pub fn with_trust(mut self, trusted: TrustedKeys) -> Self {
        self.trusted = Some(trusted);
        self
    }

    /// Records versions a host accepted before (from its own storage): older ones are refused.
    pub fn accept_versions(&self, versions: impl IntoIterator<Item = (String, u64)>) {
        let mut accepted = self.accepted.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, version) in versions {
            let slot = accepted.entry(key).or_insert(version);
            *slot = (*slot).max(version);
        }
    }

    /// The highest version accepted per key (persist it between cold starts).
    pub fn accepted_versions(&self) -> HashMap<String, u64> {
        self.accepted.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The signed manifest at `key`, verified at `now` against the trusted keys, never older
    /// than a version already accepted.
    ///
    /// # Errors
    ///
    /// [`S3Error::Config`] without trusted keys; [`S3Error::InvalidDocument`] whose source is
    /// the core's trust error (`bad_signature`, `expired`, `rolled_back`, …) or the
    /// manifest's own; the SDK's errors.
    pub async fn signed_graph(&self, key: &str, now: Timestamp) -> Result<Loaded<UpgradeGraph>, S3Error> {
        self.load_signed(key, DocumentKind::Manifest, now).await
    }

    /// The signed fleet at `key` (as [`Documents::signed_graph`]).
    ///
    /// # Errors
    ///
    /// As for [`Documents::signed_graph`].
    pub async fn signed_fleet(&self, key: &str, now: Timestamp) -> Result<Loaded<Fleet>, S3Error> {
        self.load_signed(key, DocumentKind::Fleet, now).await
    }

    /// The signed calendar at `key` (as [`Documents::signed_graph`]).
    ///
    /// # Errors
    ///
    /// As for [`Documents::signed_graph`].
    pub async fn signed_calendar(&self, key: &str, now: Timestamp) -> Result<Loaded<Calendar>, S3Error> {
        self.load_signed(key, DocumentKind::Calendar, now).await
    }

    async fn load_signed<T: Document + Send + Sync + 'static>(
        &self,
        key: &str,
        kind: DocumentKind,
        now: Timestamp,
    ) -> Result<Loaded<T>, S3Error> {
        let target = || format!("s3://{}/{key}", self.bucket);
        let Some(trusted) = &self.trusted else {
            return Err(S3Error::Config {
                detail: "signed documents need trusted keys (Documents::with_trust)".into(),
            });
        };
        let last = self.accepted.lock().unwrap_or_else(PoisonError::into_inner).get(key).copied();
        let loaded = self
            .fetch(key, |text| {
                let verified = fleetpath::trust::verify(text, kind, trusted, now, last)?;
                let value = T::from_json(&verified.document)?;
                Ok((value, Some((verified.version, verified.expires))))
            })
            .await?;
        let Some((version, expires)) = loaded.signed else {
            // Cached by `load`, unsigned: never served as signed.
            let source = fleetpath::trust::TrustError::Malformed { problem: "cached unsigned".into() }.into();
            return Err(S3Error::InvalidDocument { target: target(), source });
        };
        // An unchanged envelope may have expired since it was verified.
        if now >= expires {
            let source = fleetpath::trust::TrustError::Expired { version, expires, now }.into();
            return Err(S3Error::InvalidDocument { target: target(), source });
        }
        self.accept_versions([(key.to_owned(), version)]);
        Ok(loaded)
    }

    /// `GetObject` calls made so far (each 304 included).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Documents parsed so far (a 304 parses nothing).
    pub fn parses(&self) -> u64 {
        self.parses.load(Ordering::Relaxed)
    }

    /// The upgrade graph manifest at `key`.
    ///
    /// # Errors
    ///
    /// [`S3Error::InvalidDocument`] with the core's error (its code and the entry it names);
    /// the SDK's errors.
    pub async fn graph(&self, key: &str) -> Result<Loaded<UpgradeGraph>, S3Error> {
        self.load(key, |text| UpgradeGraph::from_json(text).map_err(fleetpath::Error::from)).await
    }

    /// The fleet at `key`: CSV when the key ends in `.csv` (any case), JSON otherwise.
    ///
    /// # Errors
    ///
    /// As for [`Documents::graph`].
    pub async fn fleet(&self, key: &str) -> Result<Loaded<Fleet>, S3Error> {
        if std::path::Path::new(key).extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
            self.load(key, |text| Fleet::from_csv(text).map_err(fleetpath::Error::from)).await
        } else {
            self.load(key, |text| Fleet::from_json(text).map_err(fleetpath::Error::from)).await
        }
    }

    /// The calendar at `key`.
    ///
    /// # Errors
    ///
    /// As for [`Documents::graph`].
    pub async fn calendar(&self, key: &str) -> Result<Loaded<Calendar>, S3Error> {
        self.load(key, |text| Calendar::from_json(text).map_err(fleetpath::Error::from)).await
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Any document: `parse` runs only when the object changed since the cached version.
    ///
    /// # Errors
    ///
    /// As for [`Documents::graph`].
    pub async fn load<T: Send + Sync + 'static>(
        &self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, fleetpath::Error>,
    ) -> Result<Loaded<T>, S3Error> {
        self.fetch(key, |text| Ok((parse(text)?, None))).await
    }

    /// Reads a `GetObject` body: every chunk before `deadline`, at most `max_bytes` in all, no
    /// more than the announced `Content-Length`.
    async fn read_body(
        &self,
        out: aws_sdk_s3::operation::get_object::GetObjectOutput,
        target: &str,
        deadline: tokio::time::Instant,
    ) -> Result<Vec<u8>, S3Error> {
        let bad = |detail: String| S3Error::BadResponse { operation: "GetObject", target: target.to_owned(), detail };
        let too_large = |size: u64, announced: bool| S3Error::DocumentTooLarge {
            target: target.to_owned(),
            limit: self.max_bytes,
            size,
            announced,
        };
        let announced = match out.content_length() {
            None => None,
            Some(length) => Some(u64::try_from(length).map_err(|_| bad(format!("Content-Length is {length}")))?),
        };
        if let Some(length) = announced.filter(|&length| length > self.max_bytes) {
            return Err(too_large(length, true));
        }
        let capacity = announced.unwrap_or(0).min(self.max_bytes);
        let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
        let mut body = out.body;
        loop {
            let read = bytes.len() as u64;
            let chunk = tokio::time::timeout_at(deadline, body.next()).await.map_err(|_| S3Error::Timeout {
                operation: "GetObject",
                target: target.to_owned(),
                detail: format!(
                    "body not read within the operation timeout ({} ms): {read} of {} bytes read",
                    self.deadline.as_millis(),
                    announced.map_or_else(|| "?".to_owned(), |length| length.to_string())
                ),
            })?;
            let Some(chunk) = chunk else { break };
            let chunk = chunk.map_err(|e| bad(format!("body: {}", aws_sdk_s3::error::DisplayErrorContext(&e))))?;
            let read = read + chunk.len() as u64;
            if read > self.max_bytes {
                return Err(too_large(read, false));
            }
            if let Some(length) = announced.filter(|&length| read > length) {
                return Err(bad(format!("body: longer than its Content-Length {length}")));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// Fetches `key` unless unchanged since the cached version, and parses it.
    async fn fetch<T: Send + Sync + 'static>(
        &self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<(T, Option<(u64, Timestamp)>), fleetpath::Error>,
    ) -> Result<Loaded<T>, S3Error> {
        let target = || format!("s3://{}/{key}", self.bucket);
        // A cached value of another type (the same key read as two kinds) counts as absent.
        let cached = self
            .cache()
            .get(key)
            .and_then(|e| Arc::clone(&e.value).downcast::<T>().ok().map(|v| (e.etag.clone(), v, e.signed)));
        let mut request = self.client.get_object().bucket(&self.bucket).key(key);
        if let Some((etag, _, _)) = &cached {
            request = request.if_none_match(etag);
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let deadline = tokio::time::Instant::now() + self.deadline;
        let sent = tokio::time::timeout_at(deadline, Box::pin(request.send())).await.map_err(|_| S3Error::Timeout {
            operation: "GetObject",
            target: target(),
            detail: format!("no answer within the operation timeout ({} ms)", self.deadline.as_millis()),
        })?;
        let out = match sent {
            Ok(out) => out,
            Err(err) if status_of(&err) == Some(304) => {
                if let Some((etag, value, signed)) = cached {
                    return Ok(Loaded { value, etag, cached: true, signed });
                }
                return Err(classify("GetObject", target(), &err));
            }
            Err(err) => return Err(classify("GetObject", target(), &err)),
        };
        let etag = out.e_tag().unwrap_or_default().to_owned();
        let bytes = self.read_body(out, &target(), deadline).await?;
        let text = std::str::from_utf8(&bytes).map_err(|_| S3Error::NotUtf8 { target: target() })?;
        self.parses.fetch_add(1, Ordering::Relaxed);
        let (value, signed) = parse(text).map_err(|source| S3Error::InvalidDocument { target: target(), source })?;
        let value = Arc::new(value);
        if !etag.is_empty() {
            let entry = Entry { etag: etag.clone(), value: Arc::clone(&value) as Arc<dyn Any + Send + Sync>, signed };
            self.cache().insert(key.to_owned(), entry);
        }
        Ok(Loaded { value, etag, cached: false, signed })
    }
}
