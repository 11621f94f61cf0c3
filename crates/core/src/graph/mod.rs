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

mod error;
mod export;
mod lint;
mod manifest;
mod resolve;

use rustc_hash::{FxBuildHasher, FxHashMap as HashMap};
use std::sync::Arc;

use petgraph::csr::Csr;
use serde::{Serialize, Serializer};

pub use error::{GraphError, NoPathReason, ResolveError, Role};
pub use lint::{LintCode, LintFinding, Severity, Subject};
pub use manifest::{
    Artifact, DowngradeSpec, EdgeSpec, FORMAT_VERSION, Manifest, Migration, OLDEST_FORMAT_VERSION, ReleaseSpec,
    ReleaseStatus,
};
pub use resolve::{Constraints, Hop, Path, RouteEntry, RouteTable};

use crate::version::{Version, VersionRange};

/// Node flags.
const BLOCKED: u8 = 1;
const ARCHIVED: u8 = 2;
const GENERIC: u8 = 4;
const PRERELEASE: u8 = 8;

/// Set in a CSR edge weight when the edge has its own `models` list.
const RESTRICTED: u32 = 1 << 31;
const EDGE_MASK: u32 = RESTRICTED - 1;

type Adjacency = Csr<(), u32, petgraph::Directed, u32>;

