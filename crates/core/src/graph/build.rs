//! Compiling a [`Manifest`] into the graph: each step checks one part of the document, in
//! document order (format, releases, edges, downgrades), so the first error reported is the
//! first problem a reader of the document meets.

use std::ops::Range;

use crate::u32_of;
use compact_str::CompactString;
use rustc_hash::{FxBuildHasher, FxHashMap as HashMap};

use super::manifest::{EdgeFields, ManifestWire, ReleaseEntries, WireEdge};
use super::{
    ARCHIVED, Adjacency, BLOCKED, BlockedHop, CompiledDowngrade, DEADEND, EdgeEntries, EdgeEntry, EdgeRisk,
    FORMAT_VERSION, GENERATED, GENERIC, GraphError, Inner, MAX_ERRORS, MAX_HOPS, MAX_RELEASES, Manifest, NO_ARTIFACT,
    OLDEST_FORMAT_VERSION, PRERELEASE, RESTRICTED, RISKY, Release, ReleaseSpec, ReleaseStatus, SPEC_MASK,
};
use crate::version::{Version, VersionRange};

/// A hop as the build handles it: source node, target node, index of the declaring entry.
type Link = (u32, u32, u32);

/// A checked downgrade: source node, target node, entry index, model ids.
type Downgrade = (u32, u32, usize, Option<Vec<u32>>);

/// The problems found so far, in document order, at most [`MAX_ERRORS`]: every independent
/// problem is reported in one pass ([`GraphError::errors`]).
#[derive(Default)]
struct Problems {
    list: Vec<GraphError>,
}

impl Problems {
    fn push(&mut self, error: GraphError) {
        if self.list.len() < MAX_ERRORS {
            self.list.push(error);
        }
    }

    /// The value, or the problem noted (`None`).
    fn note<T>(&mut self, result: Result<T, GraphError>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    /// Every problem as one error; `Ok` when there is none.
    fn finish(self) -> Result<(), GraphError> {
        GraphError::from_list(self.list).map_or(Ok(()), Err)
    }

    /// A problem that stops the load, after those found before it.
    fn stop(mut self, error: GraphError) -> GraphError {
        self.list.push(error);
        GraphError::from_list(self.list).unwrap_or(GraphError::NoReleases)
    }
}

/// Compiles a manifest (what [`UpgradeGraph::new`](super::UpgradeGraph::new) does), noting
/// every independent problem: the format, then each release, each edge (and, when every edge
/// entry is sound, what they expand to), then each downgrade. An entry with a problem is left
/// out of what later steps check, and a problem that follows only from an earlier one (an
/// edge naming a release whose own entry was refused) is not reported again.
pub(super) fn build(mut manifest: Manifest) -> Result<Inner, GraphError> {
    let releases = std::mem::take(&mut manifest.releases).into_iter().map(Box::new).collect();
    let edges = std::mem::take(&mut manifest.edges);
    build_from(manifest, releases, edges, |specs, _| EdgeEntries::Written(specs))
}

/// [`build`] of a manifest read from text, its edges borrowed from the text.
pub(super) fn build_wire(manifest: ManifestWire<'_>) -> Result<Inner, GraphError> {
    let (manifest, releases, edges) = manifest.split();
    build_from(manifest, releases, edges, keep_wire)
}

/// [`build`] of a manifest (its `releases` and `edges` left empty), its release entries and its
/// edge entries, kept by `keep` (given the nodes of each plain entry, see `Edges::ends`).
fn build_from<E: EdgeFields>(
    manifest: Manifest,
    releases: ReleaseEntries,
    specs: Vec<E>,
    keep: impl FnOnce(Vec<E>, &[(u32, u32)]) -> EdgeEntries,
) -> Result<Inner, GraphError> {
    check_supported(&manifest)?;
    let mut problems = Problems::default();
    check_format(&manifest, &releases, &mut problems);
    if releases.is_empty() {
        return Err(problems.stop(GraphError::NoReleases));
    }
    if let Err(e) = check_size(releases.len(), specs.len()) {
        return Err(problems.stop(e));
    }
    let mut models = Models::default();
    let table = Table::new(releases, &mut models, &mut problems);
    let text = table.spelling_text();
    let spellings = table.spellings(&text);
    let before_edges = problems.list.len();
    let mut edges = Edges::scan(&specs, manifest.include_prerelease, &table, &spellings, &mut models, &mut problems);
    let ends = std::mem::take(&mut edges.ends);
    let expanded = if problems.list.len() == before_edges { problems.note(edges.expand(&table, &specs)) } else { None };
    let downgrades = downgrades(&manifest, &table, &spellings, &mut models, &mut problems);
    for name in manifest.channels.keys() {
        if let Err(e) = check_non_empty(name, || "channels (a channel's name)".to_owned()) {
            problems.push(e);
        }
    }
    drop(spellings);
    problems.finish()?;
    let expanded = expanded.ok_or(GraphError::NoReleases)?; // set whenever there is no problem
    let flags = entry_flags(&specs);
    let entries = keep(specs, &ends);
    Ok(assemble(manifest, entries, &flags, table, &models, expanded, downgrades))
}

/// Per edge entry: whether it is a range edge, whether it has risks, whether it is blocked.
type EntryFlags = Vec<(bool, bool, bool)>;

fn entry_flags<E: EdgeFields>(specs: &[E]) -> EntryFlags {
    specs.iter().map(|e| (e.range().is_some(), !e.risks().is_empty(), e.blocked().is_some())).collect()
}

/// The entries as the graph keeps them, from text: a plain upgrade that spells both releases as
/// they spell themselves as the two nodes (`ends`, noted by the scan), any other as written.
fn keep_wire(specs: Vec<WireEdge<'_>>, ends: &[(u32, u32)]) -> EdgeEntries {
    let keep = |(spec, &(from, to)): (WireEdge<'_>, &(u32, u32))| match spec {
        WireEdge::Plain { .. } if from != u32::MAX => EdgeEntry::Plain { from, to },
        spec => EdgeEntry::Spec(Box::new(spec.into_spec())),
    };
    // A vector of its own: collected in place, the entries would keep the whole allocation of
    // the read entries (twice their size, and up to twice their number): 2.7 MB more a graph of
    // 91k edges.
    let mut entries = Vec::with_capacity(specs.len());
    entries.extend(specs.into_iter().zip(ends).map(keep));
    EdgeEntries::Kept { entries, written: std::sync::OnceLock::new() }
}

/// A format version this library reads (anything else stops the load: the rest of the
/// document cannot be trusted to mean what this library would read).
pub(super) fn check_supported(manifest: &Manifest) -> Result<(), GraphError> {
    check_supported_version(manifest.format_version)
}

/// [`check_supported`] of a format version.
pub(super) fn check_supported_version(found: u32) -> Result<(), GraphError> {
    if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&found) {
        return Err(GraphError::UnsupportedFormat { found, supported: FORMAT_VERSION });
    }
    Ok(())
}

