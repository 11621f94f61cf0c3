//! The upgrade graph: which firmware release may follow which, for which hardware.
//!
//! A [`Manifest`] (the JSON document users write) is checked and compiled into an
//! [`UpgradeGraph`], which answers path queries ([`UpgradeGraph::resolve`],
//! [`UpgradeGraph::route_table`]), reports suspicious structure ([`UpgradeGraph::lint`]) and
//! draws itself ([`UpgradeGraph::to_dot`], [`UpgradeGraph::to_mermaid`]).
//!
//! # Rules
//!
//! - Releases are identified by [`Version`] equality: `6.15.008` and `6.15.8` are the same
//!   release, so declaring both is a duplicate.
//! - Every upgrade edge goes to a strictly newer release. A cycle among upgrade edges would
//!   need an edge to an older (or the same) release, so it is rejected as
//!   [`GraphError::EdgeNotUpgrade`] naming that edge.
//! - A **range edge** (`from_range`) stands for one edge from every release the range matches
//!   that is older than its target. Explicit edges win over generated ones; blocked edges
//!   remove generated ones; generated edges that would jump a barrier are dropped.
//! - A **barrier** release must be passed by every older release: no upgrade edge may go from
//!   an older release to a newer one across it. An explicit edge that does is an error
//!   ([`GraphError::CrossesBarrier`]). A barrier adds no edges of its own: declare how older
//!   releases reach it (a range edge such as `{"from_range": "<5.6.30", "to": "5.6.30"}` is
//!   the usual way). A barrier applies to every hardware model.
//! - A **blocked edge** names a hop that must never be taken (such as a direct jump that
//!   bricks devices). Declaring the same hop as an upgrade too is an error.
//! - **Blocked releases** are never installed, as a target or on the way, unless the caller
//!   allows it; devices already on one may still upgrade away from it. **Archived** releases
//!   are usable hops and rollback targets but never chosen by [`UpgradeGraph::latest_for`].
//! - **Hardware models**: a hop is usable for model `M` when both releases install on `M`
//!   (a release without `models` installs on every model) and the edge's own `models`, if
//!   any, include `M`. Queries without a model do not check models.
//! - **Downgrade edges** are kept apart: path resolution never uses them.
//!
//! # Paths
//!
//! [`UpgradeGraph::resolve`] returns a path with the fewest hops. Among paths with equally
//! few hops it takes, hop by hop, the best next release: a non-blocked release before a
//! blocked one (when blocked releases are allowed), then an active release before an
//! archived one, then the newest version. Following [`RouteTable::next_hop`] from any
//! release gives exactly the path `resolve` returns.
//!
//! # Limits
//!
//! Loading is linear in the document and in the hops it declares or generates: a range edge
//! finds its sources by binary search, not by testing every release. A manifest may declare at
//! most [`MAX_RELEASES`] releases, and its edges may give at most [`MAX_HOPS`] hops (explicit
//! upgrades, blocked hops and the hops each range edge generates, counted entry by entry);
//! beyond either, loading stops with [`GraphError::TooLarge`] (`manifest_too_large`). At the
//! limit a graph holds about 40 MB, and its DOT or Mermaid drawing is a few tens of MB.
//!
//! ```
//! use fleetpath::{Constraints, UpgradeGraph, Version};
//!
//! let graph = UpgradeGraph::from_json(r#"{
//!   "format_version": 1,
//!   "releases": [
//!     {"version": "5.6.14", "labels": {"protocol": "turn"}},
//!     {"version": "5.6.30", "barrier": true},
//!     {"version": "6.15.008", "labels": {"protocol": "mqtt"}}
//!   ],
//!   "edges": [
//!     {"from_range": "<5.6.30", "to": "5.6.30"},
//!     {"from": "5.6.30", "to": "6.15.008"}
//!   ]
//! }"#)?;
//! let path = graph.resolve(&"5.6.14".parse()?, &"6.15.8".parse()?, &Constraints::default())?;
//! let steps: Vec<String> = path.hops.iter().map(|h| h.to.to_string()).collect();
//! assert_eq!(steps, ["5.6.30", "6.15.008"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod build;
pub mod cincinnati;
mod error;
mod export;
mod lint;
mod manifest;
#[cfg(not(feature = "small-json"))]
mod plain_entries;
mod resolve;

