//! The upgrade graph manifest: the JSON document users write by hand and keep in git.
//!
//! These types are the document exactly as written (versions are strings here); they are
//! checked and compiled into an [`UpgradeGraph`](super::UpgradeGraph). Every struct rejects
//! unknown fields, so a typo such as `"modles"` is an error, not a silently ignored key.
//! `docs/manifest.md` documents every field with a complete example.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The newest manifest format this library reads and writes. Format 1 documents are read as
/// they are; format 2 adds data schemas (`schema`, `reads`) and migrations on downgrades.
pub const FORMAT_VERSION: u32 = 2;

/// The oldest manifest format this library reads.
pub const OLDEST_FORMAT_VERSION: u32 = 1;

/// A whole upgrade graph manifest (format version 1 or 2).
///
/// ```
/// let manifest = fleetpath::Manifest::from_json(r#"{
///   "format_version": 1,
///   "releases": [{"version": "5.6.14"}, {"version": "5.6.30"}],
///   "edges": [{"from": "5.6.14", "to": "5.6.30"}]
/// }"#)?;
/// assert_eq!(manifest.releases.len(), 2);
/// # Ok::<(), fleetpath::GraphError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// 1 or 2 ([`OLDEST_FORMAT_VERSION`] to [`FORMAT_VERSION`]). Fields marked "format 2"
    /// need 2.
    pub format_version: u32,
    /// A name for the product family, shown in exports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Every release, in any order.
    pub releases: Vec<ReleaseSpec>,
    /// Upgrade edges (explicit or range), and blocked edges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edges: Vec<EdgeSpec>,
    /// Downgrade (rollback) edges, kept apart from upgrades: path resolution never uses them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub downgrades: Vec<DowngradeSpec>,
}

/// One firmware release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseSpec {
    /// The version, as the vendor writes it (see [`Version`](crate::Version)).
    pub version: String,
    /// Hardware models this release installs on. Absent: every model. Present: not empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
    /// Free labels, such as `"protocol": "mqtt"`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Whether the release may be installed. Defaults to active.
    #[serde(default, skip_serializing_if = "ReleaseStatus::is_active")]
    pub status: ReleaseStatus,
    /// Why the release is blocked (required then) or archived (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A bridge every older release must pass: no upgrade edge may jump over it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub barrier: bool,
    /// Where the firmware binary is and how to check it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// Format 2: the schema of the data this release writes (device shadow document,
    /// configuration store), such as `"shadow-2.0"`. Rollbacks check it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Format 2: other schemas this release reads (written by a newer or older release).
    /// A downgrade into this release is safe when it reads the schema of the release left.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reads: Vec<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// Format 2: how a downgrade crosses a data schema change (a migration component that
/// converts the newer data back before the older firmware boots).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Migration {
    /// The component that converts the data, such as `"shadow-2-to-1"`.
    pub component: String,
    /// Its binary, when it is installed separately.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// Whether a release may be installed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseStatus {
    /// Installable; a candidate for [`UpgradeGraph::latest_for`](super::UpgradeGraph::latest_for).
    #[default]
    Active,
    /// Never installed (unless a caller explicitly allows blocked releases). Devices already
    /// on it may still upgrade away from it.
    Blocked,
    /// Superseded but kept: usable as a path hop and a rollback target, never picked as the
    /// newest release. Its binary may sit in cold storage.
    Archived,
}

impl ReleaseStatus {
    /// `true` for [`ReleaseStatus::Active`].
    pub fn is_active(&self) -> bool {
        *self == Self::Active
    }
}

/// A firmware binary: an object key (resolved against the artifact store, such as an S3
/// bucket and prefix), its SHA-256 and its size in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// Object key, such as `firmware/ipm/6.15.008.bin`.
    pub key: String,
    /// Lowercase or uppercase hex SHA-256 of the binary (64 characters).
    pub sha256: String,
    /// Size in bytes (greater than zero).
    pub size: u64,
}

/// An upgrade edge, a range edge, or a blocked edge.
///
/// Exactly one of `from` (one release) or `from_range` (every older release the range
/// matches) is given. With `blocked`, the edge declares a hop that must never be taken: it
/// removes the hop even when a range edge would generate it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeSpec {
    /// The release the hop starts from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// A [`VersionRange`](crate::VersionRange): the hop starts from every release it
    /// matches that is older than `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_range: Option<String>,
    /// The release the hop installs.
    pub to: String,
    /// Restricts the hop to these hardware models (on top of the releases' own models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
    /// Marks the hop as forbidden, with the reason (such as "bricks TURN modules").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A declared downgrade (rollback) from a release to an older one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DowngradeSpec {
    /// The newer release.
    pub from: String,
    /// The older release to return to.
    pub to: String,
    /// Restricts the downgrade to these hardware models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
    /// Format 2: how this downgrade converts data across a schema change. Without it, a
    /// downgrade into a release that cannot read the newer schema is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<Migration>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

impl Manifest {
    /// Reads a manifest document from JSON, checking its shape (unknown fields, wrong types,
    /// the format version) but not its meaning: [`UpgradeGraph::new`](super::UpgradeGraph::new)
    /// does that.
    ///
    /// # Errors
    /// [`GraphError::Json`](super::GraphError::Json) with the line and column of a syntax or
    /// shape error, or [`GraphError::UnsupportedFormat`](super::GraphError::UnsupportedFormat).
    pub fn from_json(json: &str) -> Result<Self, super::GraphError> {
        let manifest: Self = serde_json::from_str(json).map_err(super::GraphError::from_json)?;
        manifest.check_format()?;
        Ok(manifest)
    }

    /// Like [`Manifest::from_json`], from a parsed JSON value (what bindings receive).
    ///
    /// # Errors
    /// As [`Manifest::from_json`]; shape errors carry no line or column (both are 0).
    pub fn from_value(value: serde_json::Value) -> Result<Self, super::GraphError> {
        let manifest: Self = serde_json::from_value(value).map_err(super::GraphError::from_json)?;
        manifest.check_format()?;
        Ok(manifest)
    }

    /// Writes the manifest as pretty JSON (the same document it was read from, with defaults
    /// left out).
    pub fn to_json(&self) -> String {
        // Serializing these plain structs cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    fn check_format(&self) -> Result<(), super::GraphError> {
        if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&self.format_version) {
            return Err(super::GraphError::UnsupportedFormat { found: self.format_version, supported: FORMAT_VERSION });
        }
        if self.format_version < 2 {
            let needs = |at: String, field: &'static str| super::GraphError::NeedsFormat { at, field, needs: 2 };
            for (i, r) in self.releases.iter().enumerate() {
                if r.schema.is_some() {
                    return Err(needs(format!("releases[{i}]"), "schema"));
                }
                if !r.reads.is_empty() {
                    return Err(needs(format!("releases[{i}]"), "reads"));
                }
            }
            if let Some(i) = self.downgrades.iter().position(|d| d.migration.is_some()) {
                return Err(needs(format!("downgrades[{i}]"), "migration"));
            }
        }
        Ok(())
    }
}
