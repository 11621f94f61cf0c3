//! Rollback plans: where a device goes back to, by which declared downgrades, and why a
//! rollback is refused.
//!
//! A rollback is only as safe as the downgrade it takes. The rules:
//!
//! - **Declared downgrades only.** A device goes back along the manifest's `downgrades`
//!   (never along an upgrade edge backwards), possibly over several of them, by the fewest
//!   hops. Blocked releases are never a rollback target or a hop.
//! - **Data schemas.** In a format 2 manifest, releases say which data schema they write
//!   (`schema`, such as the device shadow document's `shadow-2.0`) and which others they can
//!   read (`reads`). A downgrade from A to B is safe when B writes A's schema or reads it (the
//!   field report's rule: firmware must read data from N-1 and N+1). Otherwise it crosses a
//!   breaking change and is refused ([`RollbackError::BreakingChange`]) unless the downgrade
//!   declares a `migration` (the component that converts the data back). A release without a
//!   `schema` makes no claim and is not checked.
//! - **The previous version first, then the closest safe point.** A device rolls back to
//!   the version it ran before the rollout. When no safe downgrade leads there (a legacy
//!   module that took a bridge release cannot go back to TURN firmware), it goes to the
//!   oldest release of its upgrade path it can safely reach (the bridge): a *partial*
//!   rollback, which names why the previous version was refused. Only when no release of
//!   its path is reachable is the rollback refused.
//!
//! ```
//! use fleetpath::UpgradeGraph;
//! use fleetpath::rollback::{RollbackError, rollback_route};
//!
//! let graph = UpgradeGraph::from_json(r#"{"format_version": 2,
//!   "releases": [
//!     {"version": "5.6.14", "schema": "shadow-1.0"},
//!     {"version": "5.6.30", "schema": "shadow-1.0", "reads": ["shadow-2.0"]},
//!     {"version": "6.15.008", "schema": "shadow-2.0"}],
//!   "edges": [{"from": "5.6.14", "to": "5.6.30"}, {"from": "5.6.30", "to": "6.15.008"}],
//!   "downgrades": [{"from": "6.15.008", "to": "5.6.30"}, {"from": "6.15.008", "to": "5.6.14"}]}"#)?;
//! let (new, bridge, legacy) = ("6.15.008".parse()?, "5.6.30".parse()?, "5.6.14".parse()?);
//! // The bridge reads the MQTT firmware's shadow-2.0 data: a safe rollback.
//! assert_eq!(rollback_route(&graph, &new, &bridge, None)?.hops.len(), 1);
//! // 5.6.14 cannot read it, and the downgrade declares no migration.
//! let err = rollback_route(&graph, &new, &legacy, None).unwrap_err();
//! assert_eq!(err.code(), "breaking_change");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::Codes;
use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::graph::{Artifact, Constraints, Migration, ReleaseSpec, ReleaseStatus, Role, UpgradeGraph};
use crate::rollout::{DeviceStatus, Rollout};
use crate::version::Version;

/// One declared downgrade a rollback takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DowngradeHop {
    /// The version the device runs before the hop.
    pub from: Version,
    /// The older version the hop installs.
    pub to: Version,
    /// The firmware binary of `to`, if the manifest declares one.
    pub artifact: Option<Artifact>,
    /// Index of the declaring entry in the manifest's `downgrades`.
    pub downgrade: usize,
    /// The migration the downgrade declares, when it crosses a schema change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<Migration>,
}

/// A rollback: the downgrades from a device's version to an older one, in order. Its JSON
/// form also lists [`RollbackRoute::versions`] (`"versions"`), as a [`Path`](crate::Path)'s
/// does; reading a route back ignores that list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RollbackRoute {
    /// The version the device runs now.
    pub from: Version,
    /// The version it goes back to.
    pub to: Version,
    /// The downgrades, in order (empty when `from` is `to`).
    pub hops: Vec<DowngradeHop>,
}