use crate::u32_of;
use rustc_hash::{FxBuildHasher, FxHashMap as HashMap};
use std::collections::BTreeSet;
use std::hash::BuildHasher as _;
use std::sync::Arc;

use compact_str::CompactString;
use petgraph::csr::Csr;
use serde::{Serialize, Serializer};

pub use error::{GraphError, MAX_ERRORS, NoPathReason, ResolveError, Role};
pub use lint::{LintCode, LintFinding, Severity, Subject};
pub use manifest::{
    Artifact, ChannelRule, Condition, DeviceAttributes, DowngradeSpec, EdgeRisk, EdgeSpec, FORMAT_VERSION,
    LabelCondition, Labels, Manifest, Migration, OLDEST_FORMAT_VERSION, ReleaseSpec, ReleaseStatus,
};
pub use resolve::{Constraints, Hop, Path, RouteEntry, RouteTable};

use crate::version::{Version, VersionKey};

/// The hash [`Inner::index`] files a release under and looks a version up by: one function
/// for both, so the build and the lookups cannot disagree.
fn index_hash(key: &VersionKey) -> u64 {
    FxBuildHasher.hash_one(key)
}

/// The most releases a manifest may declare.
pub const MAX_RELEASES: usize = 100_000;

/// The most upgrade hops a manifest may give: explicit upgrades, blocked hops and the hops of
/// every range edge (generated ones counted per entry, before duplicates are merged).
pub const MAX_HOPS: usize = 1_000_000;

/// Node flags.
const BLOCKED: u8 = 1;
const ARCHIVED: u8 = 2;
const GENERIC: u8 = 4;
const PRERELEASE: u8 = 8;
const DEADEND: u8 = 16;
/// The release declares no artifact.
const NO_ARTIFACT: u8 = 32;

/// A CSR edge weight is the index of the declaring entry in the manifest's `edges`, with the
/// top bit set when that entry has its own `models` list, the next when it is a range entry
/// (the edge was generated) and the next when it has risks: a hop reads all three without
/// touching the entry.
const RESTRICTED: u32 = 1 << 31;
const GENERATED: u32 = 1 << 30;
const RISKY: u32 = 1 << 29;
const SPEC_MASK: u32 = RISKY - 1;

type Adjacency = Csr<(), u32, petgraph::Directed, u32>;

/// A release of a compiled graph: its manifest entry and its parsed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    version: Version,
    /// Boxed: read into its box once, never moved again (a big manifest's releases are
    /// megabytes).
    spec: Box<ReleaseSpec>,
    /// Position in `Manifest::releases`.
    position: usize,
}

impl Release {
    /// The version.
    pub fn version(&self) -> &Version {
        &self.version
    }
    /// The manifest entry, as written.
    pub fn spec(&self) -> &ReleaseSpec {
        &self.spec
    }
    /// Its index in the manifest's `releases` list.
    pub fn position(&self) -> usize {
        self.position
    }
    /// Active, blocked or archived.
    pub fn status(&self) -> ReleaseStatus {
        self.spec.status
    }
    /// Why it is blocked or archived, if said.
    pub fn reason(&self) -> Option<&str> {
        self.spec.reason.as_deref()
    }
    /// Whether every older release must pass it.
    pub fn is_barrier(&self) -> bool {
        self.spec.barrier
    }
    /// The firmware binary, if declared.
    pub fn artifact(&self) -> Option<&Artifact> {
        self.spec.artifact.as_ref()
    }
    /// Hardware models, or `None` for every model.
    pub fn models(&self) -> Option<&[CompactString]> {
        self.spec.models.as_deref()
    }
    /// Free labels.
    pub fn labels(&self) -> &Labels {
        &self.spec.labels
    }
    /// Whether it installs on `model`.
    pub fn supports(&self, model: &str) -> bool {
        self.spec.models.as_ref().is_none_or(|ms| ms.iter().any(|m| m == model))
    }
}

impl Serialize for Release {
    /// A release serializes as its manifest entry.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.spec.serialize(serializer)
    }
}

/// An upgrade edge of the compiled graph (explicit, or generated by a range edge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CompiledEdge {
    from: u32,
    to: u32,
    /// Index in `Manifest::edges`.
    spec: u32,
    generated: bool,
}

/// A hop the manifest forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BlockedHop {
    from: u32,
    to: u32,
    spec: u32,
}

