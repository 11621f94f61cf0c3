//! Compiling a manifest: checks in document order, then the release table, the edge lists
//! and the CSR adjacency.
//!
//! The work is split in steps so that [`load`](super::load) can run them while it parses
//! (each release is checked while its entry is still in cache, each edge is resolved straight
//! from the document's text) and [`UpgradeGraph::new`](super::UpgradeGraph::new) can run them
//! on an owned [`Manifest`]. Both give the same graph and the same first error.

use std::borrow::Cow;

use rustc_hash::{FxBuildHasher, FxHashMap as HashMap};

use super::{
    ARCHIVED, Adjacency, BLOCKED, BlockedHop, CompiledDowngrade, CompiledEdge, EdgeSpec, GENERATED, GENERIC,
    GraphError, Inner, Manifest, PRERELEASE, RESTRICTED, Release, ReleaseSpec, ReleaseStatus, SPEC_MASK,
};
use crate::version::{Version, VersionKey, VersionRange};

/// An edge endpoint as the graph keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Text {
    /// Spelled exactly as this node's release (no copy of the text is kept).
    Node(u32),
    /// Spelled otherwise (such as `6.15.8` for a release written `6.15.008`).
    Written(Box<str>),
}

/// The rarely used parts of an edge entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct EdgeExtra {
    pub(super) models: Option<Vec<String>>,
    pub(super) blocked: Option<String>,
    pub(super) notes: Option<String>,
}

/// An edge entry as the graph keeps it: [`EdgeSpec`] without copies of release spellings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct StoredEdge {
    pub(super) from: Option<Text>,
    pub(super) from_range: Option<Box<str>>,
    pub(super) to: Text,
    pub(super) extra: Option<Box<EdgeExtra>>,
}

impl StoredEdge {
    pub(super) fn blocked(&self) -> Option<&str> {
        self.extra.as_ref().and_then(|x| x.blocked.as_deref())
    }

    /// The entry as written.
    pub(super) fn to_spec(&self, releases: &[Release]) -> EdgeSpec {
        let extra = self.extra.as_deref().cloned().unwrap_or_default();
        EdgeSpec {
            from: self.from.as_ref().map(|t| text(t, releases).to_owned()),
            from_range: self.from_range.as_deref().map(str::to_owned),
            to: text(&self.to, releases).to_owned(),
            models: extra.models,
            blocked: extra.blocked,
            notes: extra.notes,
        }
    }
}

/// The stored entry of edge spec `spec`, if it is stored (`stored` is sorted by spec).
pub(super) fn stored_edge(stored: &[(u32, StoredEdge)], spec: u32) -> Option<&StoredEdge> {
    stored.binary_search_by_key(&spec, |e| e.0).ok().map(|k| &stored[k].1)
}

/// The manifest's edge entries as written: stored ones as kept, the others (explicit upgrades
/// between release spellings) from the compiled edges.
pub(super) fn edge_specs(
    stored: &[(u32, StoredEdge)],
    compiled: impl Iterator<Item = CompiledEdge>,
    releases: &[Release],
    count: usize,
) -> Vec<EdgeSpec> {
    let mut specs: Vec<Option<EdgeSpec>> = vec![None; count];
    for e in compiled.filter(|e| !e.generated) {
        let spelling = |node: u32| releases[node as usize].spec.version.clone();
        specs[e.spec as usize].get_or_insert_with(|| EdgeSpec {
            from: Some(spelling(e.from)),
            from_range: None,
            to: spelling(e.to),
            models: None,
            blocked: None,
            notes: None,
        });
    }
    for (spec, edge) in stored {
        specs[*spec as usize] = Some(edge.to_spec(releases));
    }
    // Every entry is stored or an explicit upgrade, which the compiled edges keep.
    specs
        .into_iter()
        .map(|s| s.unwrap_or_else(|| unreachable!("an edge entry was neither stored nor compiled")))
        .collect()
}

