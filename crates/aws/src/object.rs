//! What an S3 `HEAD` says about a firmware object, in the core's terms. Pure: no SDK, no I/O,
//! so it is tested on the exact header strings S3 sends.
//!
//! - The storage class (`x-amz-storage-class`, absent for `STANDARD`) and, for
//!   Intelligent-Tiering, the archive status (`x-amz-archive-status`) give the
//!   [`StorageClass`]: Glacier Instant Retrieval and Intelligent-Tiering's frequent and
//!   infrequent tiers are downloadable at once; `GLACIER`, `DEEP_ARCHIVE` and
//!   Intelligent-Tiering's archive tiers need a restore.
//! - `x-amz-restore` says whether a restore runs (`ongoing-request="true"`) or a restored copy
//!   is there until its `expiry-date` (`ongoing-request="false", expiry-date="Fri, 21 Dec
//!   2012 00:00:00 GMT"`).
//! - The size and SHA-256 S3 reports (`Content-Length`; `x-amz-checksum-sha256` of a
//!   single-part upload made with a SHA-256 checksum, or `x-amz-meta-sha256` metadata) are
//!   checked against the manifest's artifact.
//!
//! ```
//! use fleetpath::{Availability, StorageClass};
//! use fleetpath_aws::object::{Head, RestoreHeader};
//!
//! let head = Head {
//!     storage_class: Some("GLACIER"),
//!     restore: Some(r#"ongoing-request="false", expiry-date="Fri, 04 Dec 2026 00:00:00 GMT""#),
//!     ..Head::default()
//! };
//! let seen = head.availability(|_| unreachable!("no restore is running"))?;
//! assert_eq!(seen, Availability::Restored {
//!     class: StorageClass::GlacierFlexibleRetrieval,
//!     until: "2026-12-04T00:00:00Z".parse()?,
//! });
//! assert_eq!(RestoreHeader::parse(r#"ongoing-request="true""#)?, RestoreHeader::Ongoing);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt::Write as _;

use base64::Engine as _;
use fleetpath::{Artifact, Availability, RestoreTier, RestoreTimes, StorageClass};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::S3Error;

/// Why a header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HeaderError {
    /// A storage class this crate does not know (so it cannot tell whether a restore is needed).
    #[error("unknown storage class {0:?}")]
    UnknownStorageClass(String),
    /// An `x-amz-archive-status` this crate does not know.
    #[error("unknown archive status {0:?}")]
    UnknownArchiveStatus(String),
    /// An `x-amz-restore` header that does not parse.
    #[error("x-amz-restore {header:?}: {problem}")]
    Restore {
        /// The header as received.
        header: String,
        /// What is wrong.
        problem: &'static str,
    },
}

/// The `x-amz-restore` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreHeader {
    /// `ongoing-request="true"`: a restore runs.
    Ongoing,
    /// `ongoing-request="false"`: done; the restored copy stays until `expiry` (absent for
    /// Intelligent-Tiering, whose restored objects move back to the frequent tier).
    Done {
        /// The `expiry-date`.
        expiry: Option<Timestamp>,
    },
}

impl RestoreHeader {
    /// Parses `ongoing-request="…"[, expiry-date="…"]` (the date in RFC 7231 form, which
    /// holds a comma; unknown keys are ignored, as S3 may add some).
    ///
    /// # Errors
    ///
    /// [`HeaderError::Restore`] when `ongoing-request` is missing or not `true`/`false`, a
    /// value is unquoted or unterminated, or the date does not parse.
    pub fn parse(header: &str) -> Result<Self, HeaderError> {
        let bad = |problem| HeaderError::Restore { header: header.to_owned(), problem };
        let mut ongoing = None;
        let mut expiry = None;
        let mut rest = header.trim();
        while !rest.is_empty() {
            let (key, after) = rest.split_once('=').ok_or_else(|| bad("expected key=\"value\""))?;
            let after = after.strip_prefix('"').ok_or_else(|| bad("value is not quoted"))?;
            let (value, after) = after.split_once('"').ok_or_else(|| bad("unterminated value"))?;
            match key.trim() {
                "ongoing-request" => {
                    ongoing = Some(match value {
                        "true" => true,
                        "false" => false,
                        _ => return Err(bad("ongoing-request is neither \"true\" nor \"false\"")),
                    });
                }
                "expiry-date" => {
                    let date = jiff::fmt::rfc2822::parse(value).map_err(|_| bad("expiry-date is not an HTTP date"))?;
                    expiry = Some(date.timestamp());
                }
                _ => {}
            }
            rest = after.trim_start();
            rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
        }
        match ongoing {
            None => Err(bad("ongoing-request is missing")),
            Some(true) => Ok(Self::Ongoing),
            Some(false) => Ok(Self::Done { expiry }),
        }
    }
}