/// Fields that need a newer format version than the document declares.
fn check_format(manifest: &Manifest, releases: &[Box<ReleaseSpec>], problems: &mut Problems) {
    if manifest.format_version < 2 {
        let needs = |at: String, field: &'static str| GraphError::NeedsFormat { at, field, needs: 2 };
        for (i, r) in releases.iter().enumerate() {
            if r.schema.is_some() {
                problems.push(needs(at("releases", i), "schema"));
            }
            if !r.reads.is_empty() {
                problems.push(needs(at("releases", i), "reads"));
            }
        }
        for (i, d) in manifest.downgrades.iter().enumerate() {
            if d.migration.is_some() {
                problems.push(needs(at("downgrades", i), "migration"));
            }
        }
    }
}

/// The documented limits; they also keep node and edge-entry indices within an edge weight's
/// `SPEC_MASK`.
pub(super) fn check_size(releases: usize, edges: usize) -> Result<(), GraphError> {
    const _: () = assert!(if MAX_RELEASES > MAX_HOPS { MAX_RELEASES } else { MAX_HOPS } < SPEC_MASK as usize);
    for (what, count, limit) in [("releases", releases, MAX_RELEASES), ("edges", edges, MAX_HOPS)] {
        if count > limit {
            return Err(GraphError::TooLarge { what, count, limit });
        }
    }
    Ok(())
}

