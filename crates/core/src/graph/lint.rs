//! `lint()`: what is legal in a manifest but likely to strand devices.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::{ARCHIVED, BLOCKED, DEADEND, DeviceAttributes, ModelQuery, UpgradeGraph};

/// How serious a [`LintFinding`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Devices will be stranded: fix before rolling out.
    Error,
    /// Probably a mistake.
    Warning,
}

/// The stable code of a [`LintFinding`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LintCode {
    /// Some releases of a hardware model cannot reach the model's newest release.
    ModelCannotReachLatest,
    /// A release older than its model's newest has no usable upgrade edge out of it.
    DeadEnd,
    /// An active release that no older release of its model can upgrade to.
    UnreachableRelease,
    /// An upgrade edge leads into a blocked release.
    EdgeIntoBlocked,
    /// A release that is not blocked has no artifact.
    MissingArtifact,
    /// A range edge matches no release older than its target.
    RangeMatchesNothing,
    /// An edge or downgrade names a hardware model that no release declares.
    UnknownModel,
    /// A downgrade leads into a blocked release.
    DowngradeIntoBlocked,
    /// A hardware model with no active, non-pre-release release to upgrade to.
    ModelWithoutTarget,
    /// An edge entry repeats an earlier one exactly (same hop, models and blocked reason): the
    /// repeat is ignored.
    RepeatedEdge,
    /// A range edge also matches releases newer than its target: they get no edge from it
    /// (usually a data bug, such as a range meant to end at the target).
    RangeMatchesNewer,
    /// An edge risk whose condition no device can meet (of any model that may take the hop,
    /// or, linted against a fleet, of the fleet): it never withholds the hop.
    RiskNeverApplies,
    /// An edge risk's condition reads a label no device of the fleet carries (linted against
    /// a fleet: usually a misspelt label name).
    UnknownLabel,
}

impl LintCode {
    /// Every lint code.
    pub const ALL: &'static [LintCode] = &[
        Self::ModelCannotReachLatest,
        Self::DeadEnd,
        Self::UnreachableRelease,
        Self::EdgeIntoBlocked,
        Self::MissingArtifact,
        Self::RangeMatchesNothing,
        Self::UnknownModel,
        Self::DowngradeIntoBlocked,
        Self::ModelWithoutTarget,
        Self::RepeatedEdge,
        Self::RangeMatchesNewer,
        Self::RiskNeverApplies,
        Self::UnknownLabel,
    ];

    /// The stable `snake_case` code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ModelCannotReachLatest => "model_cannot_reach_latest",
            Self::DeadEnd => "dead_end",
            Self::UnreachableRelease => "unreachable_release",
            Self::EdgeIntoBlocked => "edge_into_blocked",
            Self::MissingArtifact => "missing_artifact",
            Self::RangeMatchesNothing => "range_matches_nothing",
            Self::UnknownModel => "unknown_model",
            Self::DowngradeIntoBlocked => "downgrade_into_blocked",
            Self::ModelWithoutTarget => "model_without_target",
            Self::RepeatedEdge => "repeated_edge",
            Self::RangeMatchesNewer => "range_matches_newer",
            Self::RiskNeverApplies => "risk_never_applies",
            Self::UnknownLabel => "unknown_label",
        }
    }

    /// The severity of findings with this code.
    pub fn severity(self) -> Severity {
        match self {
            Self::ModelCannotReachLatest | Self::DeadEnd => Severity::Error,
            _ => Severity::Warning,
        }
    }
}

impl std::fmt::Display for LintCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a [`LintFinding`] is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    /// A release, by its version as written.
    Release {
        /// The version, as written in the manifest.
        version: String,
    },
    /// An entry of the manifest's `edges`.
    Edge {
        /// Its index.
        index: usize,
    },
    /// An entry of the manifest's `downgrades`.
    Downgrade {
        /// Its index.
        index: usize,
    },
    /// A hardware model (`None`: the whole graph, when no release declares models).
    Model {
        /// The model name.
        model: Option<String>,
    },
}