impl RollbackRoute {
    /// Every version on the route, the device's first.
    pub fn versions(&self) -> Vec<&Version> {
        std::iter::once(&self.from).chain(self.hops.iter().map(|h| &h.to)).collect()
    }
}

impl Serialize for RollbackRoute {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("RollbackRoute", 4)?;
        s.serialize_field("from", &self.from)?;
        s.serialize_field("to", &self.to)?;
        s.serialize_field("hops", &self.hops)?;
        s.serialize_field("versions", &self.versions())?;
        s.end()
    }
}

/// Why a rollback was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, Codes)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RollbackError {
    /// The version is not a release of the graph.
    #[error("unknown release \"{version}\" ({role})")]
    #[code("unknown_version")]
    UnknownVersion {
        /// The version.
        version: Version,
        /// Which end.
        role: Role,
    },
    /// The rollback target is not older than the device's version.
    #[error("rollback target \"{to}\" is not older than \"{from}\"")]
    #[code("not_older")]
    NotOlder {
        /// The device's version.
        from: Version,
        /// The target.
        to: Version,
    },
    /// The rollback target is blocked.
    #[error("rollback target \"{to}\" is blocked: {reason}")]
    #[code("target_blocked")]
    TargetBlocked {
        /// The target.
        to: Version,
        /// Why it is blocked.
        reason: String,
    },
    /// No chain of declared downgrades leads there.
    #[error(
        "no declared downgrade leads from \"{from}\" to \"{to}\"{for_model}; the oldest release reachable is \"{furthest}\"",
        for_model = model.as_deref().map(|m| format!(" for model {m:?}")).unwrap_or_default()
    )]
    #[code("no_downgrade_path")]
    NoDowngradePath {
        /// The device's version.
        from: Version,
        /// The target.
        to: Version,
        /// The hardware model, if one was given.
        model: Option<String>,
        /// The oldest release the declared downgrades reach (`from` when none).
        furthest: Version,
    },
    /// Every chain of declared downgrades crosses a data schema change without a migration.
    #[error(
        "downgrade \"{hop_from}\" -> \"{hop_to}\" crosses a breaking change: \"{hop_to}\" cannot read schema {from_schema:?} (it writes {to_schema:?}) and the downgrade declares no migration"
    )]
    #[code("breaking_change")]
    BreakingChange {
        /// The device's version.
        from: Version,
        /// The target.
        to: Version,
        /// The first unsafe downgrade of the shortest chain: from …
        hop_from: Version,
        /// … to.
        hop_to: Version,
        /// The schema the newer release writes.
        from_schema: String,
        /// The schema the older release writes.
        to_schema: String,
    },
}

/// Whether the data written by `newer` can be read by `older` (or no schema is declared).
fn reads(newer: &ReleaseSpec, older: &ReleaseSpec) -> bool {
    match (&newer.schema, &older.schema) {
        (Some(written), Some(own)) => written == own || older.reads.iter().any(|r| r == written),
        _ => true,
    }
}

