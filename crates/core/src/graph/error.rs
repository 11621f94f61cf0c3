//! Errors of the graph module: loading a manifest ([`GraphError`]) and resolving a path
//! ([`ResolveError`]).

use crate::Codes;
use serde::{Deserialize, Serialize};

use crate::version::{Version, VersionError};

/// Why a manifest could not be loaded. Every variant names the offending entry by its JSON
/// location, such as `releases[3].version` or `edges[14]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, Codes)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GraphError {
    /// The JSON cannot be read as the document: malformed, an unknown or missing field, a
    /// wrong type. Its line, column and path say where.
    #[error(transparent)]
    #[code(source)]
    Json(#[from] crate::JsonError),
    /// `format_version` is not one this library reads.
    #[error("unsupported manifest format_version {found} (this library reads 1 to {supported})")]
    #[code("unsupported_format_version")]
    UnsupportedFormat {
        /// The version in the document.
        found: u32,
        /// The newest version this library reads.
        supported: u32,
    },
    /// A field that an older `format_version` does not have.
    #[error("{at}: field `{field}` needs format_version {needs}")]
    #[code("needs_format_version")]
    NeedsFormat {
        /// Where, such as `releases[2]`.
        at: String,
        /// The field.
        field: &'static str,
        /// The format version that introduced it.
        needs: u32,
    },
    /// The manifest has no release.
    #[error("manifest declares no releases")]
    #[code("no_releases")]
    NoReleases,
    /// More releases, edge entries or hops than fleetpath loads ([`MAX_RELEASES`](super::MAX_RELEASES),
    /// [`MAX_HOPS`](super::MAX_HOPS)).
    #[error("manifest has too many {what} ({count}; the limit is {limit})")]
    #[code("manifest_too_large")]
    TooLarge {
        /// `"releases"`, `"edges"` (entries) or `"hops"` (with range edges expanded).
        what: &'static str,
        /// How many there are; for `"hops"`, how many were counted when loading stopped.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A version or range string is invalid. The code is the version error's own code.
    #[error("{at}: {source}")]
    #[code(source)]
    Version {
        /// Where, such as `releases[3].version`.
        at: String,
        /// What is wrong with it.
        source: VersionError,
    },
    /// Two releases have equal versions (spelling aside: `6.15.008` equals `6.15.8`).
    #[error("duplicate release {version:?} at {at} (already declared at {first})")]
    #[code("duplicate_release")]
    DuplicateRelease {
        /// The version, as written at `at`.
        version: String,
        /// The second declaration.
        at: String,
        /// The first declaration.
        first: String,
    },
    /// An edge or downgrade names a version no release declares.
    #[error("unknown release {version:?} in {at}")]
    #[code("unknown_release")]
    UnknownRelease {
        /// The version, as written.
        version: String,
        /// Where, such as `edges[14].to`.
        at: String,
    },
    /// An upgrade edge that does not go to a strictly newer release. (This is also what a
    /// cycle among upgrade edges always contains, so cycles are reported this way.)
    #[error("{at} goes from {from:?} to {to:?}, which is not newer")]
    #[code("edge_not_upgrade")]
    EdgeNotUpgrade {
        /// The edge, such as `edges[3]`.
        at: String,
        /// Its source, as written.
        from: String,
        /// Its target, as written.
        to: String,
    },
    /// A downgrade edge that does not go to a strictly older release.
    #[error("{at} goes from {from:?} to {to:?}, which is not older")]
    #[code("downgrade_not_older")]
    DowngradeNotOlder {
        /// The downgrade, such as `downgrades[0]`.
        at: String,
        /// Its source, as written.
        from: String,
        /// Its target, as written.
        to: String,
    },
    /// An explicit upgrade edge jumps over a barrier release.
    #[error("{at} goes from {from:?} to {to:?} and skips barrier release {barrier:?}")]
    #[code("crosses_barrier")]
    CrossesBarrier {
        /// The edge.
        at: String,
        /// Its source, as written.
        from: String,
        /// Its target, as written.
        to: String,
        /// The barrier it jumps over, as written.
        barrier: String,
    },
    /// An edge gives both or neither of `from` and `from_range`.
    #[error("{at} needs exactly one of \"from\" or \"from_range\"")]
    #[code("invalid_edge_source")]
    EdgeSource {
        /// The edge.
        at: String,
    },
    /// The same explicit upgrade (or downgrade) is declared twice.
    #[error("duplicate edge from {from:?} to {to:?} at {at} (already declared at {first})")]
    #[code("duplicate_edge")]
    DuplicateEdge {
        /// The second declaration.
        at: String,
        /// The first declaration.
        first: String,
        /// Source, as written at `at`.
        from: String,
        /// Target, as written at `at`.
        to: String,
    },
    /// One entry declares a hop as an upgrade and another blocks the same hop.
    #[error("{blocked_at} blocks the hop from {from:?} to {to:?} that {declared_at} declares")]
    #[code("conflicting_edge")]
    ConflictingEdge {
        /// The blocking edge.
        blocked_at: String,
        /// The explicit upgrade edge.
        declared_at: String,
        /// Source, as written in the upgrade edge.
        from: String,
        /// Target, as written in the upgrade edge.
        to: String,
    },
    /// A `models` list is present but empty (omit it to mean every model).
    #[error("{at} is an empty list (omit it to mean every model)")]
    #[code("empty_models")]
    EmptyModels {
        /// Such as `releases[2].models`.
        at: String,
    },
    /// A string that must not be empty is empty (a model name, a label key, an artifact
    /// key, a block reason).
    #[error("{at} is empty")]
    #[code("empty_field")]
    EmptyField {
        /// Such as `releases[2].artifact.key`.
        at: String,
    },
    /// A blocked release without a `reason`.
    #[error("{at} is blocked and needs a \"reason\"")]
    #[code("missing_block_reason")]
    MissingReason {
        /// The release, such as `releases[4]`.
        at: String,
    },
    /// An edge or downgrade that leads into a retired release (it can no longer be installed).
    #[error("{at} leads into {to:?}, which is retired (no longer published): edges may only leave it")]
    #[code("edge_to_retired")]
    EdgeToRetired {
        /// The edge or downgrade.
        at: String,
        /// The retired release, as written.
        to: String,
    },
    /// An upgrade edge that leaves a dead-end release (no update may leave it).
    #[error("{at} leaves {from:?}, which is a dead end (no update may leave it)")]
    #[code("edge_from_deadend")]
    EdgeFromDeadend {
        /// The edge.
        at: String,
        /// The dead-end release, as written.
        from: String,
    },
    /// A field given where it has no meaning, such as `include_prerelease` on an edge without
    /// `from_range`.
    #[error("{at}.{field} applies only to {applies_to}")]
    #[code("unexpected_field")]
    UnexpectedField {
        /// The entry.
        at: String,
        /// The field.
        field: &'static str,
        /// What it applies to, such as `range edges (from_range)`.
        applies_to: &'static str,
    },
    /// An edge naming the same risk twice.
    #[error("{at} names risk {name:?} a second time")]
    #[code("duplicate_risk")]
    DuplicateRisk {
        /// The second entry, such as `edges[3].risks[1]`.
        at: String,
        /// The risk's name.
        name: String,
    },
    /// An active release with a `reason` (only blocked and archived releases take one).
    #[error("{at} has a \"reason\" but is active (only blocked or archived releases take one)")]
    #[code("unexpected_reason")]
    UnexpectedReason {
        /// The release.
        at: String,
    },
    /// An artifact SHA-256 that is not 64 hexadecimal characters.
    #[error("{at} must be 64 hexadecimal characters, got {value:?}")]
    #[code("invalid_sha256")]
    InvalidSha256 {
        /// Such as `releases[2].artifact.sha256`.
        at: String,
        /// What was written.
        value: String,
    },
    /// An artifact whose key names a digest (`…@sha256:<hex>`) other than its `sha256`.
    #[error("{at}: the key names digest sha256:{key} but sha256 is {sha256:?}")]
    #[code("digest_mismatch")]
    DigestMismatch {
        /// Such as `releases[2].artifact`.
        at: String,
        /// The hex digest the key names.
        key: String,
        /// The artifact's `sha256`.
        sha256: String,
    },
    /// A Cincinnati edge naming a node index the graph does not have
    /// ([`Manifest::from_cincinnati`](super::Manifest::from_cincinnati)).
    #[error("{at} is node {index}, but the graph has {nodes} nodes")]
    #[code("edge_index")]
    EdgeIndex {
        /// Such as `edges[3][1]`.
        at: String,
        /// The index given.
        index: usize,
        /// How many nodes there are.
        nodes: usize,
    },
    /// A Cincinnati payload that names no SHA-256 digest (`…@sha256:<hex>`): a release
    /// image fleetpath could not check.
    #[error("{at} {payload:?} names no sha256 digest (expected a pull spec ending in @sha256:<64 hex>)")]
    #[code("payload_without_digest")]
    PayloadWithoutDigest {
        /// Such as `nodes[2].payload`.
        at: String,
        /// What was written.
        payload: String,
    },
    /// A Cincinnati matching rule of a type fleetpath does not read (it reads `Always` and
    /// `PromQL`).
    #[error(
        "{at} is a matching rule fleetpath does not read ({rule}; expected type \"Always\" or \"PromQL\" with promql.promql)"
    )]
    #[code("unsupported_rule")]
    UnsupportedRule {
        /// Such as `conditionalEdges[0].risks[1].matchingRules[0]`.
        at: String,
        /// The rule, as JSON.
        rule: String,
    },
    /// An artifact of size zero.
    #[error("{at} must be greater than zero")]
    #[code("invalid_artifact_size")]
    InvalidArtifactSize {
        /// Such as `releases[2].artifact.size`.
        at: String,
    },
    /// More than one independent problem, found in one pass (see [`GraphError::errors`]). It
    /// reads as the first: its code, message and fields are the first problem's, so handling
    /// written for one error keeps working; its fields add `errors`, every problem as
    /// `{code, message, fields}`.
    #[error("{first}")]
    #[code(first)]
    #[serde(serialize_with = "several_fields")]
    Several {
        /// The first problem. Not the error's `source()`: it *is* this error's first
        /// problem, and chains of causes (anyhow, eyre) would print it twice.
        first: Box<GraphError>,
        /// Every problem after the first, in document order.
        more: Vec<GraphError>,
    },
}

