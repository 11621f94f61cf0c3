//! Cincinnati, the update-graph protocol of OpenShift's update service (and of Fedora
//! CoreOS's Zincati clients): a graph of `nodes` (version, payload, metadata), `edges` as
//! pairs of node indices, and `conditionalEdges` (hops recommended unless a named risk
//! applies to the client).
//!
//! - [`UpgradeGraph::to_cincinnati`] serves a fleetpath graph, for one channel (a model, see
//!   the manifest docs' *Channels*), to Cincinnati clients: the releases a device of that
//!   model may install, and the hops it may take.
//! - [`Manifest::from_cincinnati`] reads a Cincinnati graph into a manifest: each node a
//!   release (its channels, from the `io.openshift.upgrades.graph.release.channels`
//!   metadata, as its models; its metadata as labels; a payload named by digest, or a bare
//!   SHA-256 such as Fedora CoreOS's OSTree checksums, as its artifact; Fedora CoreOS's
//!   `barrier` and `deadend` metadata as a barrier and a dead end), each edge an explicit
//!   edge, each conditional edge an edge with [`risks`](super::EdgeRisk) whose condition is
//!   its matching rules (`Always` as `"always"`, `PromQL` kept as written as `{"promql": …}`,
//!   several as `{"any": […]}`). fleetpath does not run PromQL: such a risk applies to every
//!   device until the host accepts it. A hop served both unconditionally and conditionally
//!   stays unconditional; a hop in several conditional groups carries all their risks.
//!
//! ```
//! use fleetpath::{Manifest, UpgradeGraph};
//! let served = r#"{"nodes": [
//!     {"version": "4.8.0", "payload": "", "metadata": {}},
//!     {"version": "4.8.1", "payload": "", "metadata": {}}],
//!   "edges": [[0, 1]]}"#;
//! let graph = UpgradeGraph::new(Manifest::from_cincinnati(served)?)?;
//! let path = graph.resolve(&"4.8.0".parse()?, &"4.8.1".parse()?, &Default::default())?;
//! assert_eq!(path.hops.len(), 1);
//! assert_eq!(graph.to_cincinnati(None).edges, [(0, 1)]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use super::{
    Artifact, Condition, DeviceAttributes, EdgeRisk, EdgeSpec, GraphError, Labels, Manifest, ReleaseSpec,
    ReleaseStatus, UpgradeGraph,
};
use crate::Version;

/// The metadata key under which Cincinnati lists a release's channels (comma-separated).
pub const CHANNELS_KEY: &str = "io.openshift.upgrades.graph.release.channels";
/// Fedora CoreOS's metadata for a barrier release (`"true"`).
pub const BARRIER_KEY: &str = "org.fedoraproject.coreos.updates.barrier";
/// Fedora CoreOS's metadata for a dead end (`"true"`), and its reason.
pub const DEADEND_KEY: &str = "org.fedoraproject.coreos.updates.deadend";
/// See [`DEADEND_KEY`].
pub const DEADEND_REASON_KEY: &str = "org.fedoraproject.coreos.updates.deadend_reason";

/// A Cincinnati graph document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CincinnatiGraph {
    /// The releases.
    pub nodes: Vec<CincinnatiNode>,
    /// Recommended hops: `(from, to)` indices into `nodes`.
    #[serde(default)]
    pub edges: Vec<(usize, usize)>,
    /// Hops recommended unless one of their risks applies to the client.
    #[serde(rename = "conditionalEdges", default, skip_serializing_if = "Vec::is_empty")]
    pub conditional_edges: Vec<ConditionalEdges>,
}

/// A release of a Cincinnati graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CincinnatiNode {
    /// The version, as the graph spells it.
    pub version: String,
    /// Where the release's image is (a pull spec, usually `…@sha256:<hex>`); may be empty.
    #[serde(default)]
    pub payload: String,
    /// Free metadata (channels, URLs).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

/// Hops that share one set of risks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionalEdges {
    /// The hops, by version.
    pub edges: Vec<ConditionalEdge>,
    /// Why they may not be recommended.
    pub risks: Vec<Risk>,
}

/// One conditional hop, by version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionalEdge {
    /// The version the hop leaves.
    pub from: String,
    /// The version it installs.
    pub to: String,
}