/// When a running restore of `class` began and should be done: `since` (the host's own record
/// of the request, or an estimate) and `since` plus the longest time AWS documents for
/// `tier` (or Standard, when the class lacks the tier). For [`Head::availability`].
pub fn restoring_window(
    times: &RestoreTimes,
    class: StorageClass,
    tier: RestoreTier,
    since: Timestamp,
) -> (Timestamp, Timestamp) {
    let ready = times.ready_by(class, tier, since).or_else(|| times.ready_by(class, RestoreTier::Standard, since));
    (since, ready.unwrap_or(since))
}

/// The `Days` of a `RestoreObject` request for `class`: `days` (at least 1), or `None` for
/// Intelligent-Tiering's archive tiers, which take no `Days` (the object returns to the
/// frequent tier instead of getting a temporary copy).
///
/// ```
/// use fleetpath::StorageClass;
/// use fleetpath_aws::object::restore_days;
///
/// assert_eq!(restore_days(StorageClass::GlacierFlexibleRetrieval, 7), Some(7));
/// assert_eq!(restore_days(StorageClass::DeepArchive, 0), Some(1));
/// assert_eq!(restore_days(StorageClass::IntelligentTieringArchive, 7), None);
/// ```
pub fn restore_days(class: StorageClass, days: u32) -> Option<u32> {
    match class {
        StorageClass::IntelligentTieringArchive | StorageClass::IntelligentTieringDeepArchive => None,
        _ => Some(days.max(1)),
    }
}

/// The parts of a `HEAD` response that decide availability and integrity, as S3 spells them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Head<'a> {
    /// `x-amz-storage-class` (`None`: `STANDARD`).
    pub storage_class: Option<&'a str>,
    /// `x-amz-archive-status` (Intelligent-Tiering only).
    pub archive_status: Option<&'a str>,
    /// `x-amz-restore`.
    pub restore: Option<&'a str>,
    /// `Content-Length`.
    pub content_length: Option<i64>,
    /// `x-amz-checksum-sha256` (base64; composite multipart checksums end in `-N`).
    pub checksum_sha256: Option<&'a str>,
    /// `x-amz-checksum-type` (`FULL_OBJECT` or `COMPOSITE`).
    pub checksum_type: Option<&'a str>,
    /// `x-amz-meta-sha256` (hex), for uploads that record it as metadata.
    pub metadata_sha256: Option<&'a str>,
}

/// Maps S3's storage class and Intelligent-Tiering archive status to the core's class.
///
/// # Errors
///
/// An unknown class or archive status: guessing could hand devices an archived object.
pub fn storage_class(class: Option<&str>, archive_status: Option<&str>) -> Result<StorageClass, HeaderError> {
    Ok(match class.unwrap_or("STANDARD") {
        // Outposts and Snow objects are served where they live.
        "STANDARD" | "REDUCED_REDUNDANCY" | "EXPRESS_ONEZONE" | "OUTPOSTS" | "SNOW" => StorageClass::Standard,
        "STANDARD_IA" | "ONEZONE_IA" => StorageClass::InfrequentAccess,
        "GLACIER_IR" => StorageClass::GlacierInstantRetrieval,
        "GLACIER" => StorageClass::GlacierFlexibleRetrieval,
        "DEEP_ARCHIVE" => StorageClass::DeepArchive,
        "INTELLIGENT_TIERING" => match archive_status {
            None => StorageClass::IntelligentTiering,
            Some("ARCHIVE_ACCESS") => StorageClass::IntelligentTieringArchive,
            Some("DEEP_ARCHIVE_ACCESS") => StorageClass::IntelligentTieringDeepArchive,
            Some(other) => return Err(HeaderError::UnknownArchiveStatus(other.to_owned())),
        },
        other => return Err(HeaderError::UnknownStorageClass(other.to_owned())),
    })
}