/// The most problems one load reports ([`GraphError::errors`]); past it, loading stops
/// looking.
pub const MAX_ERRORS: usize = 100;

impl GraphError {
    /// Every problem this error reports, in document order: the manifest's format, then its
    /// releases, edges and downgrades, each in entry order. One for every error but
    /// [`GraphError::Several`], at most [`MAX_ERRORS`].
    ///
    /// ```
    /// let err = fleetpath::UpgradeGraph::from_json(r#"{"format_version": 1,
    ///   "releases": [{"version": "1.0"}, {"version": "1.x"}, {"version": "2.0", "models": []}],
    ///   "edges": [{"from": "1.0", "to": "3.0"}]}"#).unwrap_err();
    /// let codes: Vec<&str> = err.errors().iter().map(|e| e.code()).collect();
    /// assert_eq!(codes, ["unexpected_character", "empty_models", "unknown_release"]);
    /// assert_eq!(err.code(), "unexpected_character"); // the first, as before
    /// assert!(err.to_string().starts_with("releases[1].version"), "{err}");
    /// // The first problem is the error, not its cause: a chain of causes shows it once.
    /// assert!(std::error::Error::source(&err).is_none());
    /// ```
    pub fn errors(&self) -> Vec<&GraphError> {
        match self {
            Self::Several { first, more } => std::iter::once(&**first).chain(more).collect(),
            other => vec![other],
        }
    }

