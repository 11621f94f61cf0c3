//! Path resolution: `resolve`, `next_hop` and `route_table`.

use crate::u32_of;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{ARCHIVED, Artifact, BLOCKED, ModelQuery, NoPathReason, Query, ResolveError, Role, UpgradeGraph};
use crate::version::Version;

const UNSEEN: u32 = u32::MAX;

/// What a path may use.
///
/// ```
/// let c: fleetpath::Constraints = serde_json::from_str(r#"{"model": "IPM-2", "max_hops": 3}"#)?;
/// assert!(!c.allow_blocked);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Constraints {
    /// The device's hardware model: every release on the path must install on it. `None`
    /// skips model checks.
    pub model: Option<String>,
    /// Allow blocked releases on the path and as the target. Blocked *edges* are never used.
    pub allow_blocked: bool,
    /// The most hops a path may take.
    pub max_hops: Option<u32>,
    /// The device's labels, as the host's record has them (never as the device reports
    /// them), for the conditions of edge risks. `None`: unknown, so a risk conditioned on a
    /// label applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// The risks the host accepts for the device, by name: a hop withheld only by accepted
    /// risks is taken.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub accepted_risks: BTreeSet<String>,
}

impl Constraints {
    /// Constraints for one hardware model, with the defaults otherwise.
    pub fn for_model(model: impl Into<String>) -> Self {
        Self { model: Some(model.into()), ..Self::default() }
    }
}

/// One step of a path: install `to` on a device running `from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    /// The version the device runs before the hop.
    pub from: Version,
    /// The version the hop installs.
    pub to: Version,
    /// The firmware binary of `to`, if the manifest declares one.
    pub artifact: Option<Artifact>,
    /// Index in the manifest's `edges` of the entry that declares this hop.
    pub edge: usize,
    /// `true` when a range edge (`from_range`) declares the hop.
    pub generated: bool,
}

/// An upgrade path: the hops, in order. Empty when the source is the target.
///
/// Versions are spelled as the manifest declares them, whatever spelling the query used. Its
/// JSON form also lists [`Path::versions`] (`"versions"`), for hosts; reading a path back
/// ignores that list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Path {
    /// The version the device runs now.
    pub from: Version,
    /// The version it will run.
    pub to: Version,
    /// The hops, in order.
    pub hops: Vec<Hop>,
}

impl Serialize for Path {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Path", 4)?;
        s.serialize_field("from", &self.from)?;
        s.serialize_field("to", &self.to)?;
        s.serialize_field("hops", &self.hops)?;
        s.serialize_field("versions", &self.versions())?;
        s.end()
    }
}

impl Path {
    /// Every version on the path, source first.
    pub fn versions(&self) -> Vec<&Version> {
        std::iter::once(&self.from).chain(self.hops.iter().map(|h| &h.to)).collect()
    }

    /// The number of hops.
    pub fn len(&self) -> usize {
        self.hops.len()
    }

    /// Whether the device is already on the target.
    pub fn is_empty(&self) -> bool {
        self.hops.is_empty()
    }
}

/// The next hop toward a target from every release that can reach it, computed in one pass.
///
/// A Lambda answering a whole fleet builds one table per (target, constraints) and looks
/// every device up in it. Following `next_hop` from a release gives exactly the path
/// [`UpgradeGraph::resolve`] returns, and [`RouteTable::resolve`] returns the same errors.
#[derive(Debug, Clone)]
pub struct RouteTable {
    graph: UpgradeGraph,
    target: u32,
    model: ModelQuery,
    withheld: Box<[u32]>,
    constraints: Constraints,
    next: Vec<u32>,
    dist: Vec<u32>,
}

/// One row of a [`RouteTable`], for display and serialization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteEntry {
    /// A release that can reach the target.
    pub from: Version,
    /// Its next hop (`None` for the target itself).
    pub next: Option<Version>,
    /// Hops to the target.
    pub hops: u32,
}

/// The result of a backward breadth-first search from a target over `[lo, target]`.
pub(super) struct Search {
    lo: u32,
    next: Vec<u32>,
    dist: Vec<u32>,
}

impl Search {
    pub(super) fn view(&self) -> View<'_> {
        View { lo: self.lo, next: &self.next, dist: &self.dist }
    }
}

