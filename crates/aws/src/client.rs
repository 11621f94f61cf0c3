//! Building the SDK client, and turning the SDK's errors into [`S3Error`]s.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_sdk_s3::config::retry::{ClassifyRetry, RetryAction, RetryConfig};
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::error::{S3Error, from_response};
use crate::settings::S3Settings;

/// An S3 client for `settings`: rustls (ring) over hyper, the settings' timeouts and retries,
/// credentials from `credentials` or else the default chain (environment, profile, web
/// identity, container and instance metadata: what a Lambda or ECS task has).
///
/// # Errors
///
/// [`S3Error::Config`] for invalid settings or when no region can be found.
pub async fn s3_client(settings: &S3Settings, credentials: Option<Credentials>) -> Result<aws_sdk_s3::Client, S3Error> {
    settings.validate()?;
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .build_https();
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(settings.connect_timeout_ms))
        .operation_attempt_timeout(Duration::from_millis(settings.attempt_timeout_ms))
        .operation_timeout(Duration::from_millis(settings.operation_timeout_ms))
        .build();
    let retries = RetryConfig::standard()
        .with_max_attempts(settings.max_attempts)
        .with_initial_backoff(Duration::from_millis(settings.initial_backoff_ms))
        .with_max_backoff(Duration::from_millis(settings.max_backoff_ms));
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .timeout_config(timeouts)
        .retry_config(retries);
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &settings.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    if let Some(credentials) = credentials {
        loader = loader.credentials_provider(credentials);
    }
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        return Err(S3Error::Config { detail: "no region: set `region` or AWS_REGION".to_owned() });
    }
    let config = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(settings.force_path_style)
        .retry_classifier(TooManyRequests)
        .build();
    Ok(aws_sdk_s3::Client::from_conf(config))
}

/// Retries a 429 Too Many Requests as throttling. The SDK's standard classifiers retry 500,
/// 502, 503 and 504 and throttling error codes (`SlowDown`, …), not the bare status 429 that
/// gateways and proxies send (a `HEAD`'s 429 has no body to name a code). Written here
/// because the SDK's `HttpStatusCodeClassifier` sits in `aws-smithy-runtime`, a dependency
/// this crate does not otherwise need.
#[derive(Debug)]
struct TooManyRequests;

impl ClassifyRetry for TooManyRequests {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        if ctx.response().is_some_and(|response| response.status().as_u16() == 429) {
            RetryAction::throttling_error()
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "429 Too Many Requests"
    }
}

/// The HTTP status of a service error, if the SDK got that far.
pub(crate) fn status_of<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    match err {
        SdkError::ServiceError(ctx) => Some(ctx.raw().status().as_u16()),
        _ => None,
    }
}

/// The S3 error code of a service error (`RestoreAlreadyInProgress`, `SlowDown`, …).
pub(crate) fn code_of<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Option<&str> {
    match err {
        SdkError::ServiceError(ctx) => ctx.err().code(),
        _ => None,
    }
}

/// Classifies an SDK error (after the SDK's own retries).
pub(crate) fn classify<E>(operation: &'static str, target: String, err: &SdkError<E, HttpResponse>) -> S3Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = || DisplayErrorContext(err).to_string();
    match err {
        // A success status the SDK could not read (conflicting `Content-Length` headers, a
        // header it cannot parse): a malformed answer, not a refusal.
        SdkError::ServiceError(ctx) if ctx.raw().status().is_success() => {
            S3Error::BadResponse { operation, target, detail: detail() }
        }
        SdkError::ServiceError(ctx) => {
            from_response(operation, target, ctx.raw().status().as_u16(), ctx.err().code(), ctx.err().message())
        }
        SdkError::TimeoutError(_) => S3Error::Timeout { operation, target, detail: detail() },
        SdkError::DispatchFailure(failure) if failure.is_timeout() => {
            S3Error::Timeout { operation, target, detail: detail() }
        }
        SdkError::DispatchFailure(failure) if failure.is_user() => S3Error::Config { detail: detail() },
        // Connected, but the answer could not be parsed (conflicting `Content-Length`
        // headers): hyper's errors other than I/O.
        SdkError::DispatchFailure(failure) if failure.is_other() => {
            S3Error::BadResponse { operation, target, detail: detail() }
        }
        SdkError::DispatchFailure(_) => S3Error::Unreachable { operation, target, detail: detail() },
        SdkError::ConstructionFailure(_) => S3Error::Config { detail: detail() },
        _ => S3Error::BadResponse { operation, target, detail: detail() },
    }
}
