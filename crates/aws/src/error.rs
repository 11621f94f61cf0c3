//! The adapter's errors: one enum, a stable code per variant, and whether trying again later
//! can help ([`S3Error::is_retryable`]).
//!
//! The SDK already retries throttling (503 `SlowDown`), server errors (500) and timeouts
//! within one call, with backoff ([`S3Settings::max_attempts`](crate::S3Settings)); an error
//! that still reaches the caller with `is_retryable() == true` means "the service is having
//! trouble: try this again on the next run". Permission, missing-object and bad-input errors
//! are never retryable: retrying them only adds load.

use fleetpath::Codes;

use crate::object::{HeaderError, IntegrityError};

/// Why an S3 call or a document load failed.
#[derive(Debug, thiserror::Error, serde::Serialize, Codes)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum S3Error {
    /// S3 asked to slow down (any 503, 429, `SlowDown`, `Throttling…`), after the SDK's retries.
    #[error("{operation} {target}: throttled ({status} {code}): {message}")]
    #[code("throttled")]
    Throttled {
        /// The operation (`HeadObject`, `RestoreObject`, `GetObject`, …).
        operation: &'static str,
        /// `s3://bucket/key`.
        target: String,
        /// The HTTP status.
        status: u16,
        /// S3's error code.
        code: String,
        /// S3's message.
        message: String,
    },
    /// A 5xx other than throttling, after the SDK's retries.
    #[error("{operation} {target}: server error ({status} {code}): {message}")]
    #[code("server_error")]
    Server {
        /// The operation.
        operation: &'static str,
        /// `s3://bucket/key`.
        target: String,
        /// The HTTP status.
        status: u16,
        /// S3's error code (empty when the response had no body).
        code: String,
        /// S3's message.
        message: String,
    },
    /// No answer within the configured timeouts.
    #[error("{operation} {target}: timed out: {detail}")]
    #[code("timeout")]
    Timeout {
        /// The operation.
        operation: &'static str,
        /// `s3://bucket/key`.
        target: String,
        /// Which timeout, as the SDK says.
        detail: String,
    },
    /// The endpoint could not be reached (connection refused, DNS, TLS).
    #[error("{operation} {target}: cannot reach the endpoint: {detail}")]
    #[code("unreachable")]
    Unreachable {
        /// The operation.
        operation: &'static str,
        /// `s3://bucket/key`.
        target: String,
        /// What failed.
        detail: String,
    },
    /// 403 (other than `InvalidObjectState`): the role lacks a permission, or (without
    /// `s3:ListBucket`) the object does not exist.
    #[error("{operation} {target}: access denied ({code}): {message}")]
    #[code("access_denied")]
    AccessDenied {
        /// The operation.
        operation: &'static str,
        /// `s3://bucket/key`.
        target: String,
        /// S3's error code (empty for a `HEAD`).
        code: String,
        /// S3's message.
        message: String,
    },
    /// 404: no such object.
    #[error("{operation} {target}: no such object")]
    #[code("no_such_key")]
    NoSuchKey {
        /// The operation.
        operation: &'static str,
        /// `s3://bucket/key`.
        target: String,
    },
    /// 404 `NoSuchBucket`.
    #[error("{operation} {target}: no such bucket")]
    #[code("no_such_bucket")]
    NoSuchBucket {
        /// The operation.
        operation: &'static str,
        /// `s3://bucket/key`.
        target: String,
    },
    /// 403 `InvalidObjectState`: a `GET` of an archived object, or a restore of one that is
    /// not archived.
    #[error("{operation} {target}: not allowed in the object's storage class: {message}")]
    #[code("invalid_object_state")]
    InvalidObjectState {
        /// The operation.
        operation: &'static str,
        /// `s3://bucket/key`.
        target: String,
        /// S3's message.
        message: String,
    },
    /// Any other refusal (4xx).
    #[error("{operation} {target}: refused ({status} {code}): {message}")]
    #[code("rejected")]
    Rejected {
        /// The operation.
        operation: &'static str,
        /// `s3://bucket/key`.
        target: String,
        /// The HTTP status.
        status: u16,
        /// S3's error code.
        code: String,
        /// S3's message.
        message: String,
    },
    /// A response that could not be read: a body cut short (closed or reset before its
    /// `Content-Length`), a malformed answer (conflicting `Content-Length` headers, headers
    /// the SDK cannot parse). Retryable: such answers come from a failing server or proxy.
    #[error("{operation} {target}: unreadable response: {detail}")]
    #[code("bad_response")]
    BadResponse {
        /// The operation.
        operation: &'static str,
        /// `s3://bucket/key`.
        target: String,
        /// What was wrong.
        detail: String,
    },
    /// A header S3 sent that this crate cannot interpret (an unknown storage class).
    #[error("{operation} {target}: {source}")]
    #[code("bad_header")]
    BadHeader {
        /// The operation.
        operation: &'static str,
        /// `s3://bucket/key`.
        target: String,
        /// The header problem.
        source: HeaderError,
    },
    /// The object's size or SHA-256 differs from the manifest's artifact.
    #[error(transparent)]
    #[code("integrity_mismatch")]
    IntegrityMismatch(#[from] IntegrityError),
    /// A presigned URL lifetime of 0 or above the policy's maximum.
    #[error("presign {target}: URL lifetime {requested} s is outside 1 to {max} s")]
    #[code("invalid_lifetime")]
    InvalidLifetime {
        /// `s3://bucket/key`.
        target: String,
        /// The lifetime asked for.
        requested: u32,
        /// The policy's maximum.
        max: u32,
    },
    /// A restore with a tier the storage class does not offer (Expedited from Deep Archive).
    #[error("RestoreObject {target}: {class:?} has no {tier:?} restore")]
    #[code("tier_unavailable")]
    TierUnavailable {
        /// `s3://bucket/key`.
        target: String,
        /// The object's class.
        class: fleetpath::StorageClass,
        /// The tier asked for.
        tier: fleetpath::RestoreTier,
    },
    /// A restore of an object that needs none.
    #[error("RestoreObject {target}: the object is not archived ({class:?})")]
    #[code("not_archived")]
    NotArchived {
        /// `s3://bucket/key`.
        target: String,
        /// Its class.
        class: fleetpath::StorageClass,
    },
    /// A manifest, fleet or calendar loaded from S3 was refused by the core.
    #[error("load {target}: {source}")]
    #[code("invalid_document")]
    InvalidDocument {
        /// `s3://bucket/key`.
        target: String,
        /// The core's error (its code is in `source.code()`).
        source: fleetpath::Error,
    },
    /// A document above [`S3Settings::max_document_bytes`](crate::S3Settings): refused from
    /// its `Content-Length` before the body is read, or once the body read passes the limit
    /// (a body without a `Content-Length`); the rest is not read. Not retryable: the object
    /// itself is too large (raise the limit, or fix the document).
    #[error(
        "load {target}: {size} bytes {}, above the {limit}-byte limit (max_document_bytes)",
        if *announced { "announced" } else { "read" }
    )]
    #[code("document_too_large")]
    DocumentTooLarge {
        /// `s3://bucket/key`.
        target: String,
        /// The limit, in bytes.
        limit: u64,
        /// The size seen: the announced `Content-Length`, or the bytes read when reading
        /// stopped (the first chunk past the limit included).
        size: u64,
        /// Whether `size` is the announced `Content-Length` (nothing read) or the bytes read.
        announced: bool,
    },
    /// A document that is not UTF-8.
    #[error("load {target}: not UTF-8 text")]
    #[code("not_utf8")]
    NotUtf8 {
        /// `s3://bucket/key`.
        target: String,
    },
    /// The client could not be configured (bad endpoint URL, settings out of range).
    #[error("s3 settings: {detail}")]
    #[code("config")]
    Config {
        /// What is wrong.
        detail: String,
    },
}

