//! How the adapter talks to S3: bucket, endpoint, timeouts, retries, URL lifetimes.

use fleetpath::{RestoreTier, RestoreTimes};
use serde::{Deserialize, Serialize};

/// The adapter's settings, serde-readable from a host's configuration (unknown fields are
/// refused). Every field has a default except `bucket`.
///
/// ```
/// let settings: fleetpath_aws::S3Settings = serde_json::from_str(
///     r#"{"bucket": "plant-firmware", "region": "eu-central-1", "max_url_lifetime_seconds": 900}"#)?;
/// assert_eq!(settings.max_attempts, 3);
/// settings.validate()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Settings {
    /// The bucket holding firmware (and, usually, the manifest).
    pub bucket: String,
    /// The region; `None`: from the environment (`AWS_REGION`, profile, instance metadata).
    #[serde(default)]
    pub region: Option<String>,
    /// Another S3 endpoint (`MinIO`, moto, a VPC endpoint URL); `None`: AWS's.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), which local servers need.
    #[serde(default)]
    pub force_path_style: bool,
    /// Connecting may take this long (milliseconds).
    #[serde(default = "defaults::connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// One attempt may take this long, from sending to the last byte of the answer.
    #[serde(default = "defaults::attempt_timeout_ms")]
    pub attempt_timeout_ms: u64,
    /// One call, all its retries included, may take this long. For a document
    /// ([`Documents`](crate::Documents)) this includes reading its body, to the last byte:
    /// the SDK's own timeouts end when the headers arrive.
    #[serde(default = "defaults::operation_timeout_ms")]
    pub operation_timeout_ms: u64,
    /// Attempts per call (the SDK's standard retry mode: throttling, 5xx and timeouts are
    /// retried with exponential backoff and jitter; 4xx never).
    #[serde(default = "defaults::max_attempts")]
    pub max_attempts: u32,
    /// First retry delay (milliseconds; doubles per attempt, with jitter).
    #[serde(default = "defaults::initial_backoff_ms")]
    pub initial_backoff_ms: u64,
    /// Longest retry delay (milliseconds).
    #[serde(default = "defaults::max_backoff_ms")]
    pub max_backoff_ms: u64,
    /// Longest presigned URL this store signs (seconds; at most
    /// [`MAX_URL_LIFETIME_SECONDS`](fleetpath::decision::MAX_URL_LIFETIME_SECONDS), `SigV4`'s
    /// 7 days).
    #[serde(default = "defaults::max_url_lifetime_seconds")]
    pub max_url_lifetime_seconds: u32,
    /// Restore durations, for the `ready_by` of restores.
    #[serde(default)]
    pub restore_times: RestoreTimes,
    /// The tier assumed for a running restore this store did not request and was not told
    /// about ([`S3ArtifactStore::note_restore`](crate::S3ArtifactStore::note_restore)).
    #[serde(default = "defaults::assumed_tier")]
    pub assumed_restore_tier: RestoreTier,
    /// `HEAD` requests in flight at once when observing many artifacts.
    #[serde(default = "defaults::concurrency")]
    pub concurrency: usize,
    /// The largest document ([`Documents`](crate::Documents): manifest, fleet, calendar) read,
    /// in bytes; 16 MiB by default. A larger one is
    /// [`S3Error::DocumentTooLarge`](crate::S3Error::DocumentTooLarge), from its
    /// `Content-Length` before its body is read, or once the bytes read pass the limit.
    #[serde(default = "defaults::max_document_bytes")]
    pub max_document_bytes: u64,
}

mod defaults {
    pub(super) fn connect_timeout_ms() -> u64 {
        3_000
    }
    pub(super) fn attempt_timeout_ms() -> u64 {
        10_000
    }
    pub(super) fn operation_timeout_ms() -> u64 {
        30_000
    }
    pub(super) fn max_attempts() -> u32 {
        3
    }
    pub(super) fn initial_backoff_ms() -> u64 {
        200
    }
    pub(super) fn max_backoff_ms() -> u64 {
        5_000
    }
    pub(super) fn max_url_lifetime_seconds() -> u32 {
        3_600
    }
    pub(super) fn assumed_tier() -> fleetpath::RestoreTier {
        fleetpath::RestoreTier::Standard
    }
    pub(super) fn concurrency() -> usize {
        16
    }
    pub(super) fn max_document_bytes() -> u64 {
        super::DEFAULT_MAX_DOCUMENT_BYTES
    }
}

/// The default [`S3Settings::max_document_bytes`]: 16 MiB (the seed manifest is 2 KB).
pub const DEFAULT_MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;