    /// The first problem ([`GraphError::errors`]): the error itself, but for
    /// [`GraphError::Several`].
    pub fn first(&self) -> &GraphError {
        match self {
            Self::Several { first, .. } => first,
            other => other,
        }
    }

    /// One error for a list of problems: `None` when empty, the problem itself when alone.
    pub(crate) fn from_list(mut list: Vec<GraphError>) -> Option<GraphError> {
        match list.len() {
            0 => None,
            1 => list.pop(),
            _ => {
                let first = list.remove(0);
                Some(Self::Several { first: Box::new(first), more: list })
            }
        }
    }
}

/// `Several`'s fields: the first problem's, and `errors` (every problem).
fn several_fields<S: serde::Serializer>(
    first: &GraphError,
    more: &[GraphError],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let entry = |e: &GraphError| {
        let e = crate::Error::from(e.clone());
        serde_json::json!({"code": e.code(), "message": e.to_string(), "fields": e.fields()})
    };
    let mut fields = crate::error_fields(first);
    fields.insert("errors".to_owned(), std::iter::once(first).chain(more).map(entry).collect());
    fields.serialize(serializer)
}

/// Which end of a path a [`ResolveError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The version a device runs now.
    Source,
    /// The version it should reach.
    Target,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Source => "source",
            Self::Target => "target",
        })
    }
}