/// A borrowed [`Search`] (a route table keeps its own arrays).
#[derive(Clone, Copy)]
pub(super) struct View<'a> {
    lo: u32,
    next: &'a [u32],
    dist: &'a [u32],
}

impl View<'_> {
    pub(super) fn dist(&self, node: u32) -> Option<u32> {
        node.checked_sub(self.lo).and_then(|i| self.dist.get(i as usize)).copied().filter(|&d| d != UNSEEN)
    }
    fn next(&self, node: u32) -> u32 {
        self.next[(node - self.lo) as usize]
    }
}

impl UpgradeGraph {
    /// The shortest upgrade path from `from` to `to` under `constraints`. See the
    /// [module docs](super) for the tie-break between equally short paths.
    ///
    /// ```
    /// use fleetpath::{Constraints, UpgradeGraph};
    /// let graph = UpgradeGraph::from_json(r#"{"format_version": 1,
    ///   "releases": [{"version": "1.0"}, {"version": "1.1"}, {"version": "2.0"}],
    ///   "edges": [{"from": "1.0", "to": "1.1"}, {"from": "1.1", "to": "2.0"},
    ///             {"from": "1.0", "to": "2.0", "blocked": "bricks the radio"}]}"#)?;
    /// let path = graph.resolve(&"1.0".parse()?, &"2.0".parse()?, &Constraints::default())?;
    /// assert_eq!(path.len(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ResolveError`]: an unknown version, a target older than the source, a blocked
    /// target, a model that the source or target does not support, no path (with the reason
    /// and the furthest release reachable), or more hops than `max_hops`.
    ///
    /// # Complexity
    /// O(V + E) over the releases between `from` and `to`, stopping as soon as `from` is
    /// reached.
    pub fn resolve(&self, from: &Version, to: &Version, constraints: &Constraints) -> Result<Path, ResolveError> {
        let source = self.node(from).ok_or_else(|| unknown(from, Role::Source))?;
        let target = self.target(to, constraints)?;
        if source > target {
            return Err(ResolveError::TargetOlder { from: from.clone(), to: to.clone() });
        }
        self.check_source(source, constraints)?;
        let withheld = self.withheld(constraints);
        let query = Query { model: self.model_query(constraints.model.as_deref()), withheld: &withheld };
        let search = self.search(source, target, query, constraints.allow_blocked, Some(source));
        self.path_from(search.view(), source, target, query, constraints)
    }

    /// The first hop of [`UpgradeGraph::resolve`]'s path, or `None` when `from` is `to`.
    ///
    /// # Errors
    /// As [`UpgradeGraph::resolve`].
    pub fn next_hop(
        &self,
        from: &Version,
        to: &Version,
        constraints: &Constraints,
    ) -> Result<Option<Hop>, ResolveError> {
        Ok(self.resolve(from, to, constraints)?.hops.into_iter().next())
    }

    /// The next hop toward `to` from every release, in one backward breadth-first search.
    ///
    /// ```
    /// use fleetpath::{Constraints, UpgradeGraph};
    /// let graph = UpgradeGraph::from_json(r#"{"format_version": 1,
    ///   "releases": [{"version": "1.0"}, {"version": "1.1"}, {"version": "2.0"}],
    ///   "edges": [{"from_range": "<1.1", "to": "1.1"}, {"from": "1.1", "to": "2.0"}]}"#)?;
    /// let table = graph.route_table(&"2.0".parse()?, &Constraints::default())?;
    /// assert_eq!(table.next_hop(&"1.0".parse()?)?.unwrap().to.to_string(), "1.1");
    /// assert_eq!(table.hops(&"1.0".parse()?), Some(2));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ResolveError`] about the target: unknown, blocked, or not for the model.
    ///
    /// # Complexity
    /// O(V + E) time and O(V) memory.
    pub fn route_table(&self, to: &Version, constraints: &Constraints) -> Result<RouteTable, ResolveError> {
        let target = self.target(to, constraints)?;
        let model = self.model_query(constraints.model.as_deref());
        let withheld = self.withheld(constraints);
        let query = Query { model, withheld: &withheld };
        let Search { next, dist, .. } = self.search(0, target, query, constraints.allow_blocked, None);
        Ok(RouteTable { graph: self.clone(), target, model, withheld, constraints: constraints.clone(), next, dist })
    }