impl Head<'_> {
    /// The object's availability. S3 does not say when a running restore was requested, so
    /// `restoring(class)` supplies `(since, ready_by)` (the store takes them from its restore
    /// ledger, or estimates them).
    ///
    /// # Errors
    ///
    /// An unknown storage class or archive status, or an unreadable `x-amz-restore`.
    pub fn availability(
        &self,
        restoring: impl FnOnce(StorageClass) -> (Timestamp, Timestamp),
    ) -> Result<Availability, HeaderError> {
        let class = storage_class(self.storage_class, self.archive_status)?;
        let restore = self.restore.map(RestoreHeader::parse).transpose()?;
        Ok(match restore {
            Some(RestoreHeader::Ongoing) => {
                let (since, ready_by) = restoring(class);
                Availability::Restoring { class, since, ready_by }
            }
            Some(RestoreHeader::Done { expiry: Some(until) }) => Availability::Restored { class, until },
            // Intelligent-Tiering: a restored object is back in the frequent tier.
            Some(RestoreHeader::Done { expiry: None }) => Availability::Available {
                class: if class.needs_restore() { StorageClass::IntelligentTiering } else { class },
            },
            None if class.needs_restore() => Availability::Archived { class },
            None => Availability::Available { class },
        })
    }

    /// Checks the size and SHA-256 S3 reports against the manifest's artifact.
    ///
    /// # Errors
    ///
    /// [`IntegrityError`] naming the field, the manifest's value and S3's.
    pub fn check(&self, artifact: &Artifact) -> Result<Integrity, IntegrityError> {
        let mismatch = |field, s3: String| IntegrityError {
            key: artifact.key.clone(),
            field,
            manifest: match field {
                "size" => artifact.size.map_or_else(String::new, |s| s.to_string()),
                _ => artifact.sha256.to_ascii_lowercase(),
            },
            s3,
        };
        if let (Some(length), Some(size)) = (self.content_length, artifact.size)
            && u64::try_from(length).ok() != Some(size)
        {
            return Err(mismatch("size", length.to_string()));
        }
        let size_checked = self.content_length.is_some() && artifact.size.is_some();
        let composite = self.checksum_type == Some("COMPOSITE");
        if let Some(checksum) = self.checksum_sha256.filter(|c| !composite && !c.contains('-')) {
            let s3_hex =
                base64::engine::general_purpose::STANDARD.decode(checksum).ok().filter(|bytes| bytes.len() == 32).map(
                    |bytes| {
                        bytes.iter().fold(String::with_capacity(64), |mut hex, b| {
                            let _ = write!(hex, "{b:02x}");
                            hex
                        })
                    },
                );
            return match s3_hex {
                Some(hex) if hex.eq_ignore_ascii_case(&artifact.sha256) => {
                    Ok(Integrity { size: size_checked, sha256: Sha256Source::Checksum })
                }
                Some(hex) => Err(mismatch("sha256", hex)),
                None => Err(mismatch("sha256", format!("unreadable checksum {checksum:?}"))),
            };
        }
        if let Some(meta) = self.metadata_sha256 {
            return if meta.trim().eq_ignore_ascii_case(&artifact.sha256) {
                Ok(Integrity { size: size_checked, sha256: Sha256Source::Metadata })
            } else {
                Err(mismatch("sha256", meta.trim().to_ascii_lowercase()))
            };
        }
        Ok(Integrity { size: size_checked, sha256: Sha256Source::NotReported })
    }
}

/// An artifact observed with one `HEAD`: its availability and what could be verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// The object's availability.
    pub availability: Availability,
    /// What the size and SHA-256 check verified (`None` for a missing object, or when no
    /// artifact was given to check against).
    pub integrity: Option<Integrity>,
}