/// The text of an endpoint.
pub(super) fn text<'r>(t: &'r Text, releases: &'r [Release]) -> &'r str {
    match t {
        Text::Node(node) => &releases[*node as usize].spec.version,
        Text::Written(s) => s,
    }
}

/// An edge entry on its way in: borrowed from the document's text where it can be.
#[derive(Debug)]
pub(super) struct EdgeIn<'a> {
    pub(super) from: Option<Cow<'a, str>>,
    pub(super) from_range: Option<Cow<'a, str>>,
    pub(super) to: Cow<'a, str>,
    /// `None` when the entry has no `models`, `blocked` or `notes` (small to move around).
    pub(super) extra: Option<Box<EdgeExtra>>,
}

impl EdgeExtra {
    /// The extra fields, boxed, when any is given.
    pub(super) fn boxed(
        models: Option<Vec<String>>,
        blocked: Option<String>,
        notes: Option<String>,
    ) -> Option<Box<Self>> {
        (models.is_some() || blocked.is_some() || notes.is_some()).then(|| Box::new(Self { models, blocked, notes }))
    }
}

impl From<EdgeSpec> for EdgeIn<'static> {
    fn from(e: EdgeSpec) -> Self {
        Self {
            from: e.from.map(Cow::Owned),
            from_range: e.from_range.map(Cow::Owned),
            to: Cow::Owned(e.to),
            extra: EdgeExtra::boxed(e.models, e.blocked, e.notes),
        }
    }
}

fn at(list: &str, i: usize) -> String {
    format!("{list}[{i}]")
}

fn check_non_empty(value: &str, at: impl FnOnce() -> String) -> Result<(), GraphError> {
    if value.trim().is_empty() { Err(GraphError::EmptyField { at: at() }) } else { Ok(()) }
}

/// 64 hexadecimal digits, either case. Branch-free over the bytes: digests are random, so a
/// per-byte digit-or-letter branch mispredicts about every other byte.
fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().fold(true, |ok, b| ok & (b.is_ascii_digit() | matches!(b | 0x20, b'a'..=b'f')))
}