/// Stops a range expansion that gives more than [`MAX_HOPS`] hops.
fn check_hops(count: usize) -> Result<(), GraphError> {
    if count > MAX_HOPS { Err(GraphError::TooLarge { what: "hops", count, limit: MAX_HOPS }) } else { Ok(()) }
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

/// Sorts hops by `(from, to, entry)`. Manifests usually list edges grouped by source, oldest
/// first; then only each group needs sorting.
/// Each risk named, once per edge; each label condition naming a label.
fn check_risks(risks: &[EdgeRisk], at: &dyn Fn() -> String) -> Result<(), GraphError> {
    for (k, risk) in risks.iter().enumerate() {
        let here = || format!("{}.risks[{k}]", at());
        check_non_empty(&risk.name, || format!("{}.name", here()))?;
        if risks[..k].iter().any(|r| r.name == risk.name) {
            return Err(GraphError::DuplicateRisk { at: here(), name: risk.name.clone() });
        }
        if let Some(when) = &risk.when {
            for label in when.labels() {
                check_non_empty(label, || format!("{}.when (a label's name)", here()))?;
            }
        }
    }
    Ok(())
}

fn sort_links(links: &mut [Link]) {
    if links.is_sorted_by_key(|l| l.0) {
        for group in links.chunk_by_mut(|a, b| a.0 == b.0) {
            group.sort_unstable();
        }
    } else {
        links.sort_unstable();
    }
}

/// Model names, interned in order of first appearance (ids are remapped to name order at the
/// end, so output does not depend on where a name first appears).
#[derive(Default)]
struct Models {
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

    /// Checks an entry's `models` list (`at`: the entry) and interns it: `None` when absent.
    fn check(
        &mut self,
        models: Option<&[impl AsRef<str>]>,
        at: &dyn Fn() -> String,
    ) -> Result<Option<Vec<u32>>, GraphError> {
        let mut ids = Vec::new();
        Ok(self.check_into(models, at, &mut ids)?.map(|_| ids))
    }

    /// [`Models::check`], the ids appended to `ids` (where they are: `None` when absent). A
    /// release's ids go to one list for all releases: ten thousand releases allocate no list
    /// each. On an error, ids already appended stay (unread: the entry is refused).
    fn check_into(
        &mut self,
        models: Option<&[impl AsRef<str>]>,
        at: &dyn Fn() -> String,
        ids: &mut Vec<u32>,
    ) -> Result<Option<Range<usize>>, GraphError> {
        let Some(models) = models else { return Ok(None) };
        if models.is_empty() {
            return Err(GraphError::EmptyModels { at: format!("{}.models", at()) });
        }
        let start = ids.len();
        for (j, m) in models.iter().enumerate() {
            let m = m.as_ref();
            check_non_empty(m, || format!("{}.models[{j}]", at()))?;
            ids.push(self.intern(m));
        }
        Ok(Some(start..ids.len()))
    }
}

/// One release entry's own checks (`i`: its index in `releases`): its version, and where its
/// model ids are in `ids` (`None` for every model; see [`Models::check_into`]).
fn check_release(
    i: usize,
    spec: &ReleaseSpec,
    models: &mut Models,
    ids: &mut Vec<u32>,
) -> Result<(Version, Option<Range<usize>>), GraphError> {
    let here = || at("releases", i);
    let version = Version::parse(&spec.version)
        .map_err(|source| GraphError::Version { at: format!("{}.version", here()), source })?;
    let found = models.check_into(spec.models.as_deref(), &here, ids)?;
    for key in spec.labels.keys() {
        check_non_empty(key, || format!("{}.labels", here()))?;
    }
    match (spec.status, spec.reason.as_deref()) {
        (ReleaseStatus::Blocked, None) => return Err(GraphError::MissingReason { at: here() }),
        (ReleaseStatus::Active, Some(_)) => return Err(GraphError::UnexpectedReason { at: here() }),
        (_, Some(reason)) => check_non_empty(reason, || format!("{}.reason", here()))?,
        (_, None) => {}
    }
    if spec.status == ReleaseStatus::Retired {
        let unexpected = |field| GraphError::UnexpectedField {
            at: here(),
            field,
            applies_to: "releases that can be installed (not retired)",
        };
        if spec.artifact.is_some() {
            return Err(unexpected("artifact"));
        }
        if spec.barrier {
            return Err(unexpected("barrier"));
        }
    }
    if let Some(artifact) = &spec.artifact {
        check_non_empty(&artifact.key, || format!("{}.artifact.key", here()))?;
        if !is_sha256_hex(&artifact.sha256) {
            let at = format!("{}.artifact.sha256", here());
            return Err(GraphError::InvalidSha256 { at, value: artifact.sha256.clone() });
        }
        if artifact.size == Some(0) {
            return Err(GraphError::InvalidArtifactSize { at: format!("{}.artifact.size", here()) });
        }
        if let Some(named) = artifact.digest_in_key().filter(|hex| !hex.eq_ignore_ascii_case(&artifact.sha256)) {
            return Err(GraphError::DigestMismatch {
                at: format!("{}.artifact", here()),
                key: named.to_owned(),
                sha256: artifact.sha256.clone(),
            });
        }
    }
    if let Some(schema) = &spec.schema {
        check_non_empty(schema, || format!("{}.schema", here()))?;
    }
    for (j, schema) in spec.reads.iter().enumerate() {
        check_non_empty(schema, || format!("{}.reads[{j}]", here()))?;
    }
    Ok((version, found))
}

/// The releases, checked and sorted by version (a node is its rank, so every upgrade edge
/// goes up), and how edges find them.
struct Table {
    releases: Vec<Release>,
    /// Per node, where its model ids (unsorted, not yet remapped) are in `model_ids`, or
    /// `None` for every model.
    models: Vec<Option<Range<usize>>>,
    /// The releases' model ids, back to back.
    model_ids: Vec<u32>,
    /// Barrier nodes, ascending.
    barriers: Vec<u32>,
    /// Nodes of releases without a pre-release, ascending (for [`VersionRange::select`]).
    stable: Vec<u32>,
    /// Dead-end and retired nodes, ascending: usually empty, so the per-edge checks cost
    /// nothing then (a release's status sits far from the hot data).
    deadends: Vec<u32>,
    retired: Vec<u32>,
    /// The versions, as written, of release entries that were refused: an edge naming one is
    /// not reported as naming an unknown release.
    /// A set: each edge endpoint that misses the spellings is looked up here.
    refused: rustc_hash::FxHashSet<CompactString>,
}

impl Table {
    /// The releases that pass their checks (each problem noted), sorted; of equal versions
    /// the first declared is kept and the others noted as duplicates.
    fn new(specs: ReleaseEntries, models: &mut Models, problems: &mut Problems) -> Self {
        let mut releases = Vec::with_capacity(specs.len());
        let mut release_models = Vec::with_capacity(specs.len());
        let mut model_ids = Vec::new();
        let mut refused = rustc_hash::FxHashSet::default();
        for (position, spec) in specs.into_iter().enumerate() {
            match check_release(position, &spec, models, &mut model_ids) {
                Ok((version, ids)) => {
                    releases.push(Release { version, spec, position });
                    release_models.push(ids);
                }
                Err(e) => {
                    problems.push(e);
                    refused.insert(spec.version);
                }
            }
        }
        // Releases are usually listed oldest first; otherwise sort them (stable: of equal
        // versions, the first declared comes first), moving each entry once.
        if !releases.is_sorted_by(|a, b| a.version < b.version) {
            let mut order: Vec<usize> = (0..releases.len()).collect();
            order.sort_by(|&a, &b| releases[a].version.cmp(&releases[b].version));
            let mut kept = Vec::with_capacity(order.len());
            for run in order.chunk_by(|&a, &b| releases[a].version == releases[b].version) {
                let first = &releases[run[0]];
                for &k in &run[1..] {
                    problems.push(GraphError::DuplicateRelease {
                        version: releases[k].spec.version.to_string(),
                        at: at("releases", releases[k].position),
                        first: at("releases", first.position),
                    });
                }
                kept.push(run[0]);
            }
            let mut slots: Vec<Option<Release>> = releases.into_iter().map(Some).collect();
            releases = kept.iter().filter_map(|&k| slots[k].take()).collect();
            release_models = kept.iter().map(|&k| release_models[k].clone()).collect();
        }
        let nodes =
            |keep: fn(&Release) -> bool| (0..releases.len()).filter(|&n| keep(&releases[n])).map(u32_of).collect();
        let barriers = nodes(|r| r.spec.barrier);
        let stable = nodes(|r| !r.version.is_prerelease());
        let deadends = nodes(|r| r.spec.status == ReleaseStatus::Deadend);
        let retired = nodes(|r| r.spec.status == ReleaseStatus::Retired);
        Self { releases, models: release_models, model_ids, barriers, stable, deadends, retired, refused }
    }

    /// Whether `error` only follows from a refused release entry (an edge naming it).
    fn follows_from_refused(&self, error: &GraphError) -> bool {
        matches!(error, GraphError::UnknownRelease { version, .. } if self.refused.contains(version.as_str()))
    }

    /// The releases' spellings, back to back: most edge endpoints are written as their
    /// release is, so they are found without parsing, in a map whose keys sit together in
    /// memory (see [`Table::spellings`]).
    fn spelling_text(&self) -> String {
        self.releases.iter().map(|r| r.spec.version.as_str()).collect()
    }

    /// Each release's spelling, as a slice of `text` ([`Table::spelling_text`]), to its node.
    fn spellings<'t>(&self, text: &'t str) -> HashMap<&'t str, u32> {
        let mut map = HashMap::with_capacity_and_hasher(self.releases.len(), FxBuildHasher);
        let mut start = 0;
        for (node, r) in self.releases.iter().enumerate() {
            let end = start + r.spec.version.len();
            map.insert(&text[start..end], u32_of(node));
            start = end;
        }
        map
    }

    /// The node of a version as an entry writes it (`at`: where, for errors), its exact
    /// spelling looked up first.
    fn lookup(&self, spellings: &HashMap<&str, u32>, text: &str, at: &dyn Fn() -> String) -> Result<u32, GraphError> {
        self.find(spellings, text, at).map(|(node, _)| node)
    }

    /// [`Table::lookup`], and whether `text` is the release's own spelling.
    fn find(
        &self,
        spellings: &HashMap<&str, u32>,
        text: &str,
        at: &dyn Fn() -> String,
    ) -> Result<(u32, bool), GraphError> {
        if let Some(&node) = spellings.get(text) {
            return Ok((node, true));
        }
        if self.refused.contains(text) {
            // Its entry was refused (and reported): not a second problem.
            return Err(GraphError::UnknownRelease { version: text.to_owned(), at: at() });
        }
        let version = Version::parse(text).map_err(|source| GraphError::Version { at: at(), source })?;
        super::node_of(&self.releases, &version)
            .map(|node| (node, false))
            .ok_or_else(|| GraphError::UnknownRelease { version: text.to_owned(), at: at() })
    }

    fn is_deadend(&self, node: u32) -> bool {
        self.deadends.binary_search(&node).is_ok()
    }

    /// Refuses an edge or downgrade into a retired release (`to`: as written).
    fn check_not_retired(&self, node: u32, to: &str, at: impl Fn() -> String) -> Result<(), GraphError> {
        if self.retired.binary_search(&node).is_ok() {
            return Err(GraphError::EdgeToRetired { at: at(), to: to.to_owned() });
        }
        Ok(())
    }

    fn spelling(&self, node: u32) -> &str {
        &self.releases[node as usize].spec.version
    }

    /// Whether `text` is the spelling of the release at `node` (none past the releases).
    fn spells(&self, node: u32, text: &str) -> bool {
        self.releases.get(node as usize).is_some_and(|r| r.spec.version == text)
    }

    /// The first barrier strictly between `from` and `to`, if any.
    fn crossed_barrier(&self, from: u32, to: u32) -> Option<u32> {
        let first_after = self.barriers.partition_point(|&b| b <= from);
        self.barriers.get(first_after).copied().filter(|&b| b < to)
    }

    /// The oldest release newer than `to` that `range` matches.
    fn first_newer(&self, range: &VersionRange, to: u32) -> Option<u32> {
        range.first_match_after(&self.releases, &self.stable, |r| &r.version, to)
    }

    /// Releases older than `to` that `range` matches.
    fn matches_older(&self, range: &VersionRange, to: u32) -> Vec<u32> {
        let older = &self.releases[..to as usize];
        let stable = &self.stable[..self.stable.partition_point(|&n| n < to)];
        let mut out = Vec::new();
        range.select(older, stable, |r| &r.version, &mut out);
        out
    }
}