/// The shortest chain of declared downgrades from `from` to `to` that `model` may take
/// (every model when `None`), checked for data schema compatibility (see the
/// [module docs](self)).
///
/// # Errors
/// [`RollbackError`]: an unknown version, a target not older or blocked, no chain of
/// declared downgrades, or only chains that cross a schema change without a migration.
pub fn rollback_route(
    graph: &UpgradeGraph,
    from: &Version,
    to: &Version,
    model: Option<&str>,
) -> Result<RollbackRoute, RollbackError> {
    let source = graph
        .release(from)
        .ok_or_else(|| RollbackError::UnknownVersion { version: from.clone(), role: Role::Source })?;
    let target =
        graph.release(to).ok_or_else(|| RollbackError::UnknownVersion { version: to.clone(), role: Role::Target })?;
    if target.version() >= source.version() {
        return Err(RollbackError::NotOlder { from: source.version().clone(), to: target.version().clone() });
    }
    if target.status() == ReleaseStatus::Blocked {
        return Err(RollbackError::TargetBlocked {
            to: target.version().clone(),
            reason: target.reason().unwrap_or_default().to_owned(),
        });
    }
    let specs = graph.downgrade_specs();
    // Breadth-first over declared downgrades, newest target first at each step (the order
    // `downgrades_from` gives), so the chain is the shortest and the choice deterministic.
    let search = |safe_only: bool| -> (Option<Vec<DowngradeHop>>, Version) {
        let mut parent: BTreeMap<Version, Option<DowngradeHop>> = BTreeMap::new();
        parent.insert(source.version().clone(), None);
        let mut queue = VecDeque::from([source]);
        let mut furthest = source.version().clone();
        while let Some(at) = queue.pop_front() {
            if at.version() == target.version() {
                let mut hops = Vec::new();
                let mut cursor = at.version().clone();
                while let Some(Some(hop)) = parent.get(&cursor) {
                    cursor = hop.from.clone();
                    hops.push(hop.clone());
                }
                hops.reverse();
                return (Some(hops), furthest);
            }
            for (next, spec) in graph.downgrades_from(at.version(), model) {
                if next.version() < target.version()
                    || next.status() == ReleaseStatus::Blocked
                    || parent.contains_key(next.version())
                {
                    continue;
                }
                if safe_only && spec.migration.is_none() && !reads(at.spec(), next.spec()) {
                    continue;
                }
                furthest = furthest.min(next.version().clone());
                let downgrade = specs.iter().position(|d| std::ptr::eq(d, spec)).unwrap_or(usize::MAX);
                let hop = DowngradeHop {
                    from: at.version().clone(),
                    to: next.version().clone(),
                    artifact: next.artifact().cloned(),
                    downgrade,
                    migration: spec.migration.clone(),
                };
                parent.insert(next.version().clone(), Some(hop));
                queue.push_back(next);
            }
        }
        (None, furthest)
    };
    if let (Some(hops), _) = search(true) {
        return Ok(RollbackRoute { from: source.version().clone(), to: target.version().clone(), hops });
    }
    match search(false) {
        (Some(hops), _) => {
            // Some chain exists but crosses a schema change: name its first unsafe hop.
            let unsafe_hop = hops
                .iter()
                .find(|h| {
                    let (a, b) = (graph.release(&h.from), graph.release(&h.to));
                    h.migration.is_none() && a.zip(b).is_some_and(|(a, b)| !reads(a.spec(), b.spec()))
                })
                .or(hops.first());
            let (hop_from, hop_to) = unsafe_hop.map_or_else(
                || (source.version().clone(), target.version().clone()),
                |h| (h.from.clone(), h.to.clone()),
            );
            let schema = |v: &Version| graph.release(v).and_then(|r| r.spec().schema.clone()).unwrap_or_default();
            Err(RollbackError::BreakingChange {
                from: source.version().clone(),
                to: target.version().clone(),
                from_schema: schema(&hop_from),
                to_schema: schema(&hop_to),
                hop_from,
                hop_to,
            })
        }
        (None, furthest) => Err(RollbackError::NoDowngradePath {
            from: source.version().clone(),
            to: target.version().clone(),
            model: model.map(str::to_owned),
            furthest,
        }),
    }
}

/// A refused rollback in serializable form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The [`RollbackError`] code.
    pub code: String,
    /// Its message.
    pub message: String,
}

impl From<&RollbackError> for Refusal {
    fn from(e: &RollbackError) -> Self {
        Self { code: e.code().to_owned(), message: e.to_string() }
    }
}