/// A release of a compiled graph: its manifest entry and its parsed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    version: Version,
    spec: ReleaseSpec,
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
    pub fn models(&self) -> Option<&[String]> {
        self.spec.models.as_deref()
    }
    /// Free labels.
    pub fn labels(&self) -> &std::collections::BTreeMap<String, String> {
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

/// A validated, compiled upgrade graph. Cheap to clone (shared, immutable).
///
/// See the [module docs](self) for the rules it enforces.
#[derive(Clone)]
pub struct UpgradeGraph {
    inner: Arc<Inner>,
}

struct Inner {
    /// The document, minus its releases (moved into `releases`).
    manifest: Manifest,
    /// Sorted by version: a node's index is its rank, so every upgrade edge goes up.
    releases: Vec<Release>,
    index: HashMap<Version, u32>,
    flags: Vec<u8>,
    /// Interned model names (from releases, edges and downgrades), sorted.
    model_names: Vec<String>,
    model_ids: HashMap<String, u32>,
    /// Per release, its sorted model ids: `model_list[model_offsets[i]..model_offsets[i + 1]]`.
    model_offsets: Vec<u32>,
    model_list: Vec<u32>,
    /// Sorted by `(from, to)`.
    edges: Vec<CompiledEdge>,
    /// Per edge spec index, its sorted model ids when it has a `models` list.
    edge_models: HashMap<u32, Box<[u32]>>,
    forward: Adjacency,
    reverse: Adjacency,
    /// Sorted by `(from, to)`.
    blocked: Vec<BlockedHop>,
    downgrades: Vec<CompiledDowngrade>,
    /// Range edges: spec index and how many older releases they matched (for lint).
    range_stats: Vec<(usize, usize)>,
}

impl std::fmt::Debug for UpgradeGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpgradeGraph")
            .field("name", &self.inner.manifest.name)
            .field("releases", &self.inner.releases.len())
            .field("edges", &self.inner.edges.len())
            .finish_non_exhaustive()
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
    /// Reads and compiles a manifest from JSON.
    ///
    /// # Errors
    /// Any [`GraphError`]: see [`Manifest::from_json`] and [`UpgradeGraph::new`].
    pub fn from_json(json: &str) -> Result<Self, GraphError> {
        Self::new(Manifest::from_json(json)?)
    }

    /// Checks and compiles a manifest.
    ///
    /// # Errors
    /// The first problem found, in document order: releases (versions, duplicates, models,
    /// status and reason, artifact), then edges, then downgrades. See [`GraphError`].
    ///
    /// # Complexity
    /// O(R log R + E log E + G·R) for R releases, E explicit edges and G range edges.
    pub fn new(manifest: Manifest) -> Result<Self, GraphError> {
        Builder::default().build(manifest).map(|inner| Self { inner: Arc::new(inner) })
    }

    /// The manifest this graph was compiled from, rebuilt (releases in document order).
    /// Round-trips: `UpgradeGraph::new(graph.to_manifest())` gives the same graph.
    pub fn to_manifest(&self) -> Manifest {
        let mut manifest = self.inner.manifest.clone();
        let mut releases: Vec<&Release> = self.inner.releases.iter().collect();
        releases.sort_unstable_by_key(|r| r.position);
        manifest.releases = releases.into_iter().map(|r| r.spec.clone()).collect();
        manifest
    }

    /// The manifest's `name`.
    pub fn name(&self) -> Option<&str> {
        self.inner.manifest.name.as_deref()
    }

    /// The manifest's `edges` entries, as written (a [`Hop`]'s `edge` indexes this list).
    pub fn edge_specs(&self) -> &[EdgeSpec] {
        &self.inner.manifest.edges
    }

    /// The manifest's `downgrades` entries, as written.
    pub fn downgrade_specs(&self) -> &[DowngradeSpec] {
        &self.inner.manifest.downgrades
    }

    /// Every release, oldest first.
    pub fn releases(&self) -> &[Release] {
        &self.inner.releases
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

    /// Every upgrade edge (explicit and generated), sorted by source then target.
    pub fn upgrade_edges(&self) -> impl Iterator<Item = EdgeRef<'_>> + '_ {
        self.inner.edges.iter().map(|e| EdgeRef {
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
            let spec = &self.inner.manifest.edges[b.spec as usize];
            let edge = EdgeRef {
                from: &self.inner.releases[b.from as usize],
                to: &self.inner.releases[b.to as usize],
                spec: b.spec as usize,
                generated: spec.from_range.is_some(),
            };
            (edge, spec.blocked.as_deref().unwrap_or_default())
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

    /// The newest active, non-pre-release release that installs on `model`.
    ///
    /// ```
    /// let graph = fleetpath::UpgradeGraph::from_json(r#"{"format_version": 1, "releases": [
    ///   {"version": "1.0"}, {"version": "1.1", "models": ["a"]},
    ///   {"version": "1.2", "status": "blocked", "reason": "recalled"},
    ///   {"version": "2.0-rc.1"}]}"#)?;
    /// assert_eq!(graph.latest_for("a").unwrap().version().to_string(), "1.1");
    /// assert_eq!(graph.latest_for("b").unwrap().version().to_string(), "1.0");
    /// # Ok::<(), fleetpath::GraphError>(())
    /// ```
    pub fn latest_for(&self, model: &str) -> Option<&Release> {
        let query = self.model_query(Some(model));
        (0..self.len_u32())
            .rev()
            .find(|&i| self.inner.flags[i as usize] & (BLOCKED | ARCHIVED | PRERELEASE) == 0 && self.supports(i, query))
            .map(|i| &self.inner.releases[i as usize])
    }

    // ---- internals shared by resolve, lint and export ----

    fn len_u32(&self) -> u32 {
        // `Builder::build` refuses more than u32::MAX releases.
        u32::try_from(self.inner.releases.len()).unwrap_or(u32::MAX)
    }

    fn node(&self, version: &Version) -> Option<u32> {
        self.inner.index.get(version).copied()
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
            ModelQuery::Known(m) => self
                .inner
                .edge_models
                .get(&(self.inner.edges[(weight & EDGE_MASK) as usize].spec))
                .is_some_and(|ms| ms.binary_search(&m).is_ok()),
        }
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
    fn edge_between(&self, from: u32, to: u32) -> Option<&CompiledEdge> {
        let (targets, weights) = self.forward(from);
        targets.binary_search(&to).ok().map(|i| &self.inner.edges[(weights[i] & EDGE_MASK) as usize])
    }

    fn blocked_between(&self, from: u32, to: u32) -> Option<&BlockedHop> {
        self.inner.blocked.binary_search_by(|b| (b.from, b.to).cmp(&(from, to))).ok().map(|i| &self.inner.blocked[i])
    }
}

fn adjacent(csr: &Adjacency, node: u32) -> (&[u32], &[u32]) {
    if (node as usize) < csr.node_count() { (csr.neighbors_slice(node), csr.edges_slice(node)) } else { (&[], &[]) }
}

/// Builds `Inner` from a manifest, validating as it goes.
#[derive(Default)]
struct Builder {
    model_ids: HashMap<String, u32>,
    model_names: Vec<String>,
}

fn at(list: &str, i: usize) -> String {
    format!("{list}[{i}]")
}

fn check_non_empty(value: &str, at: impl FnOnce() -> String) -> Result<(), GraphError> {
    if value.trim().is_empty() { Err(GraphError::EmptyField { at: at() }) } else { Ok(()) }
}

impl Builder {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.model_ids.get(name) {
            return id;
        }
        let id = u32::try_from(self.model_names.len()).unwrap_or(u32::MAX);
        self.model_ids.insert(name.to_owned(), id);
        self.model_names.push(name.to_owned());
        id
    }

    /// Checks a `models` list and interns its names (unsorted ids; remapped later).
    fn models(
        &mut self,
        models: Option<&Vec<String>>,
        at: impl Fn() -> String,
    ) -> Result<Option<Vec<u32>>, GraphError> {
        let Some(models) = models else { return Ok(None) };
        if models.is_empty() {
            return Err(GraphError::EmptyModels { at: format!("{}.models", at()) });
        }
        let mut ids = Vec::with_capacity(models.len());
        for (j, m) in models.iter().enumerate() {
            check_non_empty(m, || format!("{}.models[{j}]", at()))?;
            ids.push(self.intern(m));
        }
        Ok(Some(ids))
    }

    #[allow(clippy::too_many_lines)]
    fn build(mut self, mut manifest: Manifest) -> Result<Inner, GraphError> {
        if manifest.releases.is_empty() {
            return Err(GraphError::NoReleases);
        }
        let count = manifest.releases.len();
        check_size(count, manifest.edges.len())?;

        // Releases, in document order.
        let mut parsed = Vec::with_capacity(count);
        for (i, spec) in manifest.releases.iter().enumerate() {
            let here = || format!("releases[{i}]");
            let version = Version::parse(&spec.version)
                .map_err(|source| GraphError::Version { at: format!("{}.version", here()), source })?;
            let models = match &spec.models {
                None => None,
                models => self.models(models.as_ref(), here)?,
            };
            for key in spec.labels.keys() {
                check_non_empty(key, || format!("{}.labels", here()))?;
            }
            match (spec.status, spec.reason.as_deref()) {
                (ReleaseStatus::Blocked, None) => return Err(GraphError::MissingReason { at: here() }),
                (ReleaseStatus::Active, Some(_)) => return Err(GraphError::UnexpectedReason { at: here() }),
                (_, Some(reason)) => check_non_empty(reason, || format!("{}.reason", here()))?,
                (_, None) => {}
            }
            if let Some(artifact) = &spec.artifact {
                check_non_empty(&artifact.key, || format!("{}.artifact.key", here()))?;
                if artifact.sha256.len() != 64 || !artifact.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(GraphError::InvalidSha256 {
                        at: format!("{}.artifact.sha256", here()),
                        value: artifact.sha256.clone(),
                    });
                }
                if artifact.size == 0 {
                    return Err(GraphError::InvalidArtifactSize { at: format!("{}.artifact.size", here()) });
                }
            }
            if let Some(schema) = &spec.schema {
                check_non_empty(schema, || format!("{}.schema", here()))?;
            }
            for (j, schema) in spec.reads.iter().enumerate() {
                check_non_empty(schema, || format!("{}.reads[{j}]", here()))?;
            }
            parsed.push((version, models, i));
        }

        // Sort by version; equal neighbours are duplicates (the later declaration is named).
        parsed.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.cmp(&b.2)));
        for pair in parsed.windows(2) {
            if pair[0].0 == pair[1].0 {
                return Err(GraphError::DuplicateRelease {
                    version: manifest.releases[pair[1].2].version.clone(),
                    at: at("releases", pair[1].2),
                    first: at("releases", pair[0].2),
                });
            }
        }

        // Edge and downgrade models are interned too, so queries can name them.
        let mut edge_model_ids: Vec<(u32, Vec<u32>)> = Vec::new();
        for (i, edge) in manifest.edges.iter().enumerate().filter(|(_, e)| e.models.is_some()) {
            if let Some(ids) = self.models(edge.models.as_ref(), || at("edges", i))? {
                edge_model_ids.push((u32::try_from(i).unwrap_or(u32::MAX), ids));
            }
        }
        let mut downgrade_model_ids = Vec::with_capacity(manifest.downgrades.len());
        for (i, d) in manifest.downgrades.iter().enumerate() {
            downgrade_model_ids.push(self.models(d.models.as_ref(), || at("downgrades", i))?);
        }
        // Remap model ids so that id order is name order (deterministic output everywhere).
        let mut order: Vec<u32> = (0..u32::try_from(self.model_names.len()).unwrap_or(u32::MAX)).collect();
        order.sort_by(|&a, &b| self.model_names[a as usize].cmp(&self.model_names[b as usize]));
        let mut remap = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            remap[old as usize] = u32::try_from(new).unwrap_or(u32::MAX);
        }
        let sorted_ids = |ids: &[u32]| -> Box<[u32]> {
            let mut out: Vec<u32> = ids.iter().map(|&m| remap[m as usize]).collect();
            out.sort_unstable();
            out.dedup();
            out.into_boxed_slice()
        };
        let model_names: Vec<String> = order.iter().map(|&old| self.model_names[old as usize].clone()).collect();
        let model_ids: HashMap<String, u32> =
            model_names.iter().enumerate().map(|(i, n)| (n.clone(), u32::try_from(i).unwrap_or(u32::MAX))).collect();

        // Move the release specs out of the document (no clones); `to_manifest` puts them back.
        let mut specs: Vec<Option<ReleaseSpec>> =
            std::mem::take(&mut manifest.releases).into_iter().map(Some).collect();
        let mut releases = Vec::with_capacity(count);
        let mut flags = Vec::with_capacity(count);
        let mut index = HashMap::with_capacity_and_hasher(count, FxBuildHasher);
        let mut model_offsets = Vec::with_capacity(count + 1);
        let mut model_list = Vec::new();
        let mut barriers = Vec::new();
        model_offsets.push(0u32);
        for (node, (version, models, position)) in parsed.into_iter().enumerate() {
            let node = u32::try_from(node).unwrap_or(u32::MAX);
            // Positions are unique (one per document entry), so each spec is taken once.
            let spec = specs[position].take().unwrap_or_else(|| unreachable!("release {position} taken twice"));
            let mut f = 0;
            match spec.status {
                ReleaseStatus::Blocked => f |= BLOCKED,
                ReleaseStatus::Archived => f |= ARCHIVED,
                ReleaseStatus::Active => {}
            }
            if version.is_prerelease() {
                f |= PRERELEASE;
            }
            match models {
                None => f |= GENERIC,
                Some(ids) => model_list.extend_from_slice(&sorted_ids(&ids)),
            }
            model_offsets.push(u32::try_from(model_list.len()).unwrap_or(u32::MAX));
            if spec.barrier {
                barriers.push(node);
            }
            flags.push(f);
            index.insert(version.clone(), node);
            releases.push(Release { version, spec, position });
        }
        let spelling: HashMap<&str, u32> = releases
            .iter()
            .enumerate()
            .map(|(node, r)| (r.spec.version.as_str(), u32::try_from(node).unwrap_or(u32::MAX)))
            .collect();

        // Resolves a version string of an edge to a node: exact spelling first (no parse).
        // Locations are formatted only when there is an error to report.
        let lookup = |text: &str, at: &dyn Fn() -> String| -> Result<u32, GraphError> {
            if let Some(&node) = spelling.get(text) {
                return Ok(node);
            }
            let version = Version::parse(text).map_err(|source| GraphError::Version { at: at(), source })?;
            index
                .get(&version)
                .copied()
                .ok_or_else(|| GraphError::UnknownRelease { version: text.to_owned(), at: at() })
        };

        // Edges, pass 1 (document order): endpoints, direction, barriers. Explicit upgrades and
        // blocked hops are collected as (from, to, spec) and checked for duplicates by sorting.
        let mut explicit: Vec<(u32, u32, u32)> = Vec::with_capacity(manifest.edges.len());
        let mut blocked: Vec<(u32, u32, u32)> = Vec::new();
        let mut ranges: Vec<(usize, VersionRange, u32)> = Vec::new();
        let duplicate = |first: u32, second: u32| {
            let edge = &manifest.edges[second as usize];
            GraphError::DuplicateEdge {
                at: at("edges", second as usize),
                first: at("edges", first as usize),
                from: edge.from.clone().unwrap_or_default(),
                to: edge.to.clone(),
            }
        };
        // The duplicate whose second declaration comes first in the document (lists sorted).
        let first_duplicate = |lists: [&[(u32, u32, u32)]; 2]| -> Option<(u32, u32)> {
            let mut best: Option<(u32, u32)> = None;
            for sorted in lists {
                for pair in sorted.windows(2) {
                    if (pair[0].0, pair[0].1) == (pair[1].0, pair[1].1) && best.is_none_or(|b| pair[1].2 < b.1) {
                        best = Some((pair[0].2, pair[1].2));
                    }
                }
            }
            best
        };
        for (i, edge) in manifest.edges.iter().enumerate() {
            let spec_id = u32::try_from(i).unwrap_or(u32::MAX);
            let scanned = scan_edge(edge, i, &lookup, &barriers, &releases);
            match scanned {
                Ok(ScannedEdge::Explicit { from, to }) if edge.blocked.is_some() => blocked.push((from, to, spec_id)),
                Ok(ScannedEdge::Explicit { from, to }) => explicit.push((from, to, spec_id)),
                Ok(ScannedEdge::Range(range, to)) => ranges.push((i, range, to)),
                Err(error) => {
                    // Report in document order: a duplicate declared before this entry wins.
                    explicit.sort_unstable();
                    blocked.sort_unstable();
                    return Err(match first_duplicate([&explicit, &blocked]) {
                        Some((first, second)) => duplicate(first, second),
                        None => error,
                    });
                }
            }
        }
        explicit.sort_unstable();
        blocked.sort_unstable();
        if let Some((first, second)) = first_duplicate([&explicit, &blocked]) {
            return Err(duplicate(first, second));
        }
        let find = |list: &[(u32, u32, u32)], from: u32, to: u32| -> Option<u32> {
            list.binary_search_by(|e| (e.0, e.1).cmp(&(from, to))).ok().map(|k| list[k].2)
        };
        let conflict = |blocked_at: u32, declared_at: u32, from: u32, to: u32| GraphError::ConflictingEdge {
            blocked_at: at("edges", blocked_at as usize),
            declared_at: at("edges", declared_at as usize),
            from: releases[from as usize].spec.version.clone(),
            to: releases[to as usize].spec.version.clone(),
        };
        // An explicit upgrade that an explicit blocked edge names: the clash whose later entry
        // comes first in the document.
        let clash = blocked
            .iter()
            .filter_map(|&(from, to, b)| {
                find(&explicit, from, to).map(|declared| (b.max(declared), b, declared, from, to))
            })
            .min();
        if let Some((_, b, declared, from, to)) = clash {
            return Err(conflict(b, declared, from, to));
        }

        // Pass 2a: blocked ranges expand into blocked hops.
        let matches_older = |range: &VersionRange, to: u32| -> Vec<u32> {
            (0..to).filter(|&u| range.matches(&releases[u as usize].version)).collect()
        };
        let mut range_stats = Vec::new();
        for (i, range, to) in &ranges {
            if manifest.edges[*i].blocked.is_none() {
                continue;
            }
            let spec_id = u32::try_from(*i).unwrap_or(u32::MAX);
            let sources = matches_older(range, *to);
            for &from in &sources {
                if let Some(declared) = find(&explicit, from, *to) {
                    return Err(conflict(spec_id, declared, from, *to));
                }
                blocked.push((from, *to, spec_id));
            }
            range_stats.push((*i, sources.len()));
        }
        // One reason per blocked hop: the first entry in the document that blocks it.
        blocked.sort_unstable();
        blocked.dedup_by_key(|b| (b.0, b.1));

        // Pass 2b: upgrade ranges generate edges, minus blocked, barrier-crossing and explicit ones.
        let mut generated: Vec<(u32, u32, u32)> = Vec::new();
        for (i, range, to) in &ranges {
            if manifest.edges[*i].blocked.is_some() {
                continue;
            }
            let spec_id = u32::try_from(*i).unwrap_or(u32::MAX);
            let sources = matches_older(range, *to);
            for &from in &sources {
                if find(&blocked, from, *to).is_none()
                    && find(&explicit, from, *to).is_none()
                    && crossed_barrier(&barriers, from, *to).is_none()
                {
                    generated.push((from, *to, spec_id));
                }
            }
            range_stats.push((*i, sources.len()));
        }
        range_stats.sort_unstable();
        // A hop two ranges generate belongs to the first in the document.
        generated.sort_unstable();
        generated.dedup_by_key(|g| (g.0, g.1));
        // Both lists are sorted and disjoint: merge them.
        let mut edges: Vec<CompiledEdge> = Vec::with_capacity(explicit.len() + generated.len());
        let (mut a, mut b) = (0, 0);
        while a < explicit.len() || b < generated.len() {
            let take_explicit = b == generated.len()
                || (a < explicit.len() && (explicit[a].0, explicit[a].1) < (generated[b].0, generated[b].1));
            let ((from, to, spec), generated) = if take_explicit {
                a += 1;
                (explicit[a - 1], false)
            } else {
                b += 1;
                (generated[b - 1], true)
            };
            edges.push(CompiledEdge { from, to, spec, generated });
        }

        let edge_models: HashMap<u32, Box<[u32]>> =
            edge_model_ids.iter().map(|(spec, ids)| (*spec, sorted_ids(ids))).collect();
        let weight = |k: usize, e: &CompiledEdge| {
            let id = u32::try_from(k).unwrap_or(EDGE_MASK);
            if edge_models.contains_key(&e.spec) { id | RESTRICTED } else { id }
        };
        let forward_list: Vec<(u32, u32, u32)> =
            edges.iter().enumerate().map(|(k, e)| (e.from, e.to, weight(k, e))).collect();
        let node_count = releases.len();
        let reverse_list = transpose(&forward_list, node_count);
        let forward = csr(&forward_list, node_count);
        let reverse = csr(&reverse_list, node_count);

        let blocked: Vec<BlockedHop> =
            blocked.into_iter().map(|(from, to, spec)| BlockedHop { from, to, spec }).collect();

        // Downgrades.
        let mut downgrades = Vec::with_capacity(manifest.downgrades.len());
        let mut seen: HashMap<(u32, u32), usize> = HashMap::default();
        for (i, d) in manifest.downgrades.iter().enumerate() {
            let here = at("downgrades", i);
            let from = lookup(&d.from, &|| format!("downgrades[{i}].from"))?;
            let to = lookup(&d.to, &|| format!("downgrades[{i}].to"))?;
            if let Some(migration) = &d.migration {
                check_non_empty(&migration.component, || format!("downgrades[{i}].migration.component"))?;
            }
            if to >= from {
                return Err(GraphError::DowngradeNotOlder { at: here, from: d.from.clone(), to: d.to.clone() });
            }
            if let Some(&first) = seen.get(&(from, to)) {
                return Err(GraphError::DuplicateEdge {
                    at: here,
                    first: at("downgrades", first),
                    from: d.from.clone(),
                    to: d.to.clone(),
                });
            }
            seen.insert((from, to), i);
            downgrades.push(CompiledDowngrade {
                from,
                to,
                spec: i,
                models: downgrade_model_ids[i].as_deref().map(sorted_ids),
            });
        }

        drop(spelling);
        Ok(Inner {
            manifest,
            releases,
            index,
            flags,
            model_names,
            model_ids,
            model_offsets,
            model_list,
            edges,
            edge_models,
            forward,
            reverse,
            blocked,
            downgrades,
            range_stats,
        })
    }
}