/// The `edges` entries, each checked on its own, in document order.
struct Edges {
    /// Explicit upgrades and blocked hops.
    explicit: Vec<Link>,
    blocked: Vec<Link>,
    /// Range edges: entry index, range, target node.
    ranges: Vec<(u32, VersionRange, u32)>,
    /// Per entry with a `models` list, its model ids.
    models: Vec<(u32, Vec<u32>)>,
    /// Entries that repeat an earlier one exactly (first, repeat): merged, linted.
    repeats: Vec<(u32, u32)>,
    /// Per entry, the nodes of an upgrade or blocked hop from one release that spells both
    /// releases as they spell themselves (`u32::MAX` for any other entry): how the graph keeps
    /// a plain entry.
    ends: Vec<(u32, u32)>,
    /// The node of the previous entry's `from` when it was spelled as its release spells
    /// itself (`u32::MAX`: none): a manifest lists a release's edges together, so most
    /// `from`s repeat the one before and are found by one comparison, without hashing.
    last_from: u32,
}

/// The upgrade edges and blocked hops that the entries expand to.
struct Expanded {
    /// Sorted by `(from, to)`; an explicit edge wins over a generated one.
    forward: Vec<Link>,
    /// Sorted by `(from, to)`; the first entry that blocks a hop gives its reason.
    blocked: Vec<Link>,
    /// Range entries and how many older releases each matched (for lint).
    range_stats: Vec<(usize, usize)>,
    edge_models: Vec<(u32, Vec<u32>)>,
    repeats: Vec<(u32, u32)>,
    /// Upgrade range entries that also match a release newer than their target: (entry, the
    /// oldest such release).
    range_newer: Vec<(usize, u32)>,
}