/// Where one device goes back to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RollbackOutcome {
    /// The device already runs its previous version.
    Nothing,
    /// Back to the previous version.
    Full {
        /// The downgrades.
        route: RollbackRoute,
    },
    /// The previous version is out of reach; back to the oldest safe release of the device's
    /// upgrade path instead (no hops when the device already runs it).
    Partial {
        /// The downgrades.
        route: RollbackRoute,
        /// Why the previous version was refused.
        refused: Refusal,
    },
    /// No release of the device's path can be reached safely: an operator must act.
    Refused {
        /// Why (the refusal of the previous version).
        refused: Refusal,
    },
}

impl RollbackOutcome {
    /// The route to take, if any.
    pub fn route(&self) -> Option<&RollbackRoute> {
        match self {
            Self::Full { route } | Self::Partial { route, .. } => Some(route),
            Self::Nothing | Self::Refused { .. } => None,
        }
    }
}

/// Where a device goes back to: its `previous` version if a safe chain of declared
/// downgrades leads there, else the oldest release of its upgrade path from `previous` to
/// `target` (below `current`) that one does (see the [module docs](self)).
pub fn plan_device_rollback(
    graph: &UpgradeGraph,
    model: Option<&str>,
    previous: &Version,
    current: &Version,
    target: &Version,
) -> RollbackOutcome {
    if current == previous {
        return RollbackOutcome::Nothing;
    }
    let refused = match rollback_route(graph, current, previous, model) {
        Ok(route) => return RollbackOutcome::Full { route },
        Err(e) => e,
    };
    // The releases the device passed on its way up, oldest first.
    let constraints = Constraints { model: model.map(str::to_owned), ..Constraints::default() };
    if let Ok(path) = graph.resolve(previous, target, &constraints) {
        for hop in &path.hops {
            if hop.to == *current {
                // Nothing older is reachable: the device stays where it is, a release of its
                // path (a bridge it already reached).
                let route = RollbackRoute { from: hop.to.clone(), to: hop.to.clone(), hops: Vec::new() };
                return RollbackOutcome::Partial { route, refused: Refusal::from(&refused) };
            }
            if hop.to > *current {
                break;
            }
            if let Ok(route) = rollback_route(graph, current, &hop.to, model) {
                return RollbackOutcome::Partial { route, refused: Refusal::from(&refused) };
            }
        }
    }
    RollbackOutcome::Refused { refused: Refusal::from(&refused) }
}

/// One device's rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRollback {
    /// The device.
    pub device: String,
    /// The version it runs now.
    pub current: Version,
    /// The version it ran before the rollout.
    pub previous: Version,
    /// Where it goes.
    #[serde(flatten)]
    pub outcome: RollbackOutcome,
}

/// The rollbacks of every device a rollout rolled back, in stage and device order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackPlan {
    /// The rollout.
    pub rollout: String,
    /// One entry per rolled-back device.
    pub devices: Vec<DeviceRollback>,
}

impl RollbackPlan {
    /// The devices whose rollback was refused.
    pub fn refused(&self) -> impl Iterator<Item = &DeviceRollback> {
        self.devices.iter().filter(|d| matches!(d.outcome, RollbackOutcome::Refused { .. }))
    }
}

/// The rollback of every device of `rollout` whose status is rolled back.
pub fn plan_rollback(graph: &UpgradeGraph, rollout: &Rollout) -> RollbackPlan {
    let mut cache: BTreeMap<(Option<&str>, &Version, &Version), RollbackOutcome> = BTreeMap::new();
    let devices = rollout
        .stages
        .iter()
        .flat_map(|s| &s.devices)
        .filter(|d| d.status == DeviceStatus::RolledBack)
        .map(|d| {
            let outcome = cache
                .entry((d.model.as_deref(), &d.from, &d.version))
                .or_insert_with(|| {
                    plan_device_rollback(graph, d.model.as_deref(), &d.from, &d.version, &rollout.target)
                })
                .clone();
            DeviceRollback { device: d.id.clone(), current: d.version.clone(), previous: d.from.clone(), outcome }
        })
        .collect();
    RollbackPlan { rollout: rollout.id.clone(), devices }
}