    /// Looks up and checks the target.
    fn target(&self, to: &Version, constraints: &Constraints) -> Result<u32, ResolveError> {
        if constraints.model.as_deref() == Some("") {
            return Err(ResolveError::EmptyModel);
        }
        let target = self.node(to).ok_or_else(|| unknown(to, Role::Target))?;
        let release = self.release_at(target);
        // A retired release has no binary: not even a caller allowing blocked releases gets it.
        let retired = release.status() == super::ReleaseStatus::Retired;
        if retired || (self.is_blocked(target) && !constraints.allow_blocked) {
            let reason = release.reason().unwrap_or_default();
            let reason = match (retired, reason) {
                (true, "") => "retired (no longer published)".to_owned(),
                (true, why) => format!("retired (no longer published): {why}"),
                (false, why) => why.to_owned(),
            };
            return Err(ResolveError::TargetBlocked { to: release.version.clone(), reason });
        }
        self.check_model(target, constraints, Role::Target)?;
        Ok(target)
    }

    fn check_source(&self, source: u32, constraints: &Constraints) -> Result<(), ResolveError> {
        self.check_model(source, constraints, Role::Source)
    }

    fn check_model(&self, node: u32, constraints: &Constraints, role: Role) -> Result<(), ResolveError> {
        let query = self.model_query(constraints.model.as_deref());
        if self.supports(node, query) {
            return Ok(());
        }
        Err(ResolveError::ModelIncompatible {
            model: constraints.model.clone().unwrap_or_default(),
            version: self.release_at(node).version.clone(),
            role,
        })
    }

    /// Backward BFS from `target` over releases in `[lo, target]`. A node's `next` is its best
    /// successor one step closer (see the tie-break in the module docs). Blocked releases get
    /// a route (devices may leave them) but are not passed through unless `allow_blocked`.
    /// Stops when `stop` is taken off the queue: by then every node closer to the target is
    /// final.
    pub(super) fn search(
        &self,
        lo: u32,
        target: u32,
        query: Query<'_>,
        allow_blocked: bool,
        stop: Option<u32>,
    ) -> Search {
        const SUPPORTED: u8 = 1;
        const PASSABLE: u8 = 2;
        let span = (target - lo) as usize + 1;
        let flags = &self.inner.flags;
        let closed = if allow_blocked { 0 } else { BLOCKED };
        // One byte per node of the span, computed once, so the edge loop does no model lookups.
        let admit: Vec<u8> = (lo..=target)
            .map(|u| match self.supports(u, query.model) {
                false => 0,
                true if flags[u as usize] & closed == 0 => SUPPORTED | PASSABLE,
                true => SUPPORTED,
            })
            .collect();
        let mut dist = vec![UNSEEN; span];
        let mut next = vec![UNSEEN; span];
        let mut queue: Vec<u32> = Vec::with_capacity(span);
        dist[span - 1] = 0;
        next[span - 1] = target;
        queue.push(target);
        let mut head = 0;
        while let Some(&v) = queue.get(head) {
            head += 1;
            if Some(v) == stop {
                break;
            }
            let d = dist[(v - lo) as usize];
            let (sources, weights) = self.reverse(v);
            let start = if lo == 0 { 0 } else { sources.partition_point(|&u| u < lo) };
            for (&u, &w) in sources[start..].iter().zip(&weights[start..]) {
                let i = (u - lo) as usize;
                let a = admit[i];
                if a & SUPPORTED == 0 {
                    continue;
                }
                let du = dist[i];
                if du == UNSEEN {
                    if !self.edge_open(w, query) {
                        continue;
                    }
                    dist[i] = d + 1;
                    next[i] = v;
                    if a & PASSABLE != 0 {
                        queue.push(u);
                    }
                } else if du == d + 1 && better(flags, v, next[i]) && self.edge_open(w, query) {
                    next[i] = v;
                }
            }
        }
        Search { lo, next, dist }
    }

    /// Hops from `source` to `target` in a finished search, or why there is no usable path.
    fn reachable(
        &self,
        view: View<'_>,
        source: u32,
        target: u32,
        query: Query<'_>,
        constraints: &Constraints,
    ) -> Result<u32, ResolveError> {
        let version = |n: u32| self.release_at(n).version.clone();
        let Some(hops) = view.dist(source) else {
            let reason = self.explain(source, target, query, constraints);
            return Err(ResolveError::NoPath {
                from: version(source),
                to: version(target),
                model: constraints.model.clone(),
                reason,
            });
        };
        match constraints.max_hops {
            Some(max) if hops > max => {
                Err(ResolveError::TooManyHops { from: version(source), to: version(target), hops, max })
            }
            _ => Ok(hops),
        }
    }