impl S3Error {
    /// The error's fields as a JSON object (what bindings attach to their exceptions), as
    /// [`fleetpath::Error::fields`].
    pub fn fields(&self) -> serde_json::Map<String, serde_json::Value> {
        fleetpath::error_fields(self)
    }

    /// Whether the same call may succeed later: throttling, server errors, timeouts, an
    /// unreachable endpoint and unreadable responses. Never for 403/404 or bad input.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Throttled { .. }
                | Self::Server { .. }
                | Self::Timeout { .. }
                | Self::Unreachable { .. }
                | Self::BadResponse { .. }
        )
    }
}

/// An error of any [`ArtifactStore`](fleetpath::ArtifactStore) as the prefetch executor
/// reports it: a stable code and whether a later run may succeed.
pub trait StoreError: std::error::Error {
    /// The stable code.
    fn code(&self) -> &'static str;
    /// Whether a later run may succeed.
    fn is_retryable(&self) -> bool;
}

impl StoreError for S3Error {
    fn code(&self) -> &'static str {
        S3Error::code(self)
    }

    fn is_retryable(&self) -> bool {
        S3Error::is_retryable(self)
    }
}

impl StoreError for fleetpath::artifact::MemoryStoreError {
    fn code(&self) -> &'static str {
        match self {
            Self::NoSuchKey { .. } => "no_such_key",
            Self::NotArchived { .. } => "not_archived",
            Self::TierUnavailable { .. } => "tier_unavailable",
            _ => "invalid_object_state",
        }
    }

    fn is_retryable(&self) -> bool {
        false
    }
}

