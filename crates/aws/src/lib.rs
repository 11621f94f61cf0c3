//! # fleetpath-aws
//!
//! The I/O half of fleetpath on AWS: the core decides, this crate observes S3 and acts.
//!
//! - [`S3ArtifactStore`]: the core's [`ArtifactStore`](fleetpath::ArtifactStore) over S3.
//!   `HEAD` → [`Availability`](fleetpath::Availability) (storage class, `x-amz-restore`,
//!   Intelligent-Tiering archive status), `RestoreObject` (idempotent), presigned `GET` URLs
//!   with a bounded lifetime, and size / SHA-256 checks against the manifest.
//! - [`Documents`]: the upgrade graph manifest, fleets and calendars loaded from S3, parsed
//!   once per `ETag` (a warm Lambda re-parses nothing while the object is unchanged).
//! - [`prefetch`]: the executor of the core's prefetch plan (and of decisions' host actions),
//!   safe to run every few minutes.
//! - [`object`]: the pure header parsing underneath, and [`S3Error`]: one error enum with
//!   stable codes and [`S3Error::is_retryable`].
//!
//! The SDK parts sit behind the `s3` feature (on by default). They use `aws-sdk-s3` without
//! its default features, over rustls with *ring* (no C build).
//!
//! ```no_run
//! use fleetpath::decision::{Decider, Decision, DecisionPolicy, DeviceRequest};
//! use fleetpath::ArtifactStore;
//! use fleetpath_aws::{Documents, S3ArtifactStore, S3Settings};
//!
//! # async fn handler(request: DeviceRequest) -> Result<(), Box<dyn std::error::Error>> {
//! let store = S3ArtifactStore::connect(S3Settings::new("plant-firmware")).await?;
//! let documents = Documents::from_settings(store.client().clone(), store.settings()); // keep it warm
//! let graph = documents.graph("fleetpath/ip-module.json").await?.value;
//! let observed = store.observe_graph(&graph).await;
//! let decider = Decider::new(&graph, DecisionPolicy::default())?.with_availability(observed.availability);
//! match decider.decide(&request) {
//!     Decision::Download { step, url_lifetime_seconds } => {
//!         let url = store.presign(&step.artifact.key, url_lifetime_seconds).await?;
//!         println!("install {} from {}", step.to, url.url);
//!     }
//!     Decision::RetryAfter { at, host_action: Some(action), .. } => {
//!         let task = fleetpath_aws::prefetch::Task::from_host_action(&action);
//!         fleetpath_aws::prefetch::execute(&store, &[task]).await;
//!         println!("Retry-After: {at}");
//!     }
//!     other => println!("{}", other.reason()),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! ## Least privilege
//!
//! The role that runs this crate needs `s3:GetObject` (which also authorises `HEAD`) and
//! `s3:RestoreObject` on the firmware prefix, `s3:GetObject` on the prefix holding the
//! manifest and fleet files, and, so that a missing object answers 404 rather than 403,
//! `s3:ListBucket` limited to those prefixes. Nothing is public: devices download through
//! presigned URLs, which carry the role's permission for their lifetime only.
//!
//! ```json
#![doc = include_str!("../policy/iam-policy.json")]
//! ```
//!
//! Uploading firmware (`s3:PutObject`) belongs to the release pipeline, not to this role.

// Errors carry the core's structured errors; they are returned on cold paths, so their size
// does not matter (as in the core).
#![forbid(unsafe_code)]
#![allow(clippy::result_large_err, clippy::large_enum_variant)]

pub mod error;
pub mod object;
pub mod prefetch;
pub mod settings;

#[cfg(feature = "s3")]
mod client;
#[cfg(feature = "s3")]
pub mod documents;
#[cfg(feature = "s3")]
pub mod store;

#[cfg(feature = "s3")]
pub use client::s3_client;
#[cfg(feature = "s3")]
pub use documents::{Documents, Loaded};
pub use error::{S3Error, StoreError};
pub use object::{HeadFields, Observation, RestoreRequest};
pub use settings::S3Settings;
#[cfg(feature = "s3")]
pub use store::{Clock, Observations, RestoreNote, S3ArtifactStore};

/// The IAM policy this crate needs (with `FIRMWARE_BUCKET`, `firmware/` and `fleetpath/` to
/// replace), as a JSON document.
pub const IAM_POLICY: &str = include_str!("../policy/iam-policy.json");

#[cfg(test)]
mod tests {
    #[test]
    fn iam_policy_grants_only_what_the_crate_uses() {
        let policy: serde_json::Value = serde_json::from_str(super::IAM_POLICY).unwrap();
        let mut actions: Vec<String> = policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| {
                assert_eq!(s["Effect"], "Allow");
                assert!(!s["Resource"].as_str().unwrap().contains(":::*"), "no bucket wildcard");
                s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()).collect::<Vec<_>>()
            })
            .collect();
        actions.sort();
        actions.dedup();
        assert_eq!(actions, ["s3:GetObject", "s3:ListBucket", "s3:RestoreObject"]);
    }
}