    fn path_from(
        &self,
        view: View<'_>,
        source: u32,
        target: u32,
        query: Query<'_>,
        constraints: &Constraints,
    ) -> Result<Path, ResolveError> {
        let hops = self.reachable(view, source, target, query, constraints)?;
        let mut path = Vec::with_capacity(hops as usize);
        let mut at = source;
        while at != target {
            let step = view.next(at);
            path.push(self.hop(at, step));
            at = step;
        }
        Ok(Path {
            from: self.release_at(source).version.clone(),
            to: self.release_at(target).version.clone(),
            hops: path,
        })
    }

    fn hop(&self, from: u32, to: u32) -> Hop {
        // `search` only follows compiled edges, so the edge exists.
        let edge = self.edge_between(from, to);
        Hop {
            from: self.release_at(from).version.clone(),
            to: self.release_at(to).version.clone(),
            artifact: self.release_at(to).spec.artifact.clone(),
            edge: edge.map_or(usize::MAX, |e| e.spec as usize),
            generated: edge.is_some_and(|e| e.generated),
        }
    }

    /// Why there is no path: relax one constraint at a time, then all of them, and name the
    /// first obstacle on the shortest relaxed path.
    fn explain(&self, source: u32, target: u32, query: Query<'_>, constraints: &Constraints) -> NoPathReason {
        let allow_blocked = constraints.allow_blocked;
        let start = self.release_at(source);
        if start.status() == super::ReleaseStatus::Deadend {
            let reason = start.reason().unwrap_or_default().to_owned();
            return NoPathReason::DeadEnd { furthest: start.version.clone(), reason };
        }
        let furthest = self.release_at(self.furthest(source, target, query, allow_blocked)).version.clone();
        let attempts = [Relax::RELEASES, Relax::EDGES, Relax::MODEL, Relax::RISKS, Relax::ALL];
        for relax in attempts {
            let Some(path) = self.relaxed_path(source, target, query, allow_blocked, relax) else { continue };
            for (u, v) in path.windows(2).map(|w| (w[0], w[1])) {
                if !allow_blocked && self.is_blocked(v) && relax.releases {
                    let release = self.release_at(v);
                    return NoPathReason::BlockedRelease {
                        furthest,
                        release: release.version.clone(),
                        reason: release.reason().unwrap_or_default().to_owned(),
                    };
                }
                if relax.edges
                    && self.edge_between(u, v).is_none()
                    && let Some(b) = self.blocked_between(u, v)
                {
                    return NoPathReason::BlockedEdge {
                        furthest,
                        from: self.release_at(u).version.clone(),
                        to: self.release_at(v).version.clone(),
                        reason: self.blocked_reason(b.spec).to_owned(),
                    };
                }
                if relax.model && !self.hop_admits(u, v, Query::model(query.model)) {
                    return NoPathReason::ModelRestricted {
                        furthest,
                        from: self.release_at(u).version.clone(),
                        to: self.release_at(v).version.clone(),
                    };
                }
                if relax.risks
                    && let Some(edge) = self.edge_between(u, v)
                    && query.withheld.binary_search(&edge.spec).is_ok()
                    && let Some(risk) = self.withholding_risk(edge.spec, constraints)
                {
                    return NoPathReason::WithheldByRisk {
                        furthest,
                        from: self.release_at(u).version.clone(),
                        to: self.release_at(v).version.clone(),
                        risk: risk.name.clone(),
                        message: risk.message.clone(),
                        url: risk.url.clone(),
                    };
                }
            }
        }
        NoPathReason::Unreachable { furthest }
    }

    fn hop_admits(&self, u: u32, v: u32, query: Query<'_>) -> bool {
        let (targets, weights) = self.forward(u);
        let edge_ok = targets.binary_search(&v).is_ok_and(|i| self.edge_open(weights[i], query));
        edge_ok && self.supports(v, query.model)
    }