/// The manifest's `edges` entries as a graph keeps them. A graph compiled from a [`Manifest`]
/// keeps its entries as given. A graph read from text keeps an entry that names two releases
/// as they spell themselves, and nothing else, as their nodes (8 bytes, not an [`EdgeSpec`] of
/// 176 bytes and two strings), and makes the entries as written at the first ask
/// ([`UpgradeGraph::edge_specs`]).
enum EdgeEntries {
    Written(Vec<EdgeSpec>),
    Kept { entries: Vec<EdgeEntry>, written: std::sync::OnceLock<Vec<EdgeSpec>> },
}

enum EdgeEntry {
    Plain { from: u32, to: u32 },
    Spec(Box<EdgeSpec>),
}

impl EdgeEntries {
    /// Entry `i` when it says more than two releases.
    fn spec(&self, i: u32) -> Option<&EdgeSpec> {
        match self {
            Self::Written(specs) => specs.get(i as usize),
            Self::Kept { entries, .. } => match entries.get(i as usize)? {
                EdgeEntry::Plain { .. } => None,
                EdgeEntry::Spec(spec) => Some(spec),
            },
        }
    }

    /// Entry `i`'s blocked reason, if it is a blocked edge.
    fn blocked(&self, i: u32) -> Option<&str> {
        self.spec(i)?.blocked.as_deref()
    }

    /// Whether entry `i` is a range edge.
    fn is_range(&self, i: u32) -> bool {
        self.spec(i).is_some_and(|e| e.from_range.is_some())
    }

    /// Entry `i`'s risks.
    fn risks(&self, i: u32) -> &[EdgeRisk] {
        self.spec(i).map_or(&[][..], |e| &e.risks[..])
    }

    /// The entries as written.
    fn specs(&self, releases: &[Release]) -> &[EdgeSpec] {
        match self {
            Self::Written(specs) => specs,
            Self::Kept { entries, written } => written.get_or_init(|| {
                let spelling = |node: u32| releases[node as usize].spec.version.to_string();
                let written = |entry: &EdgeEntry| match entry {
                    EdgeEntry::Plain { from, to } => EdgeSpec::plain(spelling(*from), spelling(*to)),
                    EdgeEntry::Spec(spec) => (**spec).clone(),
                };
                entries.iter().map(written).collect()
            }),
        }
    }
}

/// A compiled downgrade edge.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CompiledDowngrade {
    from: u32,
    to: u32,
    spec: usize,
    models: Option<Box<[u32]>>,
}

/// An upgrade edge as the compiled graph sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeRef<'g> {
    /// The release it leaves.
    pub from: &'g Release,
    /// The release it installs.
    pub to: &'g Release,
    /// Index of the declaring entry in the manifest's `edges`.
    pub spec: usize,
    /// `true` when a range edge (`from_range`) generated it.
    pub generated: bool,
}

/// Its JSON form is `{"from", "to", "edge", "generated"}`: versions as the manifest spells
/// them, and the index of the declaring entry as `edge` (as in a [`Hop`]).
impl Serialize for EdgeRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Edge", 4)?;
        s.serialize_field("from", &self.from.version)?;
        s.serialize_field("to", &self.to.version)?;
        s.serialize_field("edge", &self.spec)?;
        s.serialize_field("generated", &self.generated)?;
        s.end()
    }
}

/// Which graph a value was made for, without holding the graph: the same for clones of one
/// graph, never for another one, even once this one is dropped (the weak reference keeps its
/// address from being reused).
#[derive(Debug, Clone)]
pub(crate) struct GraphIdentity(std::sync::Weak<Inner>);

impl GraphIdentity {
    pub(crate) fn of(graph: &UpgradeGraph) -> Self {
        Self(Arc::downgrade(&graph.inner))
    }

    /// Whether `graph` is the graph this identity was taken of (or a clone of it).
    pub(crate) fn is(&self, graph: &UpgradeGraph) -> bool {
        std::ptr::eq(self.0.as_ptr(), Arc::as_ptr(&graph.inner))
    }
}

/// A validated, compiled upgrade graph. Cheap to clone (shared, immutable).
///
/// See the [module docs](self) for the rules it enforces.
#[derive(Clone)]
pub struct UpgradeGraph {
    inner: Arc<Inner>,
}