/// A named risk of a conditional hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Risk {
    /// Where the risk is explained.
    #[serde(default)]
    pub url: String,
    /// Its name, such as `ARM64SecCompError524`.
    pub name: String,
    /// What it does.
    #[serde(default)]
    pub message: String,
    /// The client conditions under which it applies (kept as written).
    #[serde(rename = "matchingRules", default, skip_serializing_if = "Vec::is_empty")]
    pub matching_rules: Vec<serde_json::Value>,
}

impl Manifest {
    /// A manifest from a Cincinnati graph's JSON text ([`CincinnatiGraph::to_manifest`]).
    ///
    /// # Errors
    /// [`GraphError::Json`] for a document that is not a Cincinnati graph (`invalid_json`
    /// with its line, column and JSON path); otherwise as [`CincinnatiGraph::to_manifest`].
    pub fn from_cincinnati(json: &str) -> Result<Self, GraphError> {
        crate::document::from_str::<CincinnatiGraph>("cincinnati graph", json)?.to_manifest()
    }
}

impl CincinnatiGraph {
    /// The graph as a manifest (see the [module docs](self) for the mapping). A channel
    /// that lists a pre-release gets a channel rule that includes pre-releases, so its
    /// target may be one, as the channel's publisher intended.
    ///
    /// # Errors
    /// [`GraphError::EdgeIndex`] for an edge naming a node that does not exist;
    /// [`GraphError::PayloadWithoutDigest`] for a payload that names no SHA-256 digest;
    /// [`GraphError::UnsupportedRule`] for a matching rule other than `Always` or `PromQL`.
    /// Everything else is checked when the manifest is loaded ([`UpgradeGraph::new`]), as
    /// for any manifest.
    pub fn to_manifest(&self) -> Result<Manifest, GraphError> {
        let mut manifest = Manifest {
            format_version: 1,
            name: None,
            description: None,
            include_prerelease: false,
            releases: Vec::with_capacity(self.nodes.len()),
            edges: Vec::with_capacity(self.edges.len()),
            downgrades: Vec::new(),
            channels: BTreeMap::new(),
        };
        for (i, node) in self.nodes.iter().enumerate() {
            manifest.releases.push(release_of(i, node)?);
            let prerelease = Version::parse(&node.version).is_ok_and(|v| v.is_prerelease());
            for channel in manifest.releases[i].models.iter().flatten().filter(|_| prerelease) {
                manifest.channels.entry(channel.to_string()).or_default().include_prerelease = true;
            }
        }
        let version = |index: usize, at: String| {
            let node = self.nodes.get(index).ok_or(GraphError::EdgeIndex { at, index, nodes: self.nodes.len() })?;
            Ok::<_, GraphError>(node.version.clone())
        };
        for (i, &(from, to)) in self.edges.iter().enumerate() {
            let (from, to) = (version(from, format!("edges[{i}][0]"))?, version(to, format!("edges[{i}][1]"))?);
            manifest.edges.push(EdgeSpec::plain(from, to));
        }
        let plain: std::collections::HashSet<(&str, &str)> =
            manifest.edges.iter().filter_map(|e| Some((e.from.as_deref()?, e.to.as_str()))).collect();
        // Conditional hops in order of first appearance, each with the risks of every group naming it.
        let mut conditional: Vec<(&ConditionalEdge, Vec<EdgeRisk>)> = Vec::new();
        for (g, group) in self.conditional_edges.iter().enumerate() {
            let risks = group
                .risks
                .iter()
                .enumerate()
                .map(|(k, r)| r.to_edge_risk(&format!("conditionalEdges[{g}].risks[{k}]")))
                .collect::<Result<Vec<_>, _>>()?;
            for hop in group.edges.iter().filter(|h| !plain.contains(&(h.from.as_str(), h.to.as_str()))) {
                match conditional.iter_mut().find(|(h, _)| (&h.from, &h.to) == (&hop.from, &hop.to)) {
                    Some((_, list)) => {
                        let new: Vec<EdgeRisk> =
                            risks.iter().filter(|r| !list.iter().any(|x| x.name == r.name)).cloned().collect();
                        list.extend(new);
                    }
                    None => conditional.push((hop, risks.clone())),
                }
            }
        }
        for (hop, risks) in conditional {
            manifest.edges.push(EdgeSpec { risks, ..EdgeSpec::plain(hop.from.clone(), hop.to.clone()) });
        }
        Ok(manifest)
    }
}