    /// The newest release below or at `target` that `source` reaches under the constraints.
    fn furthest(&self, source: u32, target: u32, query: Query<'_>, allow_blocked: bool) -> u32 {
        let mut seen = vec![false; (target - source) as usize + 1];
        let mut queue = vec![source];
        let mut best = source;
        seen[0] = true;
        while let Some(u) = queue.pop() {
            if u != source && self.is_blocked(u) && !allow_blocked {
                continue;
            }
            let (targets, weights) = self.forward(u);
            for (&v, &w) in targets.iter().zip(weights) {
                if v > target || seen[(v - source) as usize] {
                    continue;
                }
                if self.supports(v, query.model) && self.edge_open(w, query) && (allow_blocked || !self.is_blocked(v)) {
                    seen[(v - source) as usize] = true;
                    best = best.max(v);
                    queue.push(v);
                }
            }
        }
        best
    }

    /// Forward BFS with some constraints lifted; returns the node sequence of a shortest path.
    /// Neighbours are visited in ascending order, so the result is deterministic.
    fn relaxed_path(
        &self,
        source: u32,
        target: u32,
        query: Query<'_>,
        allow_blocked: bool,
        relax: Relax,
    ) -> Option<Vec<u32>> {
        let span = (target - source) as usize + 1;
        let mut parent = vec![UNSEEN; span];
        parent[0] = source;
        let mut queue = std::collections::VecDeque::from([source]);
        let pass_blocked = allow_blocked || relax.releases;
        let check_model = if relax.model { ModelQuery::Any } else { query.model };
        let check = Query { model: check_model, withheld: if relax.risks { &[] } else { query.withheld } };
        while let Some(u) = queue.pop_front() {
            if u == target {
                break;
            }
            if u != source && self.is_blocked(u) && !pass_blocked {
                continue;
            }
            let mut next: Vec<(u32, bool)> = {
                let (targets, weights) = self.forward(u);
                targets
                    .iter()
                    .zip(weights)
                    .filter(|&(_, &w)| self.edge_open(w, check))
                    .map(|(&v, _)| (v, true))
                    .collect()
            };
            if relax.edges {
                let start = self.inner.blocked.partition_point(|b| b.from < u);
                next.extend(self.inner.blocked[start..].iter().take_while(|b| b.from == u).map(|b| (b.to, false)));
                next.sort_unstable();
            }
            for (v, _) in next {
                if v > target || parent[(v - source) as usize] != UNSEEN {
                    continue;
                }
                if !self.supports(v, check_model) || (self.is_blocked(v) && !pass_blocked) {
                    continue;
                }
                parent[(v - source) as usize] = u;
                queue.push_back(v);
            }
        }
        if parent[span - 1] == UNSEEN {
            return None;
        }
        let mut path = vec![target];
        let mut at = target;
        while at != source {
            at = parent[(at - source) as usize];
            path.push(at);
        }
        path.reverse();
        Some(path)
    }
}

/// Which constraints a relaxed search lifts: blocked releases, blocked hops, the model, risks.
#[derive(Debug, Clone, Copy)]
#[allow(clippy::struct_excessive_bools)] // four independent switches, named at each use
struct Relax {
    releases: bool,
    edges: bool,
    model: bool,
    risks: bool,
}

impl Relax {
    const NONE: Self = Self { releases: false, edges: false, model: false, risks: false };
    const RELEASES: Self = Self { releases: true, ..Self::NONE };
    const EDGES: Self = Self { edges: true, ..Self::NONE };
    const MODEL: Self = Self { model: true, ..Self::NONE };
    const RISKS: Self = Self { risks: true, ..Self::NONE };
    const ALL: Self = Self { releases: true, edges: true, model: true, risks: true };
}

/// Tie-break between two successors at the same distance: non-blocked, then active, then
/// newer (a higher index is a newer version).
fn better(flags: &[u8], candidate: u32, current: u32) -> bool {
    let key = |n: u32| {
        let f = flags[n as usize];
        (f & BLOCKED == 0, f & ARCHIVED == 0, n)
    };
    key(candidate) > key(current)
}

fn unknown(version: &Version, role: Role) -> ResolveError {
    ResolveError::UnknownVersion { version: version.clone(), role }
}

impl RouteTable {
    /// The target release.
    pub fn target(&self) -> &Version {
        &self.graph.release_at(self.target).version
    }

    /// The constraints the table was built with.
    pub fn constraints(&self) -> &Constraints {
        &self.constraints
    }