/// Something legal but suspicious in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintFinding {
    /// Stable code.
    pub code: LintCode,
    /// How serious.
    pub severity: Severity,
    /// What it is about.
    pub subject: Subject,
    /// A sentence for people.
    pub message: String,
}

impl LintFinding {
    fn new(code: LintCode, subject: Subject, message: String) -> Self {
        Self { code, severity: code.severity(), subject, message }
    }
}

fn quoted_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "\"{item}\"");
    }
    out
}

impl UpgradeGraph {
    /// Reports what is legal but likely wrong, errors first, then by code, each group in
    /// manifest order (releases by version).
    ///
    /// Per hardware model (or for the whole graph when no release declares models), with the
    /// default constraints (blocked releases are not passed through):
    /// - `model_cannot_reach_latest` (error): releases that cannot reach the model's newest
    ///   release ([`UpgradeGraph::latest_for`]);
    /// - `dead_end` (error): a release older than that newest one with no usable edge out;
    /// - `unreachable_release` (warning): an active release, not the model's oldest, that no
    ///   older release can upgrade to (the classic "respin with no edges into it");
    /// - `model_without_target` (warning): no active, non-pre-release release for the model.
    ///
    /// Per entry: `edge_into_blocked`, `downgrade_into_blocked`, `missing_artifact` (releases
    /// that are not blocked), `range_matches_nothing`, `unknown_model` (all warnings).
    ///
    /// ```
    /// let graph = fleetpath::UpgradeGraph::from_json(r#"{"format_version": 1,
    ///   "releases": [{"version": "1.0"}, {"version": "1.1"}, {"version": "2.0"}],
    ///   "edges": [{"from": "1.0", "to": "2.0"}]}"#)?;
    /// let codes: Vec<&str> = graph.lint().iter().map(|f| f.code.as_str()).collect();
    /// assert!(codes.contains(&"dead_end")); // 1.1 has no way forward
    /// assert!(codes.contains(&"unreachable_release")); // nothing leads to 1.1
    /// # Ok::<(), fleetpath::GraphError>(())
    /// ```
    ///
    /// # Complexity
    /// O(M · (V + E)) for M hardware models.
    pub fn lint(&self) -> Vec<LintFinding> {
        self.lint_with(None)
    }