struct Inner {
    /// The document, minus its releases (moved into `releases`) and edges (in `edges`).
    manifest: Manifest,
    /// The manifest's `edges` entries.
    edges: EdgeEntries,
    /// Sorted by version: a node's index is its rank, so every upgrade edge goes up.
    releases: Vec<Release>,
    /// Each release's node, by its version's hash (spelling aside), checked against the
    /// release: one probe per query, 4 bytes an entry (a copy of each version's key took 64).
    index: hashbrown::HashTable<u32>,
    flags: Vec<u8>,
    /// Interned model names (from releases, edges and downgrades), sorted.
    model_names: Vec<String>,
    model_ids: HashMap<String, u32>,
    /// Per release, its sorted model ids: `model_list[model_offsets[i]..model_offsets[i + 1]]`.
    model_offsets: Vec<u32>,
    model_list: Vec<u32>,
    /// Per edge spec index, its sorted model ids when it has a `models` list.
    edge_models: HashMap<u32, Box<[u32]>>,
    forward: Adjacency,
    reverse: Adjacency,
    /// Sorted by `(from, to)`.
    blocked: Vec<BlockedHop>,
    downgrades: Vec<CompiledDowngrade>,
    /// Range edges: spec index and how many older releases they matched (for lint).
    range_stats: Vec<(usize, usize)>,
    /// Edge entries with risks (not blocked), sorted.
    risky: Vec<u32>,
    /// Edge entries that repeat an earlier one exactly: (first, repeat), by repeat.
    repeats: Vec<(usize, usize)>,
    /// Upgrade range entries that also match a release newer than their target: (entry, the
    /// oldest such release's node), by entry.
    range_newer: Vec<(usize, u32)>,
}

impl std::fmt::Debug for UpgradeGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpgradeGraph")
            .field("name", &self.inner.manifest.name)
            .field("releases", &self.inner.releases.len())
            .field("edges", &self.inner.forward.edge_count())
            .finish_non_exhaustive()
    }
}

/// What a search may use: the model, and the edge entries withheld by a risk (sorted spec
/// indices, see [`UpgradeGraph::withheld`]).
#[derive(Debug, Clone, Copy)]
struct Query<'a> {
    model: ModelQuery,
    withheld: &'a [u32],
}

impl Query<'_> {
    fn model(model: ModelQuery) -> Query<'static> {
        Query { model, withheld: &[] }
    }
}

/// What a query means by "model".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ModelQuery {
    /// No model given: compatibility is not checked.
    Any,
    /// A model some entry of the manifest names.
    Known(u32),
    /// A model no entry names: only releases without a `models` list install on it.
    Unknown,
}