/// Classifies an S3 service error response (the parts S3 sends).
#[cfg_attr(not(feature = "s3"), allow(dead_code))]
pub(crate) fn from_response(
    operation: &'static str,
    target: String,
    status: u16,
    code: Option<&str>,
    message: Option<&str>,
) -> S3Error {
    let code_s = code.unwrap_or_default().to_owned();
    let message = message.unwrap_or_default().to_owned();
    match (status, code.unwrap_or_default()) {
        (_, "SlowDown" | "Throttling" | "ThrottlingException" | "RequestLimitExceeded" | "TooManyRequests")
        // S3 answers 503 only to say "slow down" (a `HEAD`'s has no body to name the code).
        | (429 | 503, _) => S3Error::Throttled { operation, target, status, code: code_s, message },
        (_, "RequestTimeout") => S3Error::Timeout { operation, target, detail: format!("{status} RequestTimeout") },
        // A HEAD's answer has no body, so its 400 names no code; S3's 400 to a HEAD this crate
        // sends (no request body, no SSE-C, no part number) is a `RequestTimeout`. Its other
        // causes (a wrong region, expired credentials) also refuse the GET of the manifest,
        // whose body names the code.
        (400, "") => S3Error::Timeout {
            operation,
            target,
            detail: "400 without an error code (a HEAD's answer has no body; S3's RequestTimeout)".to_owned(),
        },
        (500..=599, _) => S3Error::Server { operation, target, status, code: code_s, message },
        (_, "NoSuchBucket") => S3Error::NoSuchBucket { operation, target },
        (404, _) | (_, "NoSuchKey" | "NotFound") => S3Error::NoSuchKey { operation, target },
        (_, "InvalidObjectState") => S3Error::InvalidObjectState { operation, target, message },
        (403, _) => S3Error::AccessDenied { operation, target, code: code_s, message },
        _ => S3Error::Rejected { operation, target, status, code: code_s, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_and_retryability() {
        let e = |status, code: &str| from_response("HeadObject", "s3://b/k".to_owned(), status, Some(code), None);
        let cases = [
            (503, "SlowDown", "throttled", true),
            (429, "", "throttled", true),
            (400, "ThrottlingException", "throttled", true),
            (500, "InternalError", "server_error", true),
            (502, "", "server_error", true),
            (503, "", "throttled", true),
            (400, "RequestTimeout", "timeout", true),
            (400, "", "timeout", true),
            (403, "AccessDenied", "access_denied", false),
            (403, "", "access_denied", false),
            (403, "InvalidObjectState", "invalid_object_state", false),
            (404, "", "no_such_key", false),
            (404, "NoSuchKey", "no_such_key", false),
            (404, "NoSuchBucket", "no_such_bucket", false),
            (409, "RestoreAlreadyInProgress", "rejected", false),
            (400, "InvalidArgument", "rejected", false),
        ];
        for (status, code, want, retryable) in cases {
            let err = e(status, code);
            assert_eq!((err.code(), err.is_retryable()), (want, retryable), "{status} {code}");
            assert!(S3Error::CODES.contains(&err.code()));
        }
        assert_eq!(
            from_response(
                "GetObject",
                "s3://b/k".to_owned(),
                503,
                Some("SlowDown"),
                Some("Please reduce your request rate.")
            )
            .to_string(),
            "GetObject s3://b/k: throttled (503 SlowDown): Please reduce your request rate."
        );
        assert_eq!(e(404, "").to_string(), "HeadObject s3://b/k: no such object");
        assert_eq!(
            from_response("HeadObject", "s3://b/k".to_owned(), 400, None, None).to_string(),
            "HeadObject s3://b/k: timed out: 400 without an error code (a HEAD's answer has no body; S3's RequestTimeout)"
        );
        let too_large = |announced| S3Error::DocumentTooLarge {
            target: "s3://b/fleetpath/graph.json".to_owned(),
            limit: 1_024,
            size: 4_096,
            announced,
        };
        assert_eq!(
            too_large(true).to_string(),
            "load s3://b/fleetpath/graph.json: 4096 bytes announced, above the 1024-byte limit (max_document_bytes)"
        );
        assert_eq!(
            too_large(false).to_string(),
            "load s3://b/fleetpath/graph.json: 4096 bytes read, above the 1024-byte limit (max_document_bytes)"
        );
        assert_eq!((too_large(false).code(), too_large(false).is_retryable()), ("document_too_large", false));
        assert!(S3Error::CODES.contains(&"document_too_large"));
    }
}