    /// [`UpgradeGraph::lint`], and the edge risks checked against the devices of `fleet`: a
    /// risk that applies to none of them (`risk_never_applies`), a condition reading a label
    /// none of them carries (`unknown_label`).
    ///
    /// ```
    /// let graph = fleetpath::UpgradeGraph::from_json(r#"{"format_version": 1,
    ///   "releases": [{"version": "1.0"}, {"version": "2.0"}],
    ///   "edges": [{"from": "1.0", "to": "2.0", "risks": [{"name": "OldBoot",
    ///     "when": {"label": {"name": "bootlaoder", "in": ["1"]}}}]}]}"#)?;
    /// let fleet = fleetpath::Fleet::from_csv("id,model,line,version,label:bootloader\nd1,m,l,1.0,2\n")?;
    /// let codes: Vec<&str> = graph.lint_fleet(&fleet).iter().map(|f| f.code.as_str()).collect();
    /// assert!(codes.contains(&"unknown_label") && codes.contains(&"risk_never_applies"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lint_fleet(&self, fleet: &crate::Fleet) -> Vec<LintFinding> {
        self.lint_with(Some(fleet))
    }

    fn lint_with(&self, fleet: Option<&crate::Fleet>) -> Vec<LintFinding> {
        let mut findings = Vec::new();
        self.lint_models(&mut findings);
        self.lint_entries(&mut findings);
        self.lint_risks(&mut findings, fleet);
        // Stable sort: within a code, the order of discovery (manifest / version order).
        findings.sort_by_key(|f| (f.severity, f.code));
        findings
    }

    /// Risks no device can trigger: none of the models that may take one of the entry's hops
    /// can meet the condition; with a fleet, no device of it meets it, and labels it lacks.
    fn lint_risks(&self, findings: &mut Vec<LintFinding>, fleet: Option<&crate::Fleet>) {
        let declared = self.models();
        // Per risky entry: the models that may take one of its hops (`None`: any model).
        let mut takers: BTreeMap<u32, Option<Vec<&str>>> = BTreeMap::new();
        for edge in self.compiled_edges().filter(|e| self.inner.risky.binary_search(&e.spec).is_ok()) {
            let generic = |n: u32| self.inner.flags[n as usize] & super::GENERIC != 0;
            let restricted = self.inner.edge_models.contains_key(&edge.spec);
            let entry = takers.entry(edge.spec).or_insert_with(|| Some(Vec::new()));
            if declared.is_empty() || (generic(edge.from) && generic(edge.to) && !restricted) {
                *entry = None;
            } else if let Some(list) = entry {
                for &m in &declared {
                    let query = self.model_query(Some(m));
                    let weight = if restricted { edge.spec | super::RESTRICTED } else { edge.spec };
                    let admitted = self.supports(edge.from, query)
                        && self.supports(edge.to, query)
                        && self.edge_admits(weight, query);
                    if admitted && !list.contains(&m) {
                        list.push(m);
                    }
                }
            }
        }
        let devices: Vec<DeviceAttributes<'_>> = fleet.map_or_else(Vec::new, |f| {
            f.devices().map(|d| DeviceAttributes { model: Some(d.model), labels: Some(d.labels) }).collect()
        });
        let carried: std::collections::BTreeSet<&str> =
            fleet.into_iter().flat_map(|f| f.devices().flat_map(|d| d.labels.keys().map(String::as_str))).collect();
        for (&spec, models) in &takers {
            let i = spec as usize;
            for risk in self.edge_risks(spec) {
                let Some(when) = &risk.when else { continue };
                let subject = || Subject::Edge { index: i };
                let name = &risk.name;
                if !when.can_hold(models.as_deref()) {
                    let whom = models.as_ref().map_or_else(|| "any model".to_owned(), |m| model_list_phrase(m));
                    findings.push(LintFinding::new(
                        LintCode::RiskNeverApplies,
                        subject(),
                        format!("edges[{i}] risk \"{name}\" applies to no device of {whom} that may take the hop"),
                    ));
                } else if fleet.is_some()
                    && !devices
                        .iter()
                        .filter(|d| models.as_ref().is_none_or(|ms| d.model.is_some_and(|m| ms.contains(&m))))
                        .any(|d| when.eval(d) != Some(false))
                {
                    findings.push(LintFinding::new(
                        LintCode::RiskNeverApplies,
                        subject(),
                        format!("edges[{i}] risk \"{name}\" applies to no device of the fleet that may take the hop"),
                    ));
                }
                if fleet.is_some() {
                    for label in when.labels().into_iter().filter(|l| !carried.contains(l)) {
                        findings.push(LintFinding::new(
                            LintCode::UnknownLabel,
                            subject(),
                            format!("edges[{i}] risk \"{name}\" reads label \"{label}\", which no device of the fleet carries"),
                        ));
                    }
                }
            }
        }
    }

    fn lint_models(&self, findings: &mut Vec<LintFinding>) {
        let declared = self.models();
        let contexts: Vec<(Option<&str>, ModelQuery)> = if declared.is_empty() {
            vec![(None, ModelQuery::Any)]
        } else {
            declared.iter().map(|&m| (Some(m), self.model_query(Some(m)))).collect()
        };
        // Per release: models in which it is a dead end / unreachable.
        let mut dead: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
        let mut unreachable: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
        let n = self.len_u32();
        for (name, query) in contexts {
            let members: Vec<u32> = (0..n).filter(|&i| self.supports(i, query)).collect();
            let latest = match name {
                Some(m) => self.latest_for(m).ok(),
                None => (0..n)
                    .rev()
                    .map(|i| self.release_at(i))
                    .find(|r| r.status().is_active() && !r.version.is_prerelease()),
            };
            let Some(latest) = latest else {
                // Catalogs that spell builds as `2.6.0-final` made every release a pre-release.
                let newest_pre = members
                    .iter()
                    .rev()
                    .map(|&i| self.release_at(i))
                    .find(|r| r.status().is_active() && r.version.is_prerelease());
                let hint = newest_pre.map_or_else(String::new, |r| {
                    format!(
                        " (\"{}\" is a pre-release: text after `-` is a pre-release, after `+` build metadata)",
                        r.spec.version
                    )
                });
                findings.push(LintFinding::new(
                    LintCode::ModelWithoutTarget,
                    Subject::Model { model: name.map(str::to_owned) },
                    format!("{} has no active release that is not a pre-release{hint}", model_phrase(name)),
                ));
                continue;
            };
            let latest_node = self.node(&latest.version).unwrap_or(0);
            let search = self.search(0, latest_node, super::Query::model(query), false, None);
            let view = search.view();
            // A declared dead end is meant not to go on: it is neither stranded nor a dead end.
            let deadend = |i: u32| self.inner.flags[i as usize] & DEADEND != 0;
            let stranded: Vec<u32> =
                members.iter().copied().filter(|&i| i < latest_node && view.dist(i).is_none() && !deadend(i)).collect();
            if !stranded.is_empty() {
                let names = quoted_list(stranded.iter().map(|&i| self.release_at(i).spec.version.as_str()));
                findings.push(LintFinding::new(
                    LintCode::ModelCannotReachLatest,
                    Subject::Model { model: name.map(str::to_owned) },
                    format!(
                        "{} cannot reach its newest release \"{}\" from {names}",
                        model_phrase(name),
                        latest.spec.version
                    ),
                ));
            }
            let oldest = members.first().copied();
            for &u in &members {
                let label = name.unwrap_or("");
                if u < latest_node && !deadend(u) && !self.has_way_forward(u, query) {
                    dead.entry(u).or_default().push(label);
                }
                let active = self.inner.flags[u as usize] & (BLOCKED | ARCHIVED) == 0;
                if active && Some(u) != oldest && !self.has_way_in(u, query) {
                    unreachable.entry(u).or_default().push(label);
                }
            }
        }
        for (code, table, what) in [
            (LintCode::DeadEnd, &dead, "has no usable upgrade edge out of it"),
            (LintCode::UnreachableRelease, &unreachable, "cannot be reached from any older release"),
        ] {
            for (&u, models) in table {
                let release = self.release_at(u);
                let scope = if models.iter().all(|m| m.is_empty()) {
                    String::new()
                } else {
                    format!(" for {}", model_list_phrase(models))
                };
                findings.push(LintFinding::new(
                    code,
                    Subject::Release { version: release.spec.version.to_string() },
                    format!("release \"{}\" {what}{scope}", release.spec.version),
                ));
            }
        }
    }

    /// Some edge leaves `u` to a release the model may install and pass.
    fn has_way_forward(&self, u: u32, query: ModelQuery) -> bool {
        let (targets, weights) = self.forward(u);
        targets
            .iter()
            .zip(weights)
            .any(|(&v, &w)| !self.is_blocked(v) && self.supports(v, query) && self.edge_admits(w, query))
    }

    /// Some edge from an older release of the model enters `u`.
    fn has_way_in(&self, u: u32, query: ModelQuery) -> bool {
        let (sources, weights) = self.reverse(u);
        sources.iter().zip(weights).any(|(&s, &w)| self.supports(s, query) && self.edge_admits(w, query))
    }

    fn lint_entries(&self, findings: &mut Vec<LintFinding>) {
        let manifest = &self.inner.manifest;
        let declared = self.models();
        let lookup = |text: &str| text.parse().ok().and_then(|v| self.release(&v));
        let edges = self.edge_specs();
        for (i, edge) in edges.iter().enumerate() {
            if edge.blocked.is_none()
                && let Some(to) = lookup(&edge.to).filter(|r| r.status() == super::ReleaseStatus::Blocked)
            {
                findings.push(LintFinding::new(
                    LintCode::EdgeIntoBlocked,
                    Subject::Edge { index: i },
                    format!("edges[{i}] leads into blocked release \"{}\"", to.spec.version),
                ));
            }
            if let Some(models) = &edge.models {
                Self::unknown_models(findings, models, &declared, Subject::Edge { index: i }, &format!("edges[{i}]"));
            }
        }
        for name in self.inner.manifest.channels.keys() {
            let subject = Subject::Model { model: Some(name.clone()) };
            Self::unknown_models(findings, std::slice::from_ref(name), &declared, subject, "channels");
        }
        for &(i, newer) in &self.inner.range_newer {
            let edge = &edges[i];
            findings.push(LintFinding::new(
                LintCode::RangeMatchesNewer,
                Subject::Edge { index: i },
                format!(
                    "edges[{i}] from_range \"{}\" also matches \"{}\", newer than its target \"{}\": no edge comes from it",
                    edge.from_range.as_deref().unwrap_or_default(),
                    self.release_at(newer).spec.version,
                    edge.to
                ),
            ));
        }
        for &(first, i) in &self.inner.repeats {
            let edge = &edges[i];
            findings.push(LintFinding::new(
                LintCode::RepeatedEdge,
                Subject::Edge { index: i },
                format!(
                    "edges[{i}] repeats edges[{first}] (the hop from \"{}\" to \"{}\"); the repeat is ignored",
                    edge.from.as_deref().unwrap_or_default(),
                    edge.to
                ),
            ));
        }
        for &(i, matched) in &self.inner.range_stats {
            if matched == 0 {
                let edge = &edges[i];
                findings.push(LintFinding::new(
                    LintCode::RangeMatchesNothing,
                    Subject::Edge { index: i },
                    format!(
                        "edges[{i}] from_range \"{}\" matches no release older than \"{}\"",
                        edge.from_range.as_deref().unwrap_or_default(),
                        edge.to
                    ),
                ));
            }
        }
        for (i, d) in manifest.downgrades.iter().enumerate() {
            if let Some(to) = lookup(&d.to).filter(|r| r.status() == super::ReleaseStatus::Blocked) {
                findings.push(LintFinding::new(
                    LintCode::DowngradeIntoBlocked,
                    Subject::Downgrade { index: i },
                    format!("downgrades[{i}] leads into blocked release \"{}\"", to.spec.version),
                ));
            }
            if let Some(models) = &d.models {
                let at = format!("downgrades[{i}]");
                Self::unknown_models(findings, models, &declared, Subject::Downgrade { index: i }, &at);
            }
        }
        for release in self.releases() {
            if release.artifact().is_none()
                && !matches!(release.status(), super::ReleaseStatus::Blocked | super::ReleaseStatus::Retired)
            {
                findings.push(LintFinding::new(
                    LintCode::MissingArtifact,
                    Subject::Release { version: release.spec.version.to_string() },
                    format!("release \"{}\" has no artifact", release.spec.version),
                ));
            }
        }
    }

    fn unknown_models(
        findings: &mut Vec<LintFinding>,
        models: &[String],
        declared: &[&str],
        subject: Subject,
        at: &str,
    ) {
        let unknown: Vec<&str> = models.iter().map(String::as_str).filter(|m| !declared.contains(m)).collect();
        // When no release declares models, every release installs on every model: nothing is
        // unknown.
        if !unknown.is_empty() && !declared.is_empty() {
            findings.push(LintFinding::new(
                LintCode::UnknownModel,
                subject,
                format!("{at} names {} that no release declares", model_list_phrase(&unknown)),
            ));
        }
    }
}

fn model_phrase(model: Option<&str>) -> String {
    model.map_or_else(|| "the graph".to_owned(), |m| format!("model \"{m}\""))
}

fn model_list_phrase(models: &[&str]) -> String {
    let noun = if models.len() == 1 { "model" } else { "models" };
    format!("{noun} {}", quoted_list(models.iter().copied()))
}