/// Reverses edges sorted by `(source, target)` into edges sorted by `(target, source)`, with a
/// counting pass: O(V + E), no comparison sort.
fn transpose(sorted: &[(u32, u32, u32)], nodes: usize) -> Vec<(u32, u32, u32)> {
    let mut start = vec![0usize; nodes + 1];
    for &(_, to, _) in sorted {
        start[to as usize + 1] += 1;
    }
    for i in 0..nodes {
        start[i + 1] += start[i];
    }
    let mut out = vec![(0, 0, 0); sorted.len()];
    // Sources are visited in ascending order, so each target's bucket ends up sorted.
    for &(from, to, weight) in sorted {
        let slot = &mut start[to as usize];
        out[*slot] = (to, from, weight);
        *slot += 1;
    }
    out
}

/// The first barrier strictly between `from` and `to`, if any (`barriers` is sorted).
fn crossed_barrier(barriers: &[u32], from: u32, to: u32) -> Option<u32> {
    let first_after = barriers.partition_point(|&b| b <= from);
    barriers.get(first_after).copied().filter(|&b| b < to)
}

/// An edge entry with its endpoints resolved.
enum ScannedEdge {
    Explicit { from: u32, to: u32 },
    Range(VersionRange, u32),
}

/// Resolves a version string to a node; the closure gives the error location lazily.
type Lookup<'a> = dyn Fn(&str, &dyn Fn() -> String) -> Result<u32, GraphError> + 'a;