fn u32_of(n: usize) -> u32 {
    // `check_size` keeps every count below `SPEC_MASK`.
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Model names seen so far, interned in order of first appearance.
#[derive(Default)]
pub(super) struct Models {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Models {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = u32_of(self.names.len());
        self.ids.insert(name.to_owned(), id);
        self.names.push(name.to_owned());
        id
    }

    /// Checks a `models` list and interns its names into `out` (unsorted ids; remapped later).
    fn check(
        &mut self,
        models: Option<&Vec<String>>,
        at: impl Fn() -> String,
        out: &mut Vec<u32>,
    ) -> Result<bool, GraphError> {
        let Some(models) = models else { return Ok(false) };
        if models.is_empty() {
            return Err(GraphError::EmptyModels { at: format!("{}.models", at()) });
        }
        for (j, m) in models.iter().enumerate() {
            check_non_empty(m, || format!("{}.models[{j}]", at()))?;
            out.push(self.intern(m));
        }
        Ok(true)
    }
}

/// Release entries that passed their own checks, in document order.
#[derive(Default)]
pub(super) struct Checked {
    releases: Vec<Release>,
    /// Per release, its model ids in `Builder::release_models`, or `None` for every model.
    models: Vec<Option<(u32, u32)>>,
}

/// The state of a compilation.
#[derive(Default)]
pub(super) struct Builder {
    models: Models,
    /// Model ids of checked releases, back to back.
    release_models: Vec<u32>,
}

impl Builder {
    /// Checks one release entry on its own (`i`: its index in `releases`) and adds it.
    pub(super) fn release(&mut self, i: usize, spec: ReleaseSpec, checked: &mut Checked) -> Result<(), GraphError> {
        let here = || at("releases", i);
        let version = Version::parse(&spec.version)
            .map_err(|source| GraphError::Version { at: format!("{}.version", here()), source })?;
        let start = self.release_models.len();
        let models = match self.models.check(spec.models.as_ref(), here, &mut self.release_models) {
            Ok(true) => Some((u32_of(start), u32_of(self.release_models.len()))),
            Ok(false) => None,
            Err(e) => {
                self.release_models.truncate(start);
                return Err(e);
            }
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
            if !is_sha256_hex(&artifact.sha256) {
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
        checked.releases.push(Release { version, spec, position: i });
        checked.models.push(models);
        Ok(())
    }
}

/// The releases sorted by version (a node is its rank), and what edges need of them.
pub(super) struct Table {
    releases: Vec<Release>,
    models: Vec<Option<(u32, u32)>>,
    index: HashMap<VersionKey, u32>,
    /// Barrier nodes, ascending.
    barriers: Vec<u32>,
}

impl Table {
    /// Sorts the checked releases; equal neighbours are duplicates (the later declaration
    /// is named).
    pub(super) fn new(checked: Checked) -> Result<Self, GraphError> {
        let Checked { mut releases, mut models } = checked;
        // Releases listed oldest first (the usual case) stay where they are.
        if !releases.windows(2).all(|p| p[0].version < p[1].version) {
            // Stable: equal versions stay in document order.
            let mut order: Vec<usize> = (0..releases.len()).collect();
            order.sort_by(|&a, &b| releases[a].version.cmp(&releases[b].version));
            if let Some(pair) = order.windows(2).find(|p| releases[p[0]].version == releases[p[1]].version) {
                let (first, second) = (&releases[pair[0]], &releases[pair[1]]);
                return Err(GraphError::DuplicateRelease {
                    version: second.spec.version.clone(),
                    at: at("releases", second.position),
                    first: at("releases", first.position),
                });
            }
            let mut slots: Vec<Option<Release>> = releases.into_iter().map(Some).collect();
            // `order` is a permutation: each slot is taken once.
            releases = order.iter().filter_map(|&k| slots[k].take()).collect();
            models = order.iter().map(|&k| models[k]).collect();
        }
        let mut index = HashMap::with_capacity_and_hasher(releases.len(), FxBuildHasher);
        let mut barriers = Vec::new();
        for (node, release) in releases.iter().enumerate() {
            let node = u32_of(node);
            if release.spec.barrier {
                barriers.push(node);
            }
            index.insert(release.version.key().clone(), node);
        }
        Ok(Self { releases, models, index, barriers })
    }

    /// Exact spellings of the versions, for resolving edge endpoints without parsing them.
    pub(super) fn spellings(&self) -> Spellings<'_> {
        let mut short = HashMap::with_capacity_and_hasher(self.releases.len(), FxBuildHasher);
        let mut long = HashMap::default();
        for (node, r) in self.releases.iter().enumerate() {
            let text = r.spec.version.as_str();
            match short_key(text) {
                Some(key) => short.insert(key, u32_of(node)),
                None => long.insert(text, u32_of(node)),
            };
        }
        Spellings { table: self, short, long }
    }
}

/// A spelling of up to 15 bytes (nearly every version) packed with its length into one
/// integer, so that a lookup hashes and compares one integer instead of calling `memcmp`.
/// The bytes are read with two overlapping word loads (no variable-length copy).
fn short_key(text: &str) -> Option<u128> {
    let bytes = text.as_bytes();
    let n = u8::try_from(bytes.len()).ok().filter(|&n| n < 16)?;
    let at = usize::from;
    let word =
        |from: u8| bytes.get(at(from)..at(from) + 8).and_then(|w| w.try_into().ok()).map_or(0, u64::from_le_bytes);
    let half =
        |from: u8| bytes.get(at(from)..at(from) + 4).and_then(|w| w.try_into().ok()).map_or(0, u32::from_le_bytes);
    // The second load ends at the last byte; the shift drops the bytes both loads read.
    let packed = if n >= 8 {
        u128::from(word(0)) | u128::from(word(n - 8).checked_shr(8 * u32::from(16 - n)).unwrap_or(0)) << 64
    } else if n >= 4 {
        u128::from(half(0)) | u128::from(half(n - 4).checked_shr(8 * u32::from(8 - n)).unwrap_or(0)) << 32
    } else {
        bytes.iter().enumerate().fold(0, |key, (k, &b)| key | u128::from(b) << (8 * k))
    };
    Some(packed | u128::from(n) << 120)
}

/// A [`Table`] with its version spellings indexed.
pub(super) struct Spellings<'t> {
    table: &'t Table,
    /// Spellings of up to 15 bytes, by [`short_key`].
    short: HashMap<u128, u32>,
    long: HashMap<&'t str, u32>,
}

impl Spellings<'_> {
    /// Resolves a version string to a node and how to keep it: exact spelling first (no
    /// parse). Locations are formatted only when there is an error to report.
    fn lookup(&self, text: Cow<'_, str>, at: &dyn Fn() -> String) -> Result<(u32, Text), GraphError> {
        self.lookup_after(text, &mut None, at)
    }

    /// [`Spellings::lookup`], trying `last` (the short key and node of the previous lookup of
    /// this kind) first: edge entries are usually grouped by source.
    fn lookup_after(
        &self,
        text: Cow<'_, str>,
        last: &mut Option<(u128, u32)>,
        at: &dyn Fn() -> String,
    ) -> Result<(u32, Text), GraphError> {
        let exact = match short_key(&text) {
            Some(key) => match *last {
                Some((k, node)) if k == key => Some(node),
                _ => {
                    let found = self.short.get(&key).copied();
                    *last = found.map(|node| (key, node));
                    found
                }
            },
            None => self.long.get(&*text).copied(),
        };
        if let Some(node) = exact {
            return Ok((node, Text::Node(node)));
        }
        let version = Version::parse(&text).map_err(|source| GraphError::Version { at: at(), source })?;
        match self.table.index.get(version.key()) {
            Some(&node) => Ok((node, Text::Written(text.into_owned().into_boxed_str()))),
            None => Err(GraphError::UnknownRelease { version: text.into_owned(), at: at() }),
        }
    }
}