/// Why no upgrade path exists, found by relaxing one constraint at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum NoPathReason {
    /// Routes exist only through a blocked release (the first one on the shortest such route).
    BlockedRelease {
        /// The newest release the source reaches at or below the target (the source if none).
        furthest: Version,
        /// The blocked release.
        release: Version,
        /// Why it is blocked.
        reason: String,
    },
    /// Routes exist only over a blocked edge (the first one on the shortest such route).
    BlockedEdge {
        /// The newest release the source reaches at or below the target (the source if none).
        furthest: Version,
        /// The blocked hop's source.
        from: Version,
        /// The blocked hop's target.
        to: Version,
        /// Why it is blocked.
        reason: String,
    },
    /// Routes exist only over a hop the model cannot take (its target does not install on
    /// the model, or the edge is restricted to other models).
    ModelRestricted {
        /// The newest release the source reaches at or below the target (the source if none).
        furthest: Version,
        /// The first such hop's source on the shortest such route.
        from: Version,
        /// The first such hop's target.
        to: Version,
    },
    /// No declared edge leads there at all.
    Unreachable {
        /// The newest release the source reaches at or below the target (the source if none).
        furthest: Version,
    },
    /// Routes exist only over a hop withheld from this device by a risk it has not accepted
    /// (the first one on the shortest such route).
    WithheldByRisk {
        /// The newest release the source reaches at or below the target (the source if none).
        furthest: Version,
        /// The withheld hop's source.
        from: Version,
        /// The withheld hop's target.
        to: Version,
        /// The risk's name (accept it to take the hop).
        risk: String,
        /// The risk's message (may be empty).
        message: String,
        /// Where the risk is explained (may be empty).
        url: String,
    },
    /// The source is a dead end: no update may leave it.
    DeadEnd {
        /// The source itself (nothing else is reachable from it).
        furthest: Version,
        /// Why it is a dead end (empty when the manifest gives no reason).
        reason: String,
    },
}

impl NoPathReason {
    /// The newest release the source reaches at or below the target under the same
    /// constraints (the source itself if none): how far it gets toward the target. A release
    /// newer than the target that the source could reach is not considered.
    pub fn furthest(&self) -> &Version {
        match self {
            Self::BlockedRelease { furthest, .. }
            | Self::BlockedEdge { furthest, .. }
            | Self::ModelRestricted { furthest, .. }
            | Self::WithheldByRisk { furthest, .. }
            | Self::Unreachable { furthest }
            | Self::DeadEnd { furthest, .. } => furthest,
        }
    }
}