impl S3Settings {
    /// Defaults for `bucket`.
    pub fn new(bucket: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            region: None,
            endpoint: None,
            force_path_style: false,
            connect_timeout_ms: defaults::connect_timeout_ms(),
            attempt_timeout_ms: defaults::attempt_timeout_ms(),
            operation_timeout_ms: defaults::operation_timeout_ms(),
            max_attempts: defaults::max_attempts(),
            initial_backoff_ms: defaults::initial_backoff_ms(),
            max_backoff_ms: defaults::max_backoff_ms(),
            max_url_lifetime_seconds: defaults::max_url_lifetime_seconds(),
            restore_times: RestoreTimes::default(),
            assumed_restore_tier: defaults::assumed_tier(),
            concurrency: defaults::concurrency(),
            max_document_bytes: defaults::max_document_bytes(),
        }
    }

    /// A local S3 server (moto, `MinIO`) at `endpoint`: path-style, region `us-east-1`.
    pub fn local(bucket: impl Into<String>, endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: Some(endpoint.into()),
            force_path_style: true,
            region: Some("us-east-1".to_owned()),
            ..Self::new(bucket)
        }
    }

    /// Checks every field.
    ///
    /// # Errors
    ///
    /// [`S3Error::Config`](crate::S3Error::Config) naming the field.
    pub fn validate(&self) -> Result<(), crate::S3Error> {
        let bad = |detail: String| Err(crate::S3Error::Config { detail });
        let max = fleetpath::decision::MAX_URL_LIFETIME_SECONDS;
        if self.bucket.trim().is_empty() {
            return bad("bucket is empty".to_owned());
        }
        if let Some(endpoint) = &self.endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return bad(format!("endpoint {endpoint:?} is not an http:// or https:// URL"));
        }
        for (field, value) in [
            ("connect_timeout_ms", self.connect_timeout_ms),
            ("attempt_timeout_ms", self.attempt_timeout_ms),
            ("operation_timeout_ms", self.operation_timeout_ms),
        ] {
            if value == 0 {
                return bad(format!("{field} is 0 (calls could hang)"));
            }
        }
        if self.max_attempts == 0 {
            return bad("max_attempts is 0".to_owned());
        }
        if self.initial_backoff_ms > self.max_backoff_ms {
            return bad(format!(
                "initial_backoff_ms {} is above max_backoff_ms {}",
                self.initial_backoff_ms, self.max_backoff_ms
            ));
        }
        if self.max_url_lifetime_seconds == 0 || self.max_url_lifetime_seconds > max {
            return bad(format!("max_url_lifetime_seconds {} is outside 1 to {max}", self.max_url_lifetime_seconds));
        }
        if self.concurrency == 0 {
            return bad("concurrency is 0".to_owned());
        }
        if self.max_document_bytes == 0 {
            return bad("max_document_bytes is 0".to_owned());
        }
        Ok(())
    }

    /// `s3://bucket/key`, as errors name objects.
    #[cfg_attr(not(feature = "s3"), allow(dead_code))]
    pub(crate) fn target(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_field() {
        let err = |f: fn(&mut S3Settings)| {
            let mut s = S3Settings::new("fw");
            f(&mut s);
            s.validate().unwrap_err().to_string()
        };
        assert_eq!(err(|s| s.bucket = " ".into()), "s3 settings: bucket is empty");
        assert_eq!(
            err(|s| s.endpoint = Some("127.0.0.1:9000".into())),
            r#"s3 settings: endpoint "127.0.0.1:9000" is not an http:// or https:// URL"#
        );
        assert_eq!(err(|s| s.attempt_timeout_ms = 0), "s3 settings: attempt_timeout_ms is 0 (calls could hang)");
        assert_eq!(err(|s| s.max_attempts = 0), "s3 settings: max_attempts is 0");
        assert_eq!(err(|s| s.max_document_bytes = 0), "s3 settings: max_document_bytes is 0");
        assert_eq!(S3Settings::new("fw").max_document_bytes, 16 * 1024 * 1024);
        assert_eq!(
            err(|s| s.max_url_lifetime_seconds = 604_801),
            "s3 settings: max_url_lifetime_seconds 604801 is outside 1 to 604800"
        );
        assert_eq!(
            err(|s| s.initial_backoff_ms = 10_000),
            "s3 settings: initial_backoff_ms 10000 is above max_backoff_ms 5000"
        );
        assert!(S3Settings::local("fw", "http://127.0.0.1:9000").validate().is_ok());
        let parsed: Result<S3Settings, _> = serde_json::from_str(r#"{"bucket": "fw", "max_atempts": 2}"#);
        assert!(parsed.unwrap_err().to_string().contains("unknown field `max_atempts`"));
    }
}