/// Edge entries, scanned one by one in document order.
#[derive(Default)]
pub(super) struct Edges {
    /// Entries that are more than an explicit upgrade between two release spellings, by spec
    /// index (ascending). The others are rebuilt from the compiled edges.
    stored: Vec<(u32, StoredEdge)>,
    /// Explicit upgrades and blocked hops as `(from, to, spec)`.
    explicit: Vec<(u32, u32, u32)>,
    blocked: Vec<(u32, u32, u32)>,
    ranges: Vec<(u32, VersionRange, u32)>,
    /// Per edge spec with a `models` list, its model ids (unsorted, not remapped).
    models: Vec<(u32, Vec<u32>)>,
    /// The first entry that failed its checks.
    error: Option<GraphError>,
    /// The short key and node of the last explicit source looked up.
    last_from: Option<(u128, u32)>,
}

impl Edges {
    /// Whether an entry failed (later entries are then only counted).
    pub(super) fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// Checks one entry on its own (`i`: its index in `edges`): models, source form,
    /// endpoints, direction and barriers. After a failure, entries are no longer checked.
    pub(super) fn push(&mut self, i: usize, edge: EdgeIn<'_>, spellings: &Spellings<'_>, builder: &mut Builder) {
        if self.error.is_none() {
            if let Err(error) = self.scan(i, edge, spellings, builder) {
                self.error = Some(error);
            }
        }
    }