impl std::fmt::Display for NoPathReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BlockedRelease { release, reason, .. } => {
                write!(f, "every route passes blocked release \"{release}\" ({reason})")?;
            }
            Self::BlockedEdge { from, to, reason, .. } => {
                write!(f, "every route takes blocked hop \"{from}\" -> \"{to}\" ({reason})")?;
            }
            Self::ModelRestricted { from, to, .. } => {
                write!(f, "every route takes hop \"{from}\" -> \"{to}\", which the model cannot take")?;
            }
            Self::WithheldByRisk { from, to, risk, message, url, .. } => {
                write!(f, "every route takes hop \"{from}\" -> \"{to}\", withheld by risk \"{risk}\"")?;
                let about: Vec<&str> = [message.trim(), url.as_str()].into_iter().filter(|s| !s.is_empty()).collect();
                if !about.is_empty() {
                    write!(f, " ({})", about.join(", "))?;
                }
                f.write_str(" unless the risk is accepted")?;
            }
            Self::Unreachable { .. } => f.write_str("no declared edge leads there")?,
            Self::DeadEnd { furthest, reason } => {
                write!(f, "\"{furthest}\" is a dead end: no update may leave it")?;
                return if reason.is_empty() { Ok(()) } else { write!(f, " ({reason})") };
            }
        }
        write!(f, "; the newest release it reaches at or below the target is \"{}\"", self.furthest())
    }
}

/// Why [`UpgradeGraph::resolve`](super::UpgradeGraph::resolve) (or a route table) found no
/// path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, Codes)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResolveError {
    /// The version is not a release of the graph.
    #[error("unknown release \"{version}\" ({role})")]
    #[code("unknown_version")]
    UnknownVersion {
        /// The version asked for.
        version: Version,
        /// Which end.
        role: Role,
    },
    /// The release does not install on the hardware model.
    #[error("release \"{version}\" does not support model {model:?} ({role})")]
    #[code("model_incompatible")]
    ModelIncompatible {
        /// The hardware model.
        model: String,
        /// The release.
        version: Version,
        /// Which end.
        role: Role,
    },
    /// The target is older than the source: use a declared downgrade instead.
    #[error("target \"{to}\" is older than source \"{from}\" (rollbacks use downgrade edges)")]
    #[code("target_older")]
    TargetOlder {
        /// The source.
        from: Version,
        /// The target.
        to: Version,
    },
    /// The target release is blocked.
    #[error("target \"{to}\" is blocked: {reason}")]
    #[code("target_blocked")]
    TargetBlocked {
        /// The target.
        to: Version,
        /// Why it is blocked.
        reason: String,
    },
    /// No path exists under the constraints.
    #[error("no upgrade path from \"{from}\" to \"{to}\"{for_model}: {reason}", for_model = model_suffix(model.as_deref()))]
    #[code("no_path")]
    NoPath {
        /// The source.
        from: Version,
        /// The target.
        to: Version,
        /// The hardware model, if one was given.
        model: Option<String>,
        /// Why, and how far the source gets.
        reason: NoPathReason,
    },
    /// A hardware model was given as the empty string: no device has one (a typo or a
    /// missing field, never "any model").
    #[error("the hardware model is empty (leave the model out to mean any model)")]
    #[code("empty_model")]
    EmptyModel,
    /// No active, non-pre-release release installs on the model
    /// ([`UpgradeGraph::latest_for`](super::UpgradeGraph::latest_for)).
    #[error("no active release installs on model {model:?}{}", if *known {
        " (each release for it is blocked, archived, retired, a dead end or a pre-release)"
    } else {
        " (no release or edge of the graph names it)"
    })]
    #[code("no_release_for_model")]
    NoReleaseForModel {
        /// The hardware model.
        model: String,
        /// Whether a release or edge of the graph names the model.
        known: bool,
    },
    /// A path exists but is longer than the allowed hop count.
    #[error("the shortest path from \"{from}\" to \"{to}\" takes {hops} hops, more than the maximum of {max}")]
    #[code("too_many_hops")]
    TooManyHops {
        /// The source.
        from: Version,
        /// The target.
        to: Version,
        /// Hops the shortest path takes.
        hops: u32,
        /// The limit.
        max: u32,
    },
}

fn model_suffix(model: Option<&str>) -> String {
    model.map(|m| format!(" for model {m:?}")).unwrap_or_default()
}
