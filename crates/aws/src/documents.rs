//! Manifests, fleets and calendars loaded from S3, parsed once per version of the object.
//!
//! A warm Lambda keeps one [`Documents`] in a static; each invocation asks for the manifest
//! with `If-None-Match: <ETag>`. An unchanged object answers `304 Not Modified` with no body,
//! and the parsed value is handed out again (an `Arc`, no copy); a changed one is fetched,
//! parsed by the core and cached under its new `ETag`. A document the core refuses is an
//! error and leaves the previous version cached (hosts decide whether to keep serving it).

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use fleetpath::{Calendar, Fleet, UpgradeGraph};

use crate::client::{classify, status_of};
use crate::error::S3Error;

/// A document and the object version it came from.
#[derive(Debug)]
pub struct Loaded<T> {
    /// The parsed document, shared with the cache.
    pub value: Arc<T>,
    /// The object's `ETag`.
    pub etag: String,
    /// Whether it came from the cache (S3 answered 304).
    pub cached: bool,
}

struct Entry {
    etag: String,
    value: Arc<dyn Any + Send + Sync>,
}

/// Documents in one bucket, cached by key and `ETag`.
pub struct Documents {
    client: aws_sdk_s3::Client,
    bucket: String,
    cache: Mutex<HashMap<String, Entry>>,
    fetches: AtomicU64,
    parses: AtomicU64,
}

impl std::fmt::Debug for Documents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Documents").field("bucket", &self.bucket).finish_non_exhaustive()
    }
}

impl Documents {
    /// An empty cache over `bucket`.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            cache: Mutex::new(HashMap::new()),
            fetches: AtomicU64::new(0),
            parses: AtomicU64::new(0),
        }
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
        let target = || format!("s3://{}/{key}", self.bucket);
        // A cached value of another type (the same key read as two kinds) counts as absent.
        let cached =
            self.cache().get(key).and_then(|e| Arc::clone(&e.value).downcast::<T>().ok().map(|v| (e.etag.clone(), v)));
        let mut request = self.client.get_object().bucket(&self.bucket).key(key);
        if let Some((etag, _)) = &cached {
            request = request.if_none_match(etag);
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let out = match Box::pin(request.send()).await {
            Ok(out) => out,
            Err(err) if status_of(&err) == Some(304) => {
                if let Some((etag, value)) = cached {
                    return Ok(Loaded { value, etag, cached: true });
                }
                return Err(classify("GetObject", target(), &err));
            }
            Err(err) => return Err(classify("GetObject", target(), &err)),
        };
        let etag = out.e_tag().unwrap_or_default().to_owned();
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| S3Error::BadResponse { operation: "GetObject", target: target(), detail: e.to_string() })?
            .into_bytes();
        let text = std::str::from_utf8(&bytes).map_err(|_| S3Error::NotUtf8 { target: target() })?;
        self.parses.fetch_add(1, Ordering::Relaxed);
        let value = Arc::new(parse(text).map_err(|source| S3Error::InvalidDocument { target: target(), source })?);
        if !etag.is_empty() {
            let entry = Entry { etag: etag.clone(), value: Arc::clone(&value) as Arc<dyn Any + Send + Sync> };
            self.cache().insert(key.to_owned(), entry);
        }
        Ok(Loaded { value, etag, cached: false })
    }
}