    fn scan(
        &mut self,
        i: usize,
        edge: EdgeIn<'_>,
        spellings: &Spellings<'_>,
        builder: &mut Builder,
    ) -> Result<(), GraphError> {
        let spec_id = u32_of(i);
        let (models, blocked) = match &edge.extra {
            Some(x) => (x.models.as_ref(), x.blocked.as_deref()),
            None => (None, None),
        };
        if models.is_some() {
            let mut ids = Vec::new();
            builder.models.check(models, || at("edges", i), &mut ids)?;
            self.models.push((spec_id, ids));
        }
        let (to, to_text) = spellings.lookup(edge.to, &|| format!("edges[{i}].to"))?;
        if let Some(reason) = blocked {
            check_non_empty(reason, || format!("edges[{i}].blocked"))?;
        }
        let releases = &spellings.table.releases;
        let (from, from_range) = match (edge.from, edge.from_range) {
            (Some(from_text), None) => {
                let (from, from_text) =
                    spellings.lookup_after(from_text, &mut self.last_from, &|| format!("edges[{i}].from"))?;
                if from >= to {
                    return Err(GraphError::EdgeNotUpgrade {
                        at: at("edges", i),
                        from: text(&from_text, releases).to_owned(),
                        to: text(&to_text, releases).to_owned(),
                    });
                }
                if blocked.is_none() {
                    if let Some(b) = crossed_barrier(&spellings.table.barriers, from, to) {
                        return Err(GraphError::CrossesBarrier {
                            at: at("edges", i),
                            from: text(&from_text, releases).to_owned(),
                            to: text(&to_text, releases).to_owned(),
                            barrier: releases[b as usize].spec.version.clone(),
                        });
                    }
                    self.explicit.push((from, to, spec_id));
                } else {
                    self.blocked.push((from, to, spec_id));
                }
                (Some(from_text), None)
            }
            (None, Some(range_text)) => {
                let range = VersionRange::parse(&range_text)
                    .map_err(|source| GraphError::Version { at: format!("edges[{i}].from_range"), source })?;
                self.ranges.push((spec_id, range, to));
                (None, Some(range_text.into_owned().into_boxed_str()))
            }
            _ => return Err(GraphError::EdgeSource { at: at("edges", i) }),
        };
        let extra = edge.extra;
        let plain = extra.is_none() && matches!((&from, &to_text), (Some(Text::Node(_)), Text::Node(_)));
        if !plain {
            self.stored.push((spec_id, StoredEdge { from, from_range, to: to_text, extra }));
        }
        Ok(())
    }
}