/// The [`Head`] fields of a `HEAD` response, owned: what a host that calls S3 itself (boto3,
/// the AWS SDK for JavaScript, plain HTTP) hands over.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeadFields {
    /// `x-amz-storage-class`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// `x-amz-archive-status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_status: Option<String>,
    /// `x-amz-restore`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore: Option<String>,
    /// `Content-Length`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_length: Option<i64>,
    /// `x-amz-checksum-sha256`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_sha256: Option<String>,
    /// `x-amz-checksum-type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
    /// `x-amz-meta-sha256`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata_sha256: Option<String>,
}

/// Each field: the SDK output's key (boto3's `head_object` and the JavaScript SDK v3's
/// `HeadObjectCommand` use the same names) and the raw HTTP header.
const RESPONSE_KEYS: [(&str, &str); 6] = [
    ("StorageClass", "x-amz-storage-class"),
    ("ArchiveStatus", "x-amz-archive-status"),
    ("Restore", "x-amz-restore"),
    ("ContentLength", "content-length"),
    ("ChecksumSHA256", "x-amz-checksum-sha256"),
    ("ChecksumType", "x-amz-checksum-type"),
];

impl HeadFields {
    /// Reads a `HEAD` response as JSON: an SDK's output (`StorageClass`, `Restore`,
    /// `ContentLength`, `Metadata.sha256`, …, with boto3's `ResponseMetadata.HTTPHeaders`),
    /// or a map of raw HTTP headers (any case). SDK keys win over headers.
    ///
    /// ```
    /// use fleetpath_aws::HeadFields;
    /// let boto3 = serde_json::json!({"StorageClass": "GLACIER", "ContentLength": 42, "Metadata": {"sha256": "ab"}});
    /// let fields = HeadFields::from_response(&boto3)?;
    /// assert_eq!((fields.storage_class.as_deref(), fields.content_length), (Some("GLACIER"), Some(42)));
    /// let raw = serde_json::json!({"X-Amz-Restore": "ongoing-request=\"true\"", "Content-Length": "7"});
    /// assert_eq!(HeadFields::from_response(&raw)?.content_length, Some(7));
    /// # Ok::<(), fleetpath_aws::S3Error>(())
    /// ```
    ///
    /// # Errors
    /// [`S3Error::BadResponse`] when the response is not an object or a field has the wrong
    /// type (a length that is not a whole number).
    pub fn from_response(response: &serde_json::Value) -> Result<Self, S3Error> {
        let bad = |detail: String| S3Error::BadResponse { operation: "HeadObject", target: String::new(), detail };
        let object = response.as_object().ok_or_else(|| bad("the response is not an object".to_owned()))?;
        let lowercase = |map: &serde_json::Map<String, serde_json::Value>| -> Vec<(String, serde_json::Value)> {
            map.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect()
        };
        let sdk_headers = object
            .get("ResponseMetadata")
            .and_then(|m| m.get("HTTPHeaders"))
            .and_then(serde_json::Value::as_object)
            .map(lowercase)
            .unwrap_or_default();
        let raw = lowercase(object);
        let header = |name: &str| sdk_headers.iter().chain(&raw).find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let text = |value: serde_json::Value, name: &str| match value {
            serde_json::Value::String(s) => Ok(s),
            serde_json::Value::Number(n) => Ok(n.to_string()),
            other => Err(bad(format!("{name} is {other}, not text"))),
        };
        let mut values: [Option<String>; 6] = Default::default();
        for (slot, (sdk, http)) in values.iter_mut().zip(RESPONSE_KEYS) {
            if let Some(value) = object.get(sdk).cloned().filter(|v| !v.is_null()).or_else(|| header(http)) {
                *slot = Some(text(value, sdk)?);
            }
        }
        let [storage_class, archive_status, restore, content_length, checksum_sha256, checksum_type] = values;
        let content_length = content_length
            .map(|n| n.trim().parse::<i64>().map_err(|_| bad(format!("ContentLength {n:?} is not a whole number"))))
            .transpose()?;
        let metadata = object.get("Metadata").and_then(|m| m.get("sha256")).cloned();
        let metadata_sha256 = metadata
            .filter(|v| !v.is_null())
            .or_else(|| header("x-amz-meta-sha256"))
            .map(|v| text(v, "sha256"))
            .transpose()?;
        Ok(Self {
            storage_class,
            archive_status,
            restore,
            content_length,
            checksum_sha256,
            checksum_type,
            metadata_sha256,
        })
    }