impl Edges {
    /// Checks each entry; on the first failure, reports it unless an earlier pair of
    /// entries already declared the same hop twice.
    /// Checks each entry, noting each problem (an entry that fails its own checks, the second
    /// of two entries that declare the same hop differently) in entry order; the entries that
    /// pass.
    fn scan<E: EdgeFields>(
        specs: &[E],
        include_prerelease: bool,
        table: &Table,
        spellings: &HashMap<&str, u32>,
        models: &mut Models,
        problems: &mut Problems,
    ) -> Self {
        let explicit = Vec::with_capacity(specs.len());
        let mut edges = Self {
            explicit,
            blocked: Vec::new(),
            ranges: Vec::new(),
            models: Vec::new(),
            repeats: Vec::new(),
            ends: vec![(u32::MAX, u32::MAX); specs.len()],
            last_from: u32::MAX,
        };
        // Only the first MAX_ERRORS of each kind can be reported: memory stays bounded.
        let mut found = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            if let Err(e) = edges.entry(i, spec, include_prerelease, table, spellings, models)
                && !table.follows_from_refused(&e)
                && found.len() < MAX_ERRORS
            {
                found.push((u32_of(i), e));
            }
        }
        sort_links(&mut edges.explicit);
        sort_links(&mut edges.blocked);
        merge_repeats(&mut edges.explicit, specs, &mut edges.repeats);
        merge_repeats(&mut edges.blocked, specs, &mut edges.repeats);
        edges.repeats.sort_unstable_by_key(|&(_, repeat)| repeat);
        found.extend(edges.duplicates(specs));
        found.sort_by_key(|&(i, _)| i);
        for (_, e) in found {
            problems.push(e);
        }
        edges
    }

    fn entry(
        &mut self,
        i: usize,
        spec: &impl EdgeFields,
        include_prerelease: bool,
        table: &Table,
        spellings: &HashMap<&str, u32>,
        models: &mut Models,
    ) -> Result<(), GraphError> {
        let id = u32_of(i);
        if let Some(ids) = models.check(spec.models(), &|| at("edges", i))? {
            self.models.push((id, ids));
        }
        let (to, to_exact) = table.find(spellings, spec.to(), &|| format!("edges[{i}].to"))?;
        if spec.blocked().is_none() {
            table.check_not_retired(to, spec.to(), || at("edges", i))?;
        }
        if let Some(reason) = spec.blocked() {
            check_non_empty(reason, || format!("edges[{i}].blocked"))?;
            if !spec.risks().is_empty() {
                return Err(GraphError::UnexpectedField {
                    at: at("edges", i),
                    field: "risks",
                    applies_to: "edges that are not blocked (a blocked hop is never taken)",
                });
            }
        }
        check_risks(spec.risks(), &|| at("edges", i))?;
        match (spec.from(), spec.range()) {
            (Some(from_text), None) => {
                if spec.include_prerelease().is_some() {
                    return Err(GraphError::UnexpectedField {
                        at: at("edges", i),
                        field: "include_prerelease",
                        applies_to: "range edges (from_range)",
                    });
                }
                let (from, from_exact) = if table.spells(self.last_from, from_text) {
                    (self.last_from, true)
                } else {
                    table.find(spellings, from_text, &|| format!("edges[{i}].from"))?
                };
                self.last_from = if from_exact { from } else { u32::MAX };
                if spec.blocked().is_none() && table.is_deadend(from) {
                    return Err(GraphError::EdgeFromDeadend { at: at("edges", i), from: from_text.to_owned() });
                }
                let written = || (from_text.to_owned(), spec.to().to_owned());
                if from >= to {
                    let (from, to) = written();
                    return Err(GraphError::EdgeNotUpgrade { at: at("edges", i), from, to });
                }
                if let Some(ends) = self.ends.get_mut(i).filter(|_| from_exact && to_exact) {
                    *ends = (from, to);
                }
                if spec.blocked().is_some() {
                    self.blocked.push((from, to, id));
                } else if let Some(b) = table.crossed_barrier(from, to) {
                    let (from, to) = written();
                    let barrier = table.spelling(b).to_owned();
                    return Err(GraphError::CrossesBarrier { at: at("edges", i), from, to, barrier });
                } else {
                    self.explicit.push((from, to, id));
                }
            }
            (None, Some(range)) => {
                let range = VersionRange::parse(range)
                    .map_err(|source| GraphError::Version { at: format!("edges[{i}].from_range"), source })?;
                let range = if spec.include_prerelease().unwrap_or(include_prerelease) {
                    range.including_prereleases()
                } else {
                    range
                };
                self.ranges.push((id, range, to));
            }
            _ => return Err(GraphError::EdgeSource { at: at("edges", i) }),
        }
        Ok(())
    }

    /// Explicit entries for the same hop (both upgrades or both blocked) that differ (in
    /// models or blocked reason; exact repeats were merged): each later entry against the
    /// first, with the later entry's index.
    /// The first [`MAX_ERRORS`] by the later entry's index.
    fn duplicates<E: EdgeFields>(&self, specs: &[E]) -> Vec<(u32, GraphError)> {
        let mut pairs = Vec::new(); // (second, first): small, then the first few become errors
        for links in [&self.explicit, &self.blocked] {
            for run in links.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
                let first = run.iter().map(|l| l.2).min().unwrap_or_default();
                pairs.extend(run.iter().map(|l| l.2).filter(|&s| s != first).map(|second| (second, first)));
            }
        }
        pairs.sort_unstable();
        pairs.truncate(MAX_ERRORS);
        let error = |(second, first): (u32, u32)| {
            let entry = &specs[second as usize];
            let duplicate = GraphError::DuplicateEdge {
                at: at("edges", second as usize),
                first: at("edges", first as usize),
                from: entry.from().unwrap_or_default().to_owned(),
                to: entry.to().to_owned(),
            };
            (second, duplicate)
        };
        pairs.into_iter().map(error).collect()
    }

    /// Blocked entries win over upgrades: an explicit upgrade that a blocked entry names is
    /// an error; ranges expand into hops, minus blocked, barrier-crossing and explicit ones.
    fn expand<E: EdgeFields>(self, table: &Table, specs: &[E]) -> Result<Expanded, GraphError> {
        let Self { explicit, mut blocked, ranges, models, repeats, .. } = self;
        let find = |list: &[Link], from: u32, to: u32| -> Option<u32> {
            list.binary_search_by(|e| (e.0, e.1).cmp(&(from, to))).ok().map(|k| list[k].2)
        };
        let conflict = |blocked_at: u32, declared_at: u32, from: u32, to: u32| GraphError::ConflictingEdge {
            blocked_at: at("edges", blocked_at as usize),
            declared_at: at("edges", declared_at as usize),
            from: table.spelling(from).to_owned(),
            to: table.spelling(to).to_owned(),
        };
        // The clash whose later entry comes first in the document.
        let clash = blocked
            .iter()
            .filter_map(|&(from, to, b)| find(&explicit, from, to).map(|d| (b.max(d), b, d, from, to)))
            .min();
        if let Some((_, b, declared, from, to)) = clash {
            return Err(conflict(b, declared, from, to));
        }
        let is_blocked = |spec: u32| specs[spec as usize].blocked().is_some();
        let mut range_stats = Vec::with_capacity(ranges.len());
        for (spec, range, to) in ranges.iter().filter(|r| is_blocked(r.0)) {
            let sources = table.matches_older(range, *to);
            for &from in &sources {
                if let Some(declared) = find(&explicit, from, *to) {
                    return Err(conflict(*spec, declared, from, *to));
                }
                blocked.push((from, *to, *spec));
            }
            check_hops(explicit.len() + blocked.len())?;
            range_stats.push((*spec as usize, sources.len()));
        }
        blocked.sort_unstable();
        blocked.dedup_by_key(|b| (b.0, b.1));
        let mut generated = Vec::new();
        let mut range_newer = Vec::new();
        for (spec, range, to) in ranges.iter().filter(|r| !is_blocked(r.0)) {
            range_newer.extend(table.first_newer(range, *to).map(|newer| (*spec as usize, newer)));
            let sources = table.matches_older(range, *to);
            for &from in &sources {
                let free = find(&blocked, from, *to).is_none()
                    && find(&explicit, from, *to).is_none()
                    && table.crossed_barrier(from, *to).is_none()
                    && !table.is_deadend(from);
                if free {
                    generated.push((from, *to, *spec));
                }
            }
            check_hops(explicit.len() + blocked.len() + generated.len())?;
            range_stats.push((*spec as usize, sources.len()));
        }
        range_stats.sort_unstable();
        let mut forward = explicit;
        if !generated.is_empty() {
            // Explicit hops were left out above; a hop two ranges give belongs to the first.
            forward.append(&mut generated);
            forward.sort_unstable();
            forward.dedup_by_key(|e| (e.0, e.1));
        }
        Ok(Expanded { forward, blocked, range_stats, edge_models: models, repeats, range_newer })
    }
}