/// Releases and edges, checked one by one; the rest of the checks and the compiled graph.
///
/// `head` is the document without its releases and edges.
#[allow(clippy::too_many_lines)] // one pass over the edge lists, in the order of its checks
pub(super) fn finish(
    builder: Builder,
    table: Table,
    mut edges: Edges,
    edge_count: usize,
    head: Manifest,
) -> Result<Inner, GraphError> {
    let Builder { mut models, release_models } = builder;
    let Table { releases, models: release_model_ranges, index, barriers } = table;
    let stored = std::mem::take(&mut edges.stored);
    let Edges { mut explicit, mut blocked, ranges, models: edge_model_ids, error, .. } = edges;
    let blocked_reason = |spec: u32| stored_edge(&stored, spec).and_then(StoredEdge::blocked);

    // Both declarations of a duplicate are explicit: `from` and `to` name releases.
    let duplicate = |first: u32, second: u32, from: u32, to: u32| {
        let (from_text, to_text) = match stored_edge(&stored, second) {
            Some(edge) => (edge.from.as_ref().map_or("", |t| text(t, &releases)), text(&edge.to, &releases)),
            None => (releases[from as usize].spec.version.as_str(), releases[to as usize].spec.version.as_str()),
        };
        GraphError::DuplicateEdge {
            at: at("edges", second as usize),
            first: at("edges", first as usize),
            from: from_text.to_owned(),
            to: to_text.to_owned(),
        }
    };
    // The duplicate whose second declaration comes first in the document (lists sorted).
    let first_duplicate = |lists: [&[(u32, u32, u32)]; 2]| -> Option<(u32, u32, u32, u32)> {
        let mut best: Option<(u32, u32, u32, u32)> = None;
        for sorted in lists {
            for pair in sorted.windows(2) {
                if (pair[0].0, pair[0].1) == (pair[1].0, pair[1].1) && best.is_none_or(|b| pair[1].2 < b.1) {
                    best = Some((pair[0].2, pair[1].2, pair[0].0, pair[0].1));
                }
            }
        }
        best
    };
    sort_hops(&mut explicit);
    sort_hops(&mut blocked);
    // Report in document order: a duplicate declared before the failed entry wins (only
    // entries before it were kept).
    if let Some((first, second, from, to)) = first_duplicate([&explicit, &blocked]) {
        return Err(duplicate(first, second, from, to));
    }
    if let Some(error) = error {
        return Err(error);
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
        .filter_map(|&(from, to, b)| find(&explicit, from, to).map(|declared| (b.max(declared), b, declared, from, to)))
        .min();
    if let Some((_, b, declared, from, to)) = clash {
        return Err(conflict(b, declared, from, to));
    }

    // Blocked ranges expand into blocked hops.
    let matches_older = |range: &VersionRange, to: u32| -> Vec<u32> {
        (0..to).filter(|&u| range.matches(&releases[u as usize].version)).collect()
    };
    let mut range_stats = Vec::new();
    for (spec, range, to) in &ranges {
        if blocked_reason(*spec).is_none() {
            continue;
        }
        let sources = matches_older(range, *to);
        for &from in &sources {
            if let Some(declared) = find(&explicit, from, *to) {
                return Err(conflict(*spec, declared, from, *to));
            }
            blocked.push((from, *to, *spec));
        }
        range_stats.push((*spec as usize, sources.len()));
    }
    // One reason per blocked hop: the first entry in the document that blocks it.
    blocked.sort_unstable();
    blocked.dedup_by_key(|b| (b.0, b.1));

    // Upgrade ranges generate edges, minus blocked, barrier-crossing and explicit ones.
    let mut generated: Vec<(u32, u32, u32)> = Vec::new();
    for (spec, range, to) in &ranges {
        if blocked_reason(*spec).is_some() {
            continue;
        }
        let sources = matches_older(range, *to);
        for &from in &sources {
            if find(&blocked, from, *to).is_none()
                && find(&explicit, from, *to).is_none()
                && crossed_barrier(&barriers, from, *to).is_none()
            {
                generated.push((from, *to, *spec));
            }
        }
        range_stats.push((*spec as usize, sources.len()));
    }
    range_stats.sort_unstable();
    // A hop two ranges generate belongs to the first in the document.
    generated.sort_unstable();
    generated.dedup_by_key(|g| (g.0, g.1));
    // Both lists are sorted and disjoint: merge them into the forward adjacency, each edge
    // weighted by its spec index and flags. Without generated edges, the explicit list is it.
    let mut forward_list = if generated.is_empty() {
        explicit
    } else {
        let mut merged = Vec::with_capacity(explicit.len() + generated.len());
        let (mut a, mut b) = (0, 0);
        while a < explicit.len() || b < generated.len() {
            let take_explicit = b == generated.len()
                || (a < explicit.len() && (explicit[a].0, explicit[a].1) < (generated[b].0, generated[b].1));
            if take_explicit {
                merged.push(explicit[a]);
                a += 1;
            } else {
                let (from, to, spec) = generated[b];
                merged.push((from, to, spec | GENERATED));
                b += 1;
            }
        }
        merged
    };

    // Downgrades (their models are interned before the ids are remapped).
    let lookup = |text: &str, at: &dyn Fn() -> String| -> Result<u32, GraphError> {
        let version = Version::parse(text).map_err(|source| GraphError::Version { at: at(), source })?;
        index
            .get(version.key())
            .copied()
            .ok_or_else(|| GraphError::UnknownRelease { version: text.to_owned(), at: at() })
    };
    let mut downgrades = Vec::with_capacity(head.downgrades.len());
    let mut downgrade_model_ids = Vec::with_capacity(head.downgrades.len());
    let mut seen: HashMap<(u32, u32), usize> = HashMap::default();
    for (i, d) in head.downgrades.iter().enumerate() {
        let here = at("downgrades", i);
        let mut ids = Vec::new();
        let restricted = models.check(d.models.as_ref(), || at("downgrades", i), &mut ids)?;
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
        downgrade_model_ids.push(restricted.then_some(ids));
        downgrades.push((from, to, i));
    }

    // Remap model ids so that id order is name order (deterministic output everywhere).
    let mut order: Vec<u32> = (0..u32_of(models.names.len())).collect();
    order.sort_by(|&a, &b| models.names[a as usize].cmp(&models.names[b as usize]));
    let mut remap = vec![0u32; order.len()];
    for (new, &old) in order.iter().enumerate() {
        remap[old as usize] = u32_of(new);
    }
    let sorted_ids = |ids: &[u32]| -> Box<[u32]> {
        let mut out: Vec<u32> = ids.iter().map(|&m| remap[m as usize]).collect();
        out.sort_unstable();
        out.dedup();
        out.into_boxed_slice()
    };
    let model_names: Vec<String> = order.iter().map(|&old| std::mem::take(&mut models.names[old as usize])).collect();
    let model_ids: HashMap<String, u32> = model_names.iter().enumerate().map(|(i, n)| (n.clone(), u32_of(i))).collect();

    let mut flags = Vec::with_capacity(releases.len());
    let mut model_offsets = Vec::with_capacity(releases.len() + 1);
    let mut model_list = Vec::new();
    model_offsets.push(0u32);
    for (release, range) in releases.iter().zip(&release_model_ranges) {
        let mut f = 0;
        match release.spec.status {
            ReleaseStatus::Blocked => f |= BLOCKED,
            ReleaseStatus::Archived => f |= ARCHIVED,
            ReleaseStatus::Active => {}
        }
        if release.version.is_prerelease() {
            f |= PRERELEASE;
        }
        match range {
            None => f |= GENERIC,
            Some((lo, hi)) => {
                // Remapped, sorted and deduplicated in place (no list per release).
                let start = model_list.len();
                model_list.extend(release_models[*lo as usize..*hi as usize].iter().map(|&m| remap[m as usize]));
                let ids = &mut model_list[start..];
                ids.sort_unstable();
                let mut kept = 0;
                for k in 0..ids.len() {
                    if kept == 0 || ids[k] != ids[kept - 1] {
                        ids[kept] = ids[k];
                        kept += 1;
                    }
                }
                model_list.truncate(start + kept);
            }
        }
        model_offsets.push(u32_of(model_list.len()));
        flags.push(f);
    }

    let edge_models: HashMap<u32, Box<[u32]>> =
        edge_model_ids.iter().map(|(spec, ids)| (*spec, sorted_ids(ids))).collect();
    if !edge_models.is_empty() {
        for (_, _, weight) in &mut forward_list {
            if edge_models.contains_key(&(*weight & SPEC_MASK)) {
                *weight |= RESTRICTED;
            }
        }
    }
    let node_count = releases.len();
    let reverse_list = transpose(&forward_list, node_count);
    let forward = csr(&forward_list, node_count);
    let reverse = csr(&reverse_list, node_count);

    let blocked: Vec<BlockedHop> = blocked.into_iter().map(|(from, to, spec)| BlockedHop { from, to, spec }).collect();
    let downgrades = downgrades
        .into_iter()
        .zip(downgrade_model_ids)
        .map(|((from, to, spec), ids)| CompiledDowngrade { from, to, spec, models: ids.as_deref().map(sorted_ids) })
        .collect();

    Ok(Inner {
        manifest: head,
        releases,
        index,
        flags,
        model_names,
        model_ids,
        model_offsets,
        model_list,
        edge_models,
        forward,
        reverse,
        blocked,
        downgrades,
        range_stats,
        stored_edges: stored,
        edge_count,
        edge_specs: std::sync::OnceLock::new(),
    })
}

/// Sorts `(from, to, spec)` hops. Entries grouped by source in ascending order (as manifests
/// are usually written) only need each group sorted.
fn sort_hops(hops: &mut [(u32, u32, u32)]) {
    if hops.is_sorted_by_key(|h| h.0) {
        for group in hops.chunk_by_mut(|a, b| a.0 == b.0) {
            group.sort_unstable();
        }
    } else {
        hops.sort_unstable();
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
pub(super) fn crossed_barrier(barriers: &[u32], from: u32, to: u32) -> Option<u32> {
    let first_after = barriers.partition_point(|&b| b <= from);
    barriers.get(first_after).copied().filter(|&b| b < to)
}

/// Node and edge-spec indices are `u32`, with the top two bits of an edge weight kept for flags.
pub(super) fn check_size(releases: usize, edges: usize) -> Result<(), GraphError> {
    for (what, count) in [("releases", releases), ("edges", edges)] {
        if count >= SPEC_MASK as usize {
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

/// Compiles an owned manifest (what [`UpgradeGraph::new`](super::UpgradeGraph::new) does).
pub(super) fn build(mut manifest: Manifest) -> Result<Inner, GraphError> {
    if manifest.releases.is_empty() {
        return Err(GraphError::NoReleases);
    }
    check_size(manifest.releases.len(), manifest.edges.len())?;
    let mut builder = Builder::default();
    let mut checked = Checked::default();
    for (i, spec) in std::mem::take(&mut manifest.releases).into_iter().enumerate() {
        builder.release(i, spec, &mut checked)?;
    }
    let table = Table::new(checked)?;
    let mut edges = Edges::default();
    let spellings = table.spellings();
    let edge_count = manifest.edges.len();
    for (i, edge) in std::mem::take(&mut manifest.edges).into_iter().enumerate() {
        edges.push(i, edge.into(), &spellings, &mut builder);
        if edges.failed() {
            break;
        }
    }
    drop(spellings);
    finish(builder, table, edges, edge_count, manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-by-byte packing `short_key` must equal.
    fn packed(text: &str) -> Option<u128> {
        let n = u8::try_from(text.len()).ok().filter(|&n| n < 16)?;
        let bytes = text.bytes().enumerate().fold(0u128, |key, (k, b)| key | u128::from(b) << (8 * k));
        Some(bytes | u128::from(n) << 120)
    }

    #[test]
    fn short_keys_pack_every_byte_at_every_length() {
        let text = "v6.15.008-rc.1+b42";
        for end in 0..=text.len() {
            let s = &text[..end];
            assert_eq!(short_key(s), packed(s), "{s:?}");
        }
        assert_eq!(short_key(&text[..15]).map(|k| k >> 120), Some(15));
        assert_eq!(short_key(&text[..16]), None);
        // Same bytes, different lengths, different keys (trailing NULs included).
        assert_ne!(short_key("1.0"), short_key("1.0\0"));
        assert_ne!(short_key("6.15.00"), short_key("6.15.008"));
    }

    #[test]
    fn sha256_digests_are_64_hex_digits_of_either_case() {
        let digest = "0123456789abcdefABCDEF0123456789abcdef0123456789abcdef0123456789";
        assert!(is_sha256_hex(digest));
        assert!(!is_sha256_hex(&digest[1..]));
        for bad in ['g', 'G', '@', '`', '/', ':', ' ', 'é'] {
            let mut s = digest[..63].to_owned();
            s.push(bad);
            assert!(!is_sha256_hex(&s), "{bad:?}");
        }
    }
}