impl UpgradeGraph {
    /// Reads and compiles a manifest from JSON: [`Manifest::from_json`], then
    /// [`UpgradeGraph::new`].
    ///
    /// ```
    /// let json = r#"{"edges": [{"from": "5.6.14", "to": "5.6.30"}], "format_version": 1,
    ///               "releases": [{"version": "5.6.14"}, {"version": "5.6.30"}]}"#;
    /// let graph = fleetpath::UpgradeGraph::from_json(json)?;
    /// assert_eq!(graph.edges().count(), 1);
    /// assert_eq!(graph.to_manifest().edges[0].to, "5.6.30");
    /// # Ok::<(), fleetpath::GraphError>(())
    /// ```
    ///
    /// # Errors
    /// Any [`GraphError`]: see [`Manifest::from_json`] and [`UpgradeGraph::new`].
    pub fn from_json(json: &str) -> Result<Self, GraphError> {
        // As `Manifest::from_json` then `new`, its edges read without a string each; plain
        // release and edge entries read by a reader of their own when it can read the whole
        // document (when it cannot, the document's reader gives the result or the error).
        #[cfg(not(feature = "small-json"))]
        let read = plain_entries::read(json);
        #[cfg(feature = "small-json")]
        let read = None;
        let manifest: manifest::ManifestWire<'_> = match read {
            Some(manifest) => manifest,
            None => crate::document::from_str("manifest", json)?,
        };
        build::check_supported_version(manifest.format_version)?;
        build::build_wire(manifest).map(|inner| Self { inner: Arc::new(inner) })
    }

    /// Reads and compiles a manifest from a parsed JSON value: [`Manifest::from_value`], then
    /// [`UpgradeGraph::new`].
    ///
    /// # Errors
    /// As [`UpgradeGraph::from_json`] (JSON errors without line or column).
    pub fn from_value(value: serde_json::Value) -> Result<Self, GraphError> {
        Self::new(Manifest::from_value(value)?)
    }

    /// Checks and compiles a manifest.
    ///
    /// # Errors
    /// Every independent problem, in one pass: a lone problem as itself, several as
    /// [`GraphError::Several`], which reads as the first (its code, message and fields) and
    /// lists them all ([`GraphError::errors`], at most [`MAX_ERRORS`]). The order is the
    /// loader's: fields the declared format version lacks, then each release's own checks,
    /// then duplicate releases, then each edge entry (and, when every entry is sound, what the
    /// entries expand to: blocked hops declared as upgrades, the hop limit), then each
    /// downgrade. So the first problem is the one a single-error loader reports. An entry with a
    /// problem is left out of the later checks, and an edge or downgrade naming a refused
    /// release is not reported again. An unsupported format version, no release at all or a
    /// manifest over the size limits stop the load at once.
    ///
    /// # Complexity
    /// O(R log R + E log E + G·R) for R releases, E explicit edges and G range edges.
    pub fn new(manifest: Manifest) -> Result<Self, GraphError> {
        build::build(manifest).map(|inner| Self { inner: Arc::new(inner) })
    }

    /// The manifest this graph was compiled from, rebuilt (releases in document order).
    /// Round-trips: `UpgradeGraph::new(graph.to_manifest())` gives the same graph.
    pub fn to_manifest(&self) -> Manifest {
        let mut manifest = self.inner.manifest.clone();
        manifest.edges = self.edge_specs().to_vec();
        let mut releases: Vec<&Release> = self.inner.releases.iter().collect();
        releases.sort_unstable_by_key(|r| r.position);
        manifest.releases = releases.into_iter().map(|r| ReleaseSpec::clone(&r.spec)).collect();
        manifest
    }

    /// The manifest's `name`.
    pub fn name(&self) -> Option<&str> {
        self.inner.manifest.name.as_deref()
    }

    /// The manifest's `edges` entries, as written (a [`Hop`]'s `edge` indexes this list).
    pub fn edge_specs(&self) -> &[EdgeSpec] {
        self.inner.edges.specs(&self.inner.releases)
    }

    /// The reason of a blocked edge entry (`spec` indexes the manifest's `edges`).
    fn blocked_reason(&self, spec: u32) -> &str {
        self.inner.edges.blocked(spec).unwrap_or_default()
    }

    /// Whether edge entry `spec` is a range edge.
    fn is_range(&self, spec: u32) -> bool {
        self.inner.edges.is_range(spec)
    }

    /// The risks of edge entry `spec`.
    fn edge_risks(&self, spec: u32) -> &[EdgeRisk] {
        self.inner.edges.risks(spec)
    }

    /// The compiled edge from `from` to `to` with this CSR weight.
    fn compiled(from: u32, to: u32, weight: u32) -> CompiledEdge {
        CompiledEdge { from, to, spec: weight & SPEC_MASK, generated: weight & GENERATED != 0 }
    }

    /// The manifest's `downgrades` entries, as written.
    pub fn downgrade_specs(&self) -> &[DowngradeSpec] {
        &self.inner.manifest.downgrades
    }

    /// Every release, oldest first.
    pub fn releases(&self) -> &[Release] {
        &self.inner.releases
    }

    /// About how many bytes the graph holds, from its counts: 400 a release (its entry,
    /// version, artifact and models) and 64 an edge (the entry as written, both adjacency
    /// lists). A host whose collector cannot see this memory (V8 for the Node package) paces
    /// its collections with it. For the bench's 10k releases and 91k edges it gives 9.8 MB,
    /// where a counting allocator measured 10.4 MB.
    ///
    /// ```
    /// let graph = fleetpath::UpgradeGraph::from_json(r#"{"format_version": 1,
    ///   "releases": [{"version": "1.0"}, {"version": "2.0"}], "edges": [{"from": "1.0", "to": "2.0"}]}"#)?;
    /// assert_eq!(graph.memory_estimate(), 2 * 400 + 64);
    /// # Ok::<(), fleetpath::GraphError>(())
    /// ```
    pub fn memory_estimate(&self) -> usize {
        400 * self.inner.releases.len() + 64 * self.inner.forward.edge_count()
    }

    /// The release with this version (spelling aside), if any.
    pub fn release(&self, version: &Version) -> Option<&Release> {
        self.node(version).map(|i| &self.inner.releases[i as usize])
    }

    /// Hardware models that releases declare, sorted.
    pub fn models(&self) -> Vec<&str> {
        let inner = &self.inner;
        let mut declared = vec![false; inner.model_names.len()];
        for &m in &inner.model_list {
            declared[m as usize] = true;
        }
        inner.model_names.iter().zip(declared).filter_map(|(name, d)| d.then_some(name.as_str())).collect()
    }

    /// Every upgrade edge (explicit and generated), sorted by source then target: the
    /// hops paths may take, range edges expanded, blocked hops left out.
    ///
    /// ```
    /// let graph = fleetpath::UpgradeGraph::from_json(r#"{"format_version": 1,
    ///   "releases": [{"version": "1.0"}, {"version": "1.1"}, {"version": "2.0"}],
    ///   "edges": [{"from_range": "<2.0", "to": "2.0"}, {"from": "1.0", "to": "1.1"}]}"#)?;
    /// let edges: Vec<String> = graph.edges().map(|e| format!("{} -> {}", e.from.version(), e.to.version())).collect();
    /// assert_eq!(edges, ["1.0 -> 1.1", "1.0 -> 2.0", "1.1 -> 2.0"]);
    /// assert_eq!(serde_json::to_value(graph.edges().next().unwrap())?,
    ///            serde_json::json!({"from": "1.0", "to": "1.1", "edge": 1, "generated": false}));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn edges(&self) -> impl Iterator<Item = EdgeRef<'_>> + '_ {
        self.compiled_edges().map(|e| EdgeRef {
            from: &self.inner.releases[e.from as usize],
            to: &self.inner.releases[e.to as usize],
            spec: e.spec as usize,
            generated: e.generated,
        })
    }

    /// Every hop the manifest forbids (explicit blocked edges and the hops blocked range
    /// edges expand to), sorted by source then target, with the reason.
    pub fn blocked_hops(&self) -> impl Iterator<Item = (EdgeRef<'_>, &str)> + '_ {
        self.inner.blocked.iter().map(|b| {
            let edge = EdgeRef {
                from: &self.inner.releases[b.from as usize],
                to: &self.inner.releases[b.to as usize],
                spec: b.spec as usize,
                generated: self.is_range(b.spec),
            };
            (edge, self.blocked_reason(b.spec))
        })
    }

    /// Declared downgrades from `from` that `model` may take (every declared downgrade from it
    /// when `model` is `None`), newest target first.
    pub fn downgrades_from(&self, from: &Version, model: Option<&str>) -> Vec<(&Release, &DowngradeSpec)> {
        let Some(node) = self.node(from) else { return Vec::new() };
        let query = self.model_query(model);
        let mut out: Vec<_> = self
            .inner
            .downgrades
            .iter()
            .filter(|d| d.from == node && self.downgrade_ok(d, query))
            .map(|d| (&self.inner.releases[d.to as usize], &self.inner.manifest.downgrades[d.spec]))
            .collect();
        out.sort_by(|a, b| b.0.version.cmp(&a.0.version));
        out
    }

    /// The newest active, non-pre-release release that installs on `model` (never a blocked,
    /// archived, retired or dead-end one); a pre-release too when the manifest's `channels`
    /// rule for the model includes them ([`ChannelRule`]).
    ///
    /// ```
    /// use fleetpath::ResolveError;
    /// let graph = fleetpath::UpgradeGraph::from_json(r#"{"format_version": 1, "releases": [
    ///   {"version": "1.0", "models": ["a", "b"]}, {"version": "1.1", "models": ["a"]},
    ///   {"version": "1.2", "status": "blocked", "reason": "recalled"},
    ///   {"version": "2.0-rc.1"}]}"#)?;
    /// assert_eq!(graph.latest_for("a")?.version().to_string(), "1.1");
    /// assert_eq!(graph.latest_for("b")?.version().to_string(), "1.0");
    /// let Err(ResolveError::NoReleaseForModel { known: false, .. }) = graph.latest_for("c") else { panic!() };
    /// assert_eq!(graph.latest_for("").unwrap_err(), ResolveError::EmptyModel);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ResolveError::EmptyModel`] for `""`; [`ResolveError::NoReleaseForModel`] when no
    /// release qualifies, saying whether the graph names the model at all.
    pub fn latest_for(&self, model: &str) -> Result<&Release, ResolveError> {
        if model.is_empty() {
            return Err(ResolveError::EmptyModel);
        }
        let query = self.model_query(Some(model));
        let prerelease = self.inner.manifest.channels.get(model).is_some_and(|c| c.include_prerelease);
        let skipped = BLOCKED | ARCHIVED | DEADEND | if prerelease { 0 } else { PRERELEASE };
        (0..self.len_u32())
            .rev()
            .find(|&i| self.inner.flags[i as usize] & skipped == 0 && self.supports(i, query))
            .map(|i| &self.inner.releases[i as usize])
            .ok_or_else(|| ResolveError::NoReleaseForModel {
                model: model.to_owned(),
                known: matches!(query, ModelQuery::Known(_)),
            })
    }

    // ---- internals shared by resolve, lint and export ----

    fn len_u32(&self) -> u32 {
        // `Builder::build` refuses more than u32::MAX releases.
        u32_of(self.inner.releases.len())
    }

    /// The node of the release `version` names.
    pub(crate) fn node(&self, version: &Version) -> Option<u32> {
        let (key, releases) = (version.key(), &self.inner.releases);
        let same = |&node: &u32| releases[node as usize].version.key() == key;
        self.inner.index.find(index_hash(key), same).copied()
    }

    fn model_query(&self, model: Option<&str>) -> ModelQuery {
        match model {
            None => ModelQuery::Any,
            Some(m) => self.inner.model_ids.get(m).map_or(ModelQuery::Unknown, |&id| ModelQuery::Known(id)),
        }
    }

    fn supports(&self, node: u32, query: ModelQuery) -> bool {
        let inner = &self.inner;
        match query {
            ModelQuery::Any => true,
            _ if inner.flags[node as usize] & GENERIC != 0 => true,
            ModelQuery::Unknown => false,
            ModelQuery::Known(m) => {
                let (lo, hi) = (inner.model_offsets[node as usize], inner.model_offsets[node as usize + 1]);
                inner.model_list[lo as usize..hi as usize].binary_search(&m).is_ok()
            }
        }
    }

    /// Whether the edge's own `models` list (if any) admits the query.
    #[inline]
    fn edge_admits(&self, weight: u32, query: ModelQuery) -> bool {
        if weight & RESTRICTED == 0 {
            return true;
        }
        match query {
            ModelQuery::Any => true,
            ModelQuery::Unknown => false,
            ModelQuery::Known(m) => {
                self.inner.edge_models.get(&(weight & SPEC_MASK)).is_some_and(|ms| ms.binary_search(&m).is_ok())
            }
        }
    }

    /// Whether a search under `q` may take the edge: the model admits it and no risk
    /// withholds it.
    #[inline]
    fn edge_open(&self, weight: u32, q: Query<'_>) -> bool {
        self.edge_admits(weight, q.model)
            && (weight & RISKY == 0 || q.withheld.binary_search(&(weight & SPEC_MASK)).is_err())
    }

    /// Whether some edge entry carries risks (so answers may depend on a device's labels
    /// and the risks its host accepts).
    pub fn has_risks(&self) -> bool {
        !self.inner.risky.is_empty()
    }

    /// The edge entries withheld from a device under `constraints`, sorted: those with a
    /// risk that applies to it ([`EdgeRisk::applies`]) and that it has not accepted.
    fn withheld(&self, constraints: &Constraints) -> Box<[u32]> {
        self.risk_signature(&Self::attributes(constraints), &constraints.accepted_risks)
            .iter()
            .map(|&(s, _)| s)
            .collect()
    }

    fn attributes(constraints: &Constraints) -> DeviceAttributes<'_> {
        DeviceAttributes { model: constraints.model.as_deref(), labels: constraints.labels.as_ref() }
    }

    /// Each withheld edge entry with the index of its first risk that withholds it, sorted:
    /// two devices with the same signature get the same routes and the same explanations.
    pub(crate) fn risk_signature(
        &self,
        device: &DeviceAttributes<'_>,
        accepted: &BTreeSet<String>,
    ) -> Box<[(u32, u32)]> {
        let risks = |spec: u32| self.edge_risks(spec);
        self.inner
            .risky
            .iter()
            .filter_map(|&spec| {
                let k = risks(spec).iter().position(|r| r.applies(device) && !accepted.contains(&r.name))?;
                Some((spec, u32_of(k)))
            })
            .collect()
    }

    /// The first risk of edge entry `spec` that withholds it from a device under `constraints`.
    fn withholding_risk(&self, spec: u32, constraints: &Constraints) -> Option<&EdgeRisk> {
        let device = Self::attributes(constraints);
        let risks = self.edge_risks(spec);
        risks.iter().find(|r| r.applies(&device) && !constraints.accepted_risks.contains(&r.name))
    }

    fn downgrade_ok(&self, d: &CompiledDowngrade, query: ModelQuery) -> bool {
        let edge_ok = match (&d.models, query) {
            (None, _) | (_, ModelQuery::Any) => true,
            (Some(_), ModelQuery::Unknown) => false,
            (Some(ms), ModelQuery::Known(m)) => ms.binary_search(&m).is_ok(),
        };
        edge_ok && self.supports(d.from, query) && self.supports(d.to, query)
    }

    fn is_blocked(&self, node: u32) -> bool {
        self.inner.flags[node as usize] & BLOCKED != 0
    }

    /// Whether the release at `node` declares an artifact (read from the node flags, without
    /// touching the release).
    pub(crate) fn has_artifact(&self, node: u32) -> bool {
        self.inner.flags.get(node as usize).is_some_and(|f| f & NO_ARTIFACT == 0)
    }

    fn release_at(&self, node: u32) -> &Release {
        &self.inner.releases[node as usize]
    }

    fn forward(&self, node: u32) -> (&[u32], &[u32]) {
        adjacent(&self.inner.forward, node)
    }

    fn reverse(&self, node: u32) -> (&[u32], &[u32]) {
        adjacent(&self.inner.reverse, node)
    }

    /// The compiled edge from `from` to `to`, if any.
    fn edge_between(&self, from: u32, to: u32) -> Option<CompiledEdge> {
        let (targets, weights) = self.forward(from);
        targets.binary_search(&to).ok().map(|i| Self::compiled(from, to, weights[i]))
    }

    /// Every upgrade edge, sorted by `(from, to)`, read off the forward adjacency.
    fn compiled_edges(&self) -> impl Iterator<Item = CompiledEdge> + '_ {
        (0..self.len_u32()).flat_map(move |from| {
            let (targets, weights) = self.forward(from);
            targets.iter().zip(weights).map(move |(&to, &w)| Self::compiled(from, to, w))
        })
    }

    fn blocked_between(&self, from: u32, to: u32) -> Option<&BlockedHop> {
        self.inner.blocked.binary_search_by(|b| (b.from, b.to).cmp(&(from, to))).ok().map(|i| &self.inner.blocked[i])
    }
}