/// Drops the entries of sorted hops that repeat an earlier entry for the same hop exactly (the
/// same models, in any order, and the same blocked reason), recording (first, repeat).
/// Catalogs list the same predecessor twice (as "replaces" and in "skips"): nothing is
/// ambiguous, so it is a lint warning, not an error.
fn merge_repeats<E: EdgeFields>(links: &mut Vec<Link>, specs: &[E], repeats: &mut Vec<(u32, u32)>) {
    fn models(spec: &impl EdgeFields) -> Option<Vec<&str>> {
        spec.models().map(|m| {
            let mut m: Vec<&str> = m.iter().map(String::as_str).collect();
            m.sort_unstable();
            m.dedup();
            m
        })
    }
    // Most manifests declare each hop once: nothing to merge.
    if links.windows(2).all(|w| (w[0].0, w[0].1) != (w[1].0, w[1].1)) {
        return;
    }
    let same = |a: &E, b: &E| a.blocked() == b.blocked() && a.risks() == b.risks() && models(a) == models(b);
    // In place: the links kept so far are `links[..kept]`.
    let mut kept = 0;
    for i in 0..links.len() {
        let link = links[i];
        let earlier = links[..kept]
            .iter()
            .rev()
            .take_while(|k| (k.0, k.1) == (link.0, link.1))
            .find(|k| same(&specs[k.2 as usize], &specs[link.2 as usize]))
            .map(|first| first.2);
        if let Some(first) = earlier {
            repeats.push((first, link.2));
        } else {
            links[kept] = link;
            kept += 1;
        }
    }
    links.truncate(kept);
}