    /// The fields as [`Head`] reads them.
    pub fn head(&self) -> Head<'_> {
        Head {
            storage_class: self.storage_class.as_deref(),
            archive_status: self.archive_status.as_deref(),
            restore: self.restore.as_deref(),
            content_length: self.content_length,
            checksum_sha256: self.checksum_sha256.as_deref(),
            checksum_type: self.checksum_type.as_deref(),
            metadata_sha256: self.metadata_sha256.as_deref(),
        }
    }

    /// What the `HEAD` of `key` says: its availability (a running restore dated from `since`,
    /// the host's record of its request, and expected done by the longest time AWS documents
    /// for `tier`) and, given the manifest's `artifact`, what its size and SHA-256 check
    /// verified.
    ///
    /// # Errors
    /// [`S3Error::IntegrityMismatch`] (never serve that object), [`S3Error::BadHeader`] for
    /// a storage class or restore header this crate cannot read.
    pub fn observe(
        &self,
        key: &str,
        artifact: Option<&Artifact>,
        since: Timestamp,
        tier: RestoreTier,
        times: &RestoreTimes,
    ) -> Result<Observation, S3Error> {
        let head = self.head();
        let integrity = artifact.map(|a| head.check(a)).transpose()?;
        let availability =
            head.availability(|class| restoring_window(times, class, tier, since)).map_err(|source| {
                let target = if key.is_empty() { "object".to_owned() } else { key.to_owned() };
                S3Error::BadHeader { operation: "HeadObject", target, source }
            })?;
        Ok(Observation { availability, integrity })
    }
}

/// The `RestoreRequest` of a `RestoreObject` call, in the SDKs' form:
/// `{"Days": 7, "GlacierJobParameters": {"Tier": "Standard"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreRequest {
    /// How long the restored copy stays; absent for Intelligent-Tiering's archive tiers.
    #[serde(rename = "Days", skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    /// The retrieval tier.
    #[serde(rename = "GlacierJobParameters")]
    pub job: GlacierJobParameters,
}

/// `GlacierJobParameters` of a [`RestoreRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlacierJobParameters {
    /// `Expedited`, `Standard` or `Bulk`.
    #[serde(rename = "Tier")]
    pub tier: String,
}

impl RestoreRequest {
    /// The request for an object of `class` at `tier`, keeping the copy `days` days (the
    /// store's own rule: [`restore_days`]).
    ///
    /// ```
    /// use fleetpath::{RestoreTier, StorageClass};
    /// use fleetpath_aws::RestoreRequest;
    /// let r = RestoreRequest::new(StorageClass::DeepArchive, RestoreTier::Bulk, 7)?;
    /// assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"Days":7,"GlacierJobParameters":{"Tier":"Bulk"}}"#);
    /// let e = RestoreRequest::new(StorageClass::DeepArchive, RestoreTier::Expedited, 7).unwrap_err();
    /// assert_eq!(e.code(), "tier_unavailable");
    /// # Ok::<(), fleetpath_aws::S3Error>(())
    /// ```
    ///
    /// # Errors
    /// [`S3Error::TierUnavailable`] for a tier the class does not offer (Deep Archive has no
    /// Expedited), [`S3Error::NotArchived`] for a class that needs no restore.
    pub fn new(class: StorageClass, tier: RestoreTier, days: u32) -> Result<Self, S3Error> {
        if !class.needs_restore() {
            return Err(S3Error::NotArchived { target: "object".to_owned(), class });
        }
        if RestoreTimes::default().duration(class, tier).is_none() {
            return Err(S3Error::TierUnavailable { target: "object".to_owned(), class, tier });
        }
        let tier = match tier {
            RestoreTier::Expedited => "Expedited",
            RestoreTier::Standard => "Standard",
            RestoreTier::Bulk => "Bulk",
        };
        Ok(Self { days: restore_days(class, days), job: GlacierJobParameters { tier: tier.to_owned() } })
    }
}