/// An artifact as a Cincinnati payload: its key when the key names its digest, otherwise
/// `<key>@sha256:<hex>`, so a client can always check what it downloads.
fn payload_of(artifact: &Artifact) -> String {
    match artifact.digest_in_key() {
        Some(_) => artifact.key.clone(),
        None => format!("{}@sha256:{}", artifact.key, artifact.sha256.to_ascii_lowercase()),
    }
}

/// A release's labels, with Fedora CoreOS's barrier and dead-end keys where they apply.
fn metadata_of(release: &super::Release) -> BTreeMap<String, String> {
    let mut metadata: BTreeMap<String, String> =
        release.labels().into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    if release.is_barrier() {
        metadata.insert(BARRIER_KEY.to_owned(), "true".to_owned());
    }
    if release.status() == ReleaseStatus::Deadend {
        metadata.insert(DEADEND_KEY.to_owned(), "true".to_owned());
        if let Some(reason) = release.reason() {
            metadata.insert(DEADEND_REASON_KEY.to_owned(), reason.to_owned());
        }
    }
    metadata
}

impl Risk {
    /// The risk as a manifest's [`EdgeRisk`]: its matching rules as the condition.
    fn to_edge_risk(&self, at: &str) -> Result<EdgeRisk, GraphError> {
        let rules = self
            .matching_rules
            .iter()
            .enumerate()
            .map(|(k, rule)| {
                condition_of(rule).ok_or_else(|| GraphError::UnsupportedRule {
                    at: format!("{at}.matchingRules[{k}]"),
                    rule: rule.to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let when = match <[Condition; 1]>::try_from(rules) {
            Ok([one]) => Some(one),
            Err(rules) if rules.is_empty() => None,
            Err(rules) => Some(Condition::Any(rules)),
        };
        Ok(EdgeRisk { name: self.name.clone(), message: self.message.clone(), url: self.url.clone(), when })
    }

    /// A manifest's risk as a Cincinnati client of `model` sees it, or `None` when its
    /// condition is false for that model. Conditions on labels (which Cincinnati clients do
    /// not send) become `Always`: the client must accept the risk to take the hop.
    fn of(risk: &EdgeRisk, model: Option<&str>) -> Option<Self> {
        let device = DeviceAttributes { model, labels: None };
        if risk.when.as_ref().is_some_and(|c| c.eval(&device) == Some(false)) {
            return None;
        }
        let rules = match &risk.when {
            Some(Condition::Promql(text)) => vec![promql_rule(text)],
            Some(Condition::Any(rules))
                if rules.iter().all(|c| matches!(c, Condition::Always | Condition::Promql(_))) =>
            {
                rules
                    .iter()
                    .map(|c| if let Condition::Promql(t) = c { promql_rule(t) } else { always_rule() })
                    .collect()
            }
            _ => vec![always_rule()],
        };
        Some(Self {
            url: risk.url.clone(),
            name: risk.name.clone(),
            message: risk.message.clone(),
            matching_rules: rules,
        })
    }
}

fn always_rule() -> serde_json::Value {
    serde_json::json!({"type": "Always"})
}

fn promql_rule(text: &str) -> serde_json::Value {
    serde_json::json!({"type": "PromQL", "promql": {"promql": text}})
}

/// A Cincinnati matching rule as a condition: `Always`, or `PromQL` (kept as written).
fn condition_of(rule: &serde_json::Value) -> Option<Condition> {
    match rule.get("type")?.as_str()? {
        "Always" => Some(Condition::Always),
        "PromQL" => Some(Condition::Promql(rule.get("promql")?.get("promql")?.as_str()?.to_owned())),
        _ => None,
    }
}

fn release_of(i: usize, node: &CincinnatiNode) -> Result<ReleaseSpec, GraphError> {
    let models = node
        .metadata
        .get(CHANNELS_KEY)
        .map(|list| list.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect::<Vec<_>>());
    let artifact = if node.payload.is_empty() {
        None
    } else if node.payload.len() == 64 && node.payload.bytes().all(|b| b.is_ascii_hexdigit()) {
        // A bare SHA-256 (Fedora CoreOS: the OSTree commit checksum).
        Some(Artifact { key: node.payload.clone(), sha256: node.payload.clone(), size: None })
    } else {
        let mut artifact = Artifact { key: node.payload.clone(), sha256: String::new(), size: None };
        let hex = artifact.digest_in_key().map(str::to_owned);
        let Some(hex) = hex else {
            return Err(GraphError::PayloadWithoutDigest {
                at: format!("nodes[{i}].payload"),
                payload: node.payload.clone(),
            });
        };
        artifact.sha256 = hex;
        Some(artifact)
    };
    let flag = |key: &str| node.metadata.get(key).is_some_and(|v| v == "true");
    let deadend = flag(DEADEND_KEY);
    Ok(ReleaseSpec {
        version: node.version.as_str().into(),
        // A node with an empty channel list belongs to no channel: every model, as written.
        models: models.filter(|m| !m.is_empty()).map(|m| m.into_iter().map(CompactString::from).collect()),
        labels: node.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<Labels>(),
        status: if deadend { ReleaseStatus::Deadend } else { ReleaseStatus::Active },
        reason: node.metadata.get(DEADEND_REASON_KEY).filter(|_| deadend).cloned(),
        barrier: flag(BARRIER_KEY),
        artifact,
        schema: None,
        reads: Vec::new(),
        notes: None,
    })
}

impl UpgradeGraph {
    /// The graph as a Cincinnati client of `model` (a channel; `None`: any model) sees it:
    /// the releases that install on it, not blocked or retired, oldest first (payload: the
    /// artifact's key, with `@sha256:<hex>` appended unless it names its digest already;
    /// metadata: the labels), and every hop it may take. Dead ends are
    /// nodes without outgoing edges, as in Cincinnati; blocked hops are left out. A hop with
    /// risks is a conditional edge, grouped with the hops of the same risks; a risk whose
    /// condition is false for `model` is left out, and a condition on labels becomes
    /// `Always` (see [`CincinnatiGraph::to_manifest`] for the other direction).
    ///
    /// ```
    /// let graph = fleetpath::UpgradeGraph::from_json(&std::fs::read_to_string(
    ///     concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/channels.json"))?)?;
    /// let stable = graph.to_cincinnati(Some("stable-4.8"));
    /// assert_eq!((stable.nodes.len(), stable.edges.len()), (1, 0));
    /// let candidate = graph.to_cincinnati(Some("candidate-4.8"));
    /// assert_eq!(candidate.edges, [(0, 1), (0, 2), (1, 2)]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_cincinnati(&self, model: Option<&str>) -> CincinnatiGraph {
        let query = self.model_query(model);
        let served = |node: u32| {
            let status = self.release_at(node).status();
            !matches!(status, ReleaseStatus::Blocked | ReleaseStatus::Retired) && self.supports(node, query)
        };
        let nodes: Vec<u32> = (0..self.len_u32()).filter(|&n| served(n)).collect();
        let index = |node: u32| nodes.binary_search(&node).ok();
        let mut edges = Vec::new();
        let mut conditional: Vec<ConditionalEdges> = Vec::new();
        for (i, &from) in nodes.iter().enumerate() {
            let (targets, weights) = self.forward(from);
            for (&to, &w) in targets.iter().zip(weights) {
                let Some(j) = index(to).filter(|_| self.edge_admits(w, query)) else { continue };
                let risks = self.edge_risks(w & super::SPEC_MASK);
                let risks: Vec<Risk> = risks.iter().filter_map(|r| Risk::of(r, model)).collect();
                if risks.is_empty() {
                    edges.push((i, j));
                    continue;
                }
                let hop = ConditionalEdge {
                    from: self.release_at(from).spec.version.to_string(),
                    to: self.release_at(to).spec.version.to_string(),
                };
                match conditional.iter_mut().find(|g| g.risks == risks) {
                    Some(group) => group.edges.push(hop),
                    None => conditional.push(ConditionalEdges { edges: vec![hop], risks }),
                }
            }
        }
        let nodes = nodes
            .iter()
            .map(|&n| {
                let release = self.release_at(n);
                CincinnatiNode {
                    version: release.spec.version.to_string(),
                    payload: release.artifact().map(payload_of).unwrap_or_default(),
                    metadata: metadata_of(release),
                }
            })
            .collect();
        edges.sort_unstable();
        CincinnatiGraph { nodes, edges, conditional_edges: conditional }
    }
}