    /// Hops from `from` to the target, or `None` when it cannot reach it (or is newer, or
    /// unknown). Ignores `max_hops`.
    pub fn hops(&self, from: &Version) -> Option<u32> {
        let node = self.graph.node(from)?;
        self.dist.get(node as usize).copied().filter(|&d| d != UNSEEN)
    }

    /// The next hop from `from`, or `None` when `from` is the target.
    ///
    /// # Errors
    /// Exactly the errors [`UpgradeGraph::resolve`] gives for `from` and this target.
    ///
    /// # Complexity
    /// O(1) (a hash lookup and a binary search among the release's edges).
    pub fn next_hop(&self, from: &Version) -> Result<Option<Hop>, ResolveError> {
        self.next_hop_of(self.source(from)?)
    }

    /// The graph the table routes over.
    pub(crate) fn graph(&self) -> &UpgradeGraph {
        &self.graph
    }

    /// The node of the release `version` names, in the table's graph.
    pub(crate) fn node(&self, version: &Version) -> Option<u32> {
        self.graph.node(version)
    }

    /// The hops from the release at `node` to the target, when the table reaches the target
    /// from it ([`RouteTable::next_hop_at`] then makes the checks `next_hop` makes on a source).
    pub(crate) fn reaching(&self, node: u32) -> Option<u32> {
        let hops = self.dist.get(node as usize).copied().filter(|&d| d != UNSEEN)?;
        (node <= self.target).then_some(hops)
    }

    /// The node of the release [`RouteTable::next_hop`] installs from a node the table
    /// reaches ([`RouteTable::reaching`]), after the same checks; `None` at the target. A
    /// decider builds its own step from it (no [`Hop`], whose edge it does not need).
    pub(crate) fn next_node_at(&self, node: u32) -> Result<Option<u32>, ResolveError> {
        self.check_source(node)?;
        self.next_node_of(node)
    }

    /// The next hop from a node that passed the source checks.
    fn next_hop_of(&self, source: u32) -> Result<Option<Hop>, ResolveError> {
        Ok(self.next_node_of(source)?.map(|next| self.graph.hop(source, next)))
    }

    /// The node after `source` on its route (`None` at the target), for a node that passed
    /// the source checks.
    fn next_node_of(&self, source: u32) -> Result<Option<u32>, ResolveError> {
        self.graph.reachable(self.view(), source, self.target, self.query(), &self.constraints)?;
        Ok((source != self.target).then(|| self.next[source as usize]))
    }

    /// The whole path from `from`, as [`UpgradeGraph::resolve`] returns it.
    ///
    /// # Errors
    /// Exactly the errors [`UpgradeGraph::resolve`] gives for `from` and this target.
    pub fn resolve(&self, from: &Version) -> Result<Path, ResolveError> {
        let source = self.source(from)?;
        self.graph.path_from(self.view(), source, self.target, self.query(), &self.constraints)
    }

    /// Every release that reaches the target, oldest first, with its next hop.
    pub fn entries(&self) -> Vec<RouteEntry> {
        self.dist
            .iter()
            .enumerate()
            .filter(|&(_, &d)| d != UNSEEN)
            .map(|(i, &hops)| {
                let node = u32_of(i);
                RouteEntry {
                    from: self.graph.release_at(node).version.clone(),
                    next: (node != self.target).then(|| self.graph.release_at(self.next[i]).version.clone()),
                    hops,
                }
            })
            .collect()
    }

    pub(super) fn view(&self) -> View<'_> {
        View { lo: 0, next: &self.next, dist: &self.dist }
    }

    fn query(&self) -> Query<'_> {
        Query { model: self.model, withheld: &self.withheld }
    }

    /// The checks `resolve` makes on the source, in the same order.
    fn source(&self, from: &Version) -> Result<u32, ResolveError> {
        let source = self.graph.node(from).ok_or_else(|| unknown(from, Role::Source))?;
        if source > self.target {
            return Err(ResolveError::TargetOlder { from: from.clone(), to: self.target().clone() });
        }
        self.check_source(source)?;
        Ok(source)
    }

    /// [`UpgradeGraph::check_source`] with the table's model, found once when it was built.
    fn check_source(&self, source: u32) -> Result<(), ResolveError> {
        if self.graph.supports(source, self.model) {
            Ok(())
        } else {
            self.graph.check_source(source, &self.constraints)
        }
    }
}