/// The `downgrades` entries: models, endpoints, direction, duplicates.
fn downgrades(
    manifest: &Manifest,
    table: &Table,
    spellings: &HashMap<&str, u32>,
    models: &mut Models,
    problems: &mut Problems,
) -> Vec<Downgrade> {
    let mut out = Vec::with_capacity(manifest.downgrades.len());
    let mut seen: HashMap<(u32, u32), usize> = HashMap::default();
    for (i, d) in manifest.downgrades.iter().enumerate() {
        let mut check = || -> Result<Downgrade, GraphError> {
            let ids = models.check(d.models.as_deref(), &|| at("downgrades", i))?;
            let from = table.lookup(spellings, &d.from, &|| format!("downgrades[{i}].from"))?;
            let to = table.lookup(spellings, &d.to, &|| format!("downgrades[{i}].to"))?;
            table.check_not_retired(to, &d.to, || at("downgrades", i))?;
            if let Some(migration) = &d.migration {
                check_non_empty(&migration.component, || format!("downgrades[{i}].migration.component"))?;
            }
            let (from_text, to_text) = (d.from.clone(), d.to.clone());
            if to >= from {
                return Err(GraphError::DowngradeNotOlder { at: at("downgrades", i), from: from_text, to: to_text });
            }
            if let Some(&first) = seen.get(&(from, to)) {
                let (at, first) = (at("downgrades", i), at("downgrades", first));
                return Err(GraphError::DuplicateEdge { at, first, from: from_text, to: to_text });
            }
            Ok((from, to, i, ids))
        };
        match check() {
            Ok(downgrade) => {
                seen.insert((downgrade.0, downgrade.1), i);
                out.push(downgrade);
            }
            Err(e) if table.follows_from_refused(&e) => {}
            Err(e) => problems.push(e),
        }
    }
    out
}