/// Where the SHA-256 that matched the manifest came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sha256Source {
    /// S3's own full-object checksum (`x-amz-checksum-sha256`).
    Checksum,
    /// The `x-amz-meta-sha256` metadata written at upload.
    Metadata,
    /// S3 reported no SHA-256 (multipart without a full-object checksum, or none recorded):
    /// the device must verify the download itself (it always should).
    NotReported,
}

/// What an integrity check could verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integrity {
    /// Whether the size was checked: S3 reported it, the manifest states it, and they match.
    pub size: bool,
    /// Where the matching SHA-256 came from.
    pub sha256: Sha256Source,
}

/// The object in S3 is not the manifest's artifact.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("object {key:?}: {field} is {s3} in S3 but {manifest} in the manifest")]
pub struct IntegrityError {
    /// The object key.
    pub key: String,
    /// `size` or `sha256`.
    pub field: &'static str,
    /// The manifest's value.
    pub manifest: String,
    /// What S3 reported.
    pub s3: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn restore_header_forms() {
        assert_eq!(RestoreHeader::parse(r#"ongoing-request="true""#), Ok(RestoreHeader::Ongoing));
        assert_eq!(
            RestoreHeader::parse(r#"ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT""#),
            Ok(RestoreHeader::Done { expiry: Some(t("2012-12-21T00:00:00Z")) })
        );
        // Order, spacing and unknown keys do not matter.
        assert_eq!(
            RestoreHeader::parse(r#"expiry-date="Wed, 02 Dec 2026 19:23:09 GMT",ongoing-request="false", x="y""#),
            Ok(RestoreHeader::Done { expiry: Some(t("2026-12-02T19:23:09Z")) })
        );
        assert_eq!(RestoreHeader::parse(r#"ongoing-request="false""#), Ok(RestoreHeader::Done { expiry: None }));
        let err = |h: &str| RestoreHeader::parse(h).unwrap_err().to_string();
        assert_eq!(err(""), r#"x-amz-restore "": ongoing-request is missing"#);
        assert_eq!(err("ongoing-request=true"), r#"x-amz-restore "ongoing-request=true": value is not quoted"#);
        assert_eq!(
            err(r#"ongoing-request="maybe""#),
            format!(
                "x-amz-restore {:?}: ongoing-request is neither \"true\" nor \"false\"",
                r#"ongoing-request="maybe""#
            )
        );
        assert_eq!(
            err(r#"ongoing-request="false", expiry-date="tomorrow""#),
            format!(
                "x-amz-restore {:?}: expiry-date is not an HTTP date",
                r#"ongoing-request="false", expiry-date="tomorrow""#
            )
        );
        assert!(err(r#"ongoing-request="tru"#).ends_with("unterminated value"));
    }

    #[test]
    fn storage_classes() {
        let class = |c, a| storage_class(c, a).unwrap();
        assert_eq!(class(None, None), StorageClass::Standard);
        assert_eq!(class(Some("STANDARD_IA"), None), StorageClass::InfrequentAccess);
        assert_eq!(class(Some("GLACIER_IR"), None), StorageClass::GlacierInstantRetrieval);
        assert_eq!(class(Some("GLACIER"), None), StorageClass::GlacierFlexibleRetrieval);
        assert_eq!(class(Some("DEEP_ARCHIVE"), None), StorageClass::DeepArchive);
        assert_eq!(class(Some("INTELLIGENT_TIERING"), None), StorageClass::IntelligentTiering);
        assert_eq!(class(Some("INTELLIGENT_TIERING"), Some("ARCHIVE_ACCESS")), StorageClass::IntelligentTieringArchive);
        assert_eq!(
            class(Some("INTELLIGENT_TIERING"), Some("DEEP_ARCHIVE_ACCESS")),
            StorageClass::IntelligentTieringDeepArchive
        );
        assert_eq!(storage_class(Some("MOON"), None).unwrap_err().to_string(), r#"unknown storage class "MOON""#);
        assert_eq!(
            storage_class(Some("INTELLIGENT_TIERING"), Some("COLD")).unwrap_err().to_string(),
            r#"unknown archive status "COLD""#
        );
    }

    #[test]
    fn availability_states() {
        let never = |_| unreachable!("not restoring");
        let head = |class, restore| Head { storage_class: class, restore, ..Head::default() };
        assert_eq!(
            head(Some("GLACIER_IR"), None).availability(never),
            Ok(Availability::Available { class: StorageClass::GlacierInstantRetrieval })
        );
        assert_eq!(
            head(Some("DEEP_ARCHIVE"), None).availability(never),
            Ok(Availability::Archived { class: StorageClass::DeepArchive })
        );
        let since = t("2026-12-01T08:00:00Z");
        let ready = t("2026-12-01T13:00:00Z");
        assert_eq!(
            head(Some("GLACIER"), Some(r#"ongoing-request="true""#)).availability(|c| {
                assert_eq!(c, StorageClass::GlacierFlexibleRetrieval);
                (since, ready)
            }),
            Ok(Availability::Restoring { class: StorageClass::GlacierFlexibleRetrieval, since, ready_by: ready })
        );
        let it = Head {
            storage_class: Some("INTELLIGENT_TIERING"),
            archive_status: Some("ARCHIVE_ACCESS"),
            ..Head::default()
        };
        assert_eq!(
            it.availability(never),
            Ok(Availability::Archived { class: StorageClass::IntelligentTieringArchive })
        );
        let it_done = Head { restore: Some(r#"ongoing-request="false""#), archive_status: None, ..it };
        assert_eq!(
            it_done.availability(never),
            Ok(Availability::Available { class: StorageClass::IntelligentTiering })
        );
    }

    #[test]
    fn integrity() {
        let artifact = Artifact {
            key: "fw/a.bin".to_owned(),
            // SHA-256 of 1000 bytes of "x".
            sha256: "44f8354494a5ba03ba1792a8d3e9c534c47a9181980fde7a3f44b06ef2ae7c7f".to_owned(),
            size: Some(1000),
        };
        let checksum = "RPg1RJSlugO6F5Ko0+nFNMR6kYGYD956P0SwbvKufH8=";
        let head = Head { content_length: Some(1000), checksum_sha256: Some(checksum), ..Head::default() };
        assert_eq!(head.check(&artifact), Ok(Integrity { size: true, sha256: Sha256Source::Checksum }));
        let meta = Head { checksum_sha256: None, metadata_sha256: Some(&artifact.sha256), ..head };
        assert_eq!(meta.check(&artifact), Ok(Integrity { size: true, sha256: Sha256Source::Metadata }));
        // A composite (multipart) checksum is not the object's SHA-256: fall back to metadata.
        let composite = Head { checksum_sha256: Some("AAAA-3"), ..meta };
        assert_eq!(composite.check(&artifact), Ok(Integrity { size: true, sha256: Sha256Source::Metadata }));
        let nothing = Head { content_length: None, ..Head::default() };
        assert_eq!(nothing.check(&artifact), Ok(Integrity { size: false, sha256: Sha256Source::NotReported }));

        let short = Head { content_length: Some(999), ..head };
        assert_eq!(
            short.check(&artifact).unwrap_err().to_string(),
            r#"object "fw/a.bin": size is 999 in S3 but 1000 in the manifest"#
        );
        let other = Head { checksum_sha256: Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), ..head };
        assert_eq!(
            other.check(&artifact).unwrap_err().to_string(),
            format!("object \"fw/a.bin\": sha256 is {} in S3 but {} in the manifest", "0".repeat(64), artifact.sha256)
        );
        let wrong_meta = Head { metadata_sha256: Some("ab"), ..nothing };
        assert_eq!(wrong_meta.check(&artifact).unwrap_err().field, "sha256");

        // A content-addressed artifact states no size: S3's length is not checked (nor
        // reported as checked), its SHA-256 still is.
        let unsized_artifact = Artifact { size: None, ..artifact.clone() };
        assert_eq!(short.check(&unsized_artifact), Ok(Integrity { size: false, sha256: Sha256Source::Checksum }));
        assert_eq!(head.check(&unsized_artifact), Ok(Integrity { size: false, sha256: Sha256Source::Checksum }));
        assert_eq!(other.check(&unsized_artifact).unwrap_err().field, "sha256");
    }
}