/// The node of `version` (spelling aside) among releases sorted by version.
fn node_of(releases: &[Release], version: &Version) -> Option<u32> {
    releases.binary_search_by(|r| r.version.cmp(version)).ok().map(u32_of)
}

fn adjacent(csr: &Adjacency, node: u32) -> (&[u32], &[u32]) {
    if (node as usize) < csr.node_count() { (csr.neighbors_slice(node), csr.edges_slice(node)) } else { (&[], &[]) }
}

crate::document::checked_documents! {
    Manifest => "manifest";
    UpgradeGraph => "manifest";
}

crate::document::documents! {
    cincinnati::CincinnatiGraph => "cincinnati graph";
    Artifact => "artifact";
    Constraints => "constraints";
    Path => "path";
}
#[cfg(test)]
mod tests {
    use super::build::check_size;

    #[test]
    fn size_limits() {
        assert_eq!(check_size(10, 10), Ok(()));
        assert_eq!(check_size(super::MAX_RELEASES, super::MAX_HOPS), Ok(()));
        let err = check_size(super::MAX_RELEASES + 1, 0).unwrap_err();
        assert_eq!(err.code(), "manifest_too_large");
        assert_eq!(err.to_string(), "manifest has too many releases (100001; the limit is 100000)");
        let err = check_size(3, super::MAX_HOPS + 5).unwrap_err();
        assert_eq!(err.to_string(), "manifest has too many edges (1000005; the limit is 1000000)");
    }
}