/// Checks one edge entry in isolation: its source form, endpoints, direction and barriers.
fn scan_edge(
    edge: &EdgeSpec,
    i: usize,
    lookup: &Lookup<'_>,
    barriers: &[u32],
    releases: &[Release],
) -> Result<ScannedEdge, GraphError> {
    let to = lookup(&edge.to, &|| format!("edges[{i}].to"))?;
    if let Some(reason) = &edge.blocked {
        check_non_empty(reason, || format!("edges[{i}].blocked"))?;
    }
    match (&edge.from, &edge.from_range) {
        (Some(from_text), None) => {
            let from = lookup(from_text, &|| format!("edges[{i}].from"))?;
            if from >= to {
                return Err(GraphError::EdgeNotUpgrade {
                    at: at("edges", i),
                    from: from_text.clone(),
                    to: edge.to.clone(),
                });
            }
            if edge.blocked.is_none() {
                if let Some(b) = crossed_barrier(barriers, from, to) {
                    return Err(GraphError::CrossesBarrier {
                        at: at("edges", i),
                        from: from_text.clone(),
                        to: edge.to.clone(),
                        barrier: releases[b as usize].spec.version.clone(),
                    });
                }
            }
            Ok(ScannedEdge::Explicit { from, to })
        }
        (None, Some(range_text)) => VersionRange::parse(range_text)
            .map(|range| ScannedEdge::Range(range, to))
            .map_err(|source| GraphError::Version { at: format!("edges[{i}].from_range"), source }),
        _ => Err(GraphError::EdgeSource { at: at("edges", i) }),
    }
}

/// Node and edge-spec indices are `u32`, with the top bit of an edge weight kept for a flag.
fn check_size(releases: usize, edges: usize) -> Result<(), GraphError> {
    for (what, count) in [("releases", releases), ("edges", edges)] {
        if count >= EDGE_MASK as usize {
            return Err(GraphError::TooLarge { what, count });
        }
    }
    Ok(())
}

/// Builds a CSR with exactly `nodes` nodes from edges sorted by `(source, target)`.
fn csr(sorted: &[(u32, u32, u32)], nodes: usize) -> Adjacency {
    // The edges are sorted and unique by construction; an empty graph is the fallback.
    let mut graph = Adjacency::from_sorted_edges(sorted).unwrap_or_default();
    while graph.node_count() < nodes {
        graph.add_node(());
    }
    graph
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_limits() {
        assert_eq!(check_size(10, 10), Ok(()));
        let err = check_size(1 << 31, 0).unwrap_err();
        assert_eq!(err.code(), "manifest_too_large");
        assert_eq!(err.to_string(), "manifest has too many releases (2147483648)");
        let err = check_size(3, (1 << 31) + 5).unwrap_err();
        assert_eq!(err.to_string(), "manifest has too many edges (2147483653)");
    }
}