/// The compiled graph: model ids in name order, node flags, the adjacency both ways.
fn assemble(
    manifest: Manifest,
    edges: EdgeEntries,
    entry_flags: &[(bool, bool, bool)],
    table: Table,
    models: &Models,
    expanded: Expanded,
    downgrades: Vec<Downgrade>,
) -> Inner {
    let Table { releases, models: release_models, model_ids: release_model_ids, .. } = table;
    let Expanded { mut forward, blocked, range_stats, edge_models, repeats, range_newer } = expanded;

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
    let model_names: Vec<String> = order.iter().map(|&old| models.names[old as usize].clone()).collect();
    let model_ids = model_names.iter().enumerate().map(|(i, n)| (n.clone(), u32_of(i))).collect();

    let mut flags = Vec::with_capacity(releases.len());
    let mut model_offsets = vec![0u32];
    let mut model_list = Vec::with_capacity(release_model_ids.len());
    let mut scratch = Vec::new();
    for (release, ids) in releases.iter().zip(release_models) {
        let mut f = match release.spec.status {
            // Never installed, as blocked; and no edge leads into it.
            ReleaseStatus::Blocked | ReleaseStatus::Retired => BLOCKED,
            ReleaseStatus::Archived => ARCHIVED,
            ReleaseStatus::Deadend => DEADEND,
            ReleaseStatus::Active => 0,
        };
        if release.version.is_prerelease() {
            f |= PRERELEASE;
        }
        if release.spec.artifact.is_none() {
            f |= NO_ARTIFACT;
        }
        match ids {
            None => f |= GENERIC,
            Some(ids) => {
                // One list for every release's ids, sorted and deduplicated.
                scratch.clear();
                scratch.extend(release_model_ids[ids].iter().map(|&m| remap[m as usize]));
                scratch.sort_unstable();
                scratch.dedup();
                model_list.extend_from_slice(&scratch);
            }
        }
        model_offsets.push(u32_of(model_list.len()));
        flags.push(f);
    }

    let edge_models: HashMap<u32, Box<[u32]>> =
        edge_models.iter().map(|(spec, ids)| (*spec, sorted_ids(ids))).collect();
    for (_, _, weight) in &mut forward {
        let spec = *weight;
        if edge_models.contains_key(&spec) {
            *weight |= RESTRICTED;
        }
        let (range, risky, _) = entry_flags.get(spec as usize).copied().unwrap_or_default();
        if range {
            *weight |= GENERATED;
        }
        if risky {
            *weight |= RISKY;
        }
    }
    let nodes = releases.len();
    let reverse = csr(&transpose(&forward, nodes), nodes);
    let forward = csr(&forward, nodes);
    let blocked = blocked.into_iter().map(|(from, to, spec)| BlockedHop { from, to, spec }).collect();
    let downgrades = downgrades
        .into_iter()
        .map(|(from, to, spec, ids)| CompiledDowngrade { from, to, spec, models: ids.as_deref().map(sorted_ids) })
        .collect();
    let hash = |node: u32| super::index_hash(releases[node as usize].version.key());
    let mut index = hashbrown::HashTable::with_capacity(releases.len());
    for node in 0..u32_of(releases.len()) {
        // Versions are unique: duplicates were refused.
        index.insert_unique(hash(node), node, |&n| hash(n));
    }
    let risky = (0..entry_flags.len()).filter(|&i| entry_flags[i].1 && !entry_flags[i].2).map(u32_of).collect();
    Inner {
        manifest,
        edges,
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
        risky,
        repeats: repeats.into_iter().map(|(first, repeat)| (first as usize, repeat as usize)).collect(),
        range_newer,
    }
}

/// Reverses edges sorted by `(source, target)` into edges sorted by `(target, source)`, with a
/// counting pass: O(V + E), no comparison sort.
fn transpose(sorted: &[Link], nodes: usize) -> Vec<Link> {
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

/// A CSR with exactly `nodes` nodes from edges sorted by `(source, target)`.
fn csr(sorted: &[Link], nodes: usize) -> Adjacency {
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
