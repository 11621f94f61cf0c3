//! The upgrade graph manifest: the JSON document users write by hand and keep in git.
//!
//! These types are the document exactly as written (versions are strings here); they are
//! checked and compiled into an [`UpgradeGraph`](super::UpgradeGraph). Every struct rejects
//! unknown fields, so a typo such as `"modles"` is an error, not a silently ignored key.
//! `docs/manifest.md` documents every field with a complete example.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use compact_str::CompactString;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
    /// Whether range edges match pre-releases like any other version (npm's
    /// `includePrerelease`; see [`VersionRange::including_prereleases`](crate::VersionRange::including_prereleases)),
    /// unless an edge says otherwise. Default `false`: Cargo's rule, a pre-release matches only
    /// a range that names its numbers with a pre-release.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub include_prerelease: bool,
    /// Every release, in any order.
    pub releases: Vec<ReleaseSpec>,
    /// Upgrade edges (explicit or range), and blocked edges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edges: Vec<EdgeSpec>,
    /// Downgrade (rollback) edges, kept apart from upgrades: path resolution never uses them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub downgrades: Vec<DowngradeSpec>,
    /// Rules for the targets of models used as channels (such as `"candidate-4.8"`), by
    /// model name: see [`ChannelRule`].
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub channels: std::collections::BTreeMap<String, ChannelRule>,
}

/// How [`UpgradeGraph::latest_for`](super::UpgradeGraph::latest_for) picks the target of a
/// model used as a channel (Cincinnati's `candidate-4.8`, a beta ring).
///
/// ```
/// let graph = fleetpath::UpgradeGraph::from_json(r#"{"format_version": 1,
///   "releases": [{"version": "4.8.0"}, {"version": "4.9.0-rc.1", "models": ["candidate"]}],
///   "channels": {"candidate": {"include_prerelease": true}}}"#)?;
/// assert_eq!(graph.latest_for("candidate")?.version().to_string(), "4.9.0-rc.1");
/// assert_eq!(graph.latest_for("stable")?.version().to_string(), "4.8.0");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelRule {
    /// Whether the channel's target may be a pre-release (the newest release it installs
    /// on, pre-release or not). Default `false`: the newest release without one.
    #[serde(default)]
    pub include_prerelease: bool,
}

/// One firmware release.
// Also read by hand (`plain_entries.rs`): a field whose serde attributes change (a default
// added or removed, a default function, a rename) needs the same change there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseSpec {
    /// The version, as the vendor writes it (see [`Version`](crate::Version)). Held inline
    /// up to 24 bytes, as most are: a big manifest's load makes no allocation for it.
    pub version: CompactString,
    /// Hardware models this release installs on. Absent: every model. Present: not empty.
    /// Names of up to 24 bytes are held inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<CompactString>>,
    /// Free labels, such as `"protocol": "mqtt"`.
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    /// Whether the release may be installed. Defaults to active.
    #[serde(default, skip_serializing_if = "ReleaseStatus::is_active")]
    pub status: ReleaseStatus,
    /// Why the release is blocked (required then), archived, retired or a dead end (optional).
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

/// The free labels of a release, such as `"protocol": "mqtt"`: a small map sorted by name.
///
/// It reads and writes as a JSON object. A name given twice in one object is an error, so a
/// hand-written file cannot lose a label silently. It is kept as one sorted list rather than
/// a `BTreeMap`, whose smallest node takes over 500 bytes: a 10k-release graph is 5 MB
/// smaller and loads faster.
///
/// ```
/// let labels: fleetpath::graph::Labels = serde_json::from_str(r#"{"protocol": "mqtt", "bus": "can"}"#)?;
/// assert_eq!(labels.get("protocol"), Some("mqtt"));
/// assert_eq!(labels.keys().collect::<Vec<_>>(), ["bus", "protocol"]);
/// assert_eq!(serde_json::to_string(&labels)?, r#"{"bus":"can","protocol":"mqtt"}"#);
/// let twice = serde_json::from_str::<fleetpath::graph::Labels>(r#"{"bus": "can", "bus": "lin"}"#);
/// assert!(twice.unwrap_err().to_string().starts_with("duplicate label `bus`"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Vec<(String, String)>);

impl Labels {
    /// No labels.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of label `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.find(name).ok().map(|i| self.0[i].1.as_str())
    }

    /// Whether label `name` is set.
    pub fn contains_key(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    /// Sets label `name`, returning its previous value.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) -> Option<String> {
        let (name, value) = (name.into(), value.into());
        match self.find(&name) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (name, value));
                None
            }
        }
    }

    /// Removes label `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.find(name).ok().map(|i| self.0.remove(i).1)
    }

    /// How many labels are set.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no label is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `(name, value)` pairs, sorted by name.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The names, sorted.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(name))
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = (&'a str, &'a str);
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, (String, String)>, fn(&'a (String, String)) -> (&'a str, &'a str)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Labels {
    /// Later pairs replace earlier ones with the same name (as in a map).
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut labels = Self::new();
        for (k, v) in pairs {
            labels.insert(k, v);
        }
        labels
    }
}

impl From<BTreeMap<String, String>> for Labels {
    fn from(map: BTreeMap<String, String>) -> Self {
        // Already sorted and unique.
        Self(map.into_iter().collect())
    }
}

impl From<Labels> for BTreeMap<String, String> {
    fn from(labels: Labels) -> Self {
        labels.0.into_iter().collect()
    }
}

impl Serialize for Labels {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LabelsVisitor;
        impl<'de> Visitor<'de> for LabelsVisitor {
            type Value = Labels;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Labels, A::Error> {
                let mut pairs: Vec<(String, String)> = Vec::new();
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                // Stable, so that of a name given twice the first is kept for the message.
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
                if let Some(pair) = pairs.windows(2).find(|p| p[0].0 == p[1].0) {
                    return Err(de::Error::custom(format_args!("duplicate label `{}`", pair[0].0)));
                }
                Ok(Labels(pairs))
            }
        }
        deserializer.deserialize_map(LabelsVisitor)
    }
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
    /// No longer published, but devices may still run it: paths start from it and never lead
    /// into it (no edge, downgrade or rollback may target it: `edge_to_retired`), and it has no
    /// `artifact` or `barrier`. Catalogs whose oldest entry names a predecessor that is gone
    /// declare that predecessor as retired, with only its version.
    Retired,
    /// Installable and reachable, but no update may leave it (the `deadend` of Fedora `CoreOS` graphs): an
    /// explicit upgrade from it is refused (`edge_from_deadend`), a range edge generates none
    /// from it, and [`UpgradeGraph::latest_for`](super::UpgradeGraph::latest_for) never picks
    /// it. Devices on it get `no_path` with the reason `dead_end` (decisions: `on_dead_end`).
    #[serde(rename = "deadend")]
    Deadend,
}

impl ReleaseStatus {
    /// `true` for [`ReleaseStatus::Active`].
    pub fn is_active(&self) -> bool {
        *self == Self::Active
    }
}

/// A firmware binary: an object key (resolved against the artifact store, such as an S3
/// bucket and prefix), its SHA-256 and, where the manifest knows it, its size in bytes.
///
/// A content-addressed artifact (an OCI blob or image, where the registry knows the size)
/// is named by its digest: the key may be `sha256:<hex>` or end in `@sha256:<hex>`, and
/// the size left out. Such a key must name the artifact's own `sha256`
/// ([`GraphError::DigestMismatch`](super::GraphError::DigestMismatch)).
///
/// ```
/// let graph = fleetpath::UpgradeGraph::from_json(&format!(r#"{{"format_version": 1, "releases": [
///   {{"version": "1.0", "artifact": {{"key": "registry.example/fw/ipm@sha256:{0}", "sha256": "{0}"}}}}]}}"#,
///   "ab".repeat(32)))?;
/// let artifact = graph.releases()[0].artifact().unwrap();
/// assert_eq!((artifact.size, artifact.digest_in_key()), (None, Some(&*"ab".repeat(32))));
/// # Ok::<(), fleetpath::GraphError>(())
/// ```
// Also read by hand (`plain_entries.rs`), as `ReleaseSpec` is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// Object key, such as `firmware/ipm/6.15.008.bin`, or a digest reference.
    pub key: String,
    /// Lowercase or uppercase hex SHA-256 of the binary (64 characters).
    pub sha256: String,
    /// Size in bytes (greater than zero), when the manifest states it: checked against the
    /// store's where both are known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl Artifact {
    /// The hex SHA-256 a content-addressed key names: the 64 hex characters after a final
    /// `sha256:` that starts the key or follows `@`, `/` or `:`; `None` for any other key.
    pub fn digest_in_key(&self) -> Option<&str> {
        let (before, hex) = self.key.rsplit_once("sha256:")?;
        let starts = before.is_empty() || before.ends_with(['@', '/', ':']);
        (starts && hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
    }
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
    /// For a range edge: whether `from_range` matches pre-releases like any other version
    /// (`>=1.10.0, <1.10.1` then takes `1.10.1-rc1`). Absent: the manifest's
    /// `include_prerelease`. Refused on an edge without `from_range` (`unexpected_field`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_prerelease: Option<bool>,
    /// Restricts the hop to these hardware models (on top of the releases' own models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
    /// Marks the hop as forbidden, with the reason (such as "bricks TURN modules").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<String>,
    /// Makes the hop conditional (Cincinnati's conditional edges): it is withheld from a
    /// device to which one of these risks applies, unless the host accepted that risk (see
    /// [`Constraints`](super::Constraints)). Refused on a blocked edge (`unexpected_field`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risks: Vec<EdgeRisk>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A known problem of a hop for some devices: while it applies and the host has not accepted
/// it, the hop is withheld from them.
///
/// ```
/// let risk: fleetpath::graph::EdgeRisk = serde_json::from_str(r#"{
///   "name": "BootloaderTooOld", "message": "bootloaders before 2.1 cannot boot 6.x",
///   "when": {"label": {"name": "bootloader", "in": ["1.9", "2.0"]}}}"#)?;
/// assert_eq!(risk.name, "BootloaderTooOld");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeRisk {
    /// The risk's name: what a host accepts, and what a withheld answer names.
    pub name: String,
    /// What goes wrong.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Where it is explained.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// The devices it applies to; absent: every device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
}

/// A condition over a device's attributes: its hardware model and its labels (a fleet
/// record's `labels`, such as `"region"`, `"bootloader"`, `"board_rev"`).
///
/// Each form is one JSON key (or the string `"always"`):
///
/// | form | true when |
/// |---|---|
/// | `"always"` | always |
/// | `{"model": ["IPM-1", …]}` | the device's model is one of these |
/// | `{"label": {"name": "region", "in": ["eu", …]}}` | the device has the label with one of these values |
/// | `{"all": [c, …]}` / `{"any": [c, …]}` / `{"not": c}` | every / some / not |
/// | `{"promql": "…"}` | unknown: a Cincinnati PromQL rule, kept as written |
///
/// An attribute the caller does not give (no model, or no labels at all) makes the
/// condition *unknown*, and so does a PromQL rule: a risk whose condition is not known to be
/// false applies. Nothing is assumed in a device's favour.
///
/// ```
/// use fleetpath::graph::Condition;
/// let c: Condition = serde_json::from_str(r#"{"any": [{"model": ["IPM-1"]}, {"not": "always"}]}"#)?;
/// assert_eq!(c, Condition::Any(vec![Condition::Model(vec!["IPM-1".into()]), Condition::Not(Box::new(Condition::Always))]));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// Every device.
    Always,
    /// Devices of one of these hardware models.
    Model(Vec<String>),
    /// Devices whose label `name` has one of the values `in`.
    Label(LabelCondition),
    /// Every condition holds (true when empty).
    All(Vec<Condition>),
    /// Some condition holds (false when empty).
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
    /// A Cincinnati PromQL rule, kept as written; never evaluated (unknown, so the risk applies).
    Promql(String),
}

/// `{"name": …, "in": […]}` of [`Condition::Label`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelCondition {
    /// The label's name.
    pub name: String,
    /// The values that match.
    #[serde(rename = "in")]
    pub values: Vec<String>,
}

/// What a caller knows about a device when conditions are evaluated: its model and labels,
/// each `None` when unknown.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeviceAttributes<'a> {
    /// The hardware model.
    pub model: Option<&'a str>,
    /// The labels.
    pub labels: Option<&'a BTreeMap<String, String>>,
}

impl Condition {
    /// Three-valued evaluation: `Some(true)`, `Some(false)`, or `None` when it depends on an
    /// attribute `device` does not give (or on PromQL).
    ///
    /// ```
    /// use fleetpath::graph::{Condition, DeviceAttributes};
    /// let c = Condition::Model(vec!["IPM-1".into()]);
    /// assert_eq!(c.eval(&DeviceAttributes { model: Some("IPM-2"), labels: None }), Some(false));
    /// assert_eq!(c.eval(&DeviceAttributes::default()), None);
    /// ```
    pub fn eval(&self, device: &DeviceAttributes<'_>) -> Option<bool> {
        match self {
            Self::Always => Some(true),
            Self::Promql(_) => None,
            Self::Model(models) => device.model.map(|m| models.iter().any(|x| x == m)),
            Self::Label(l) => device.labels.map(|ls| ls.get(&l.name).is_some_and(|v| l.values.contains(v))),
            Self::Not(c) => c.eval(device).map(|b| !b),
            Self::All(cs) => Self::combine(cs, false, device),
            Self::Any(cs) => Self::combine(cs, true, device),
        }
    }

    /// `all` (`decisive` false) or `any` (`decisive` true): the decisive value as soon as one
    /// condition has it; otherwise unknown if one is unknown, else the other value.
    fn combine(conditions: &[Self], decisive: bool, device: &DeviceAttributes<'_>) -> Option<bool> {
        let mut known = true;
        for c in conditions {
            match c.eval(device) {
                Some(b) if b == decisive => return Some(decisive),
                None => known = false,
                Some(_) => {}
            }
        }
        known.then_some(!decisive)
    }

    /// Whether the condition can hold for some device whose model is one of `models`
    /// (`None`: any model): `false` only when it is false for every such device, whatever
    /// its labels. Conservative: `true` when unsure.
    pub fn can_hold(&self, models: Option<&[&str]>) -> bool {
        match self {
            Self::Always | Self::Promql(_) => true,
            Self::Model(ms) => ms.iter().any(|m| models.is_none_or(|ok| ok.contains(&m.as_str()))),
            Self::Label(l) => !l.values.is_empty(),
            Self::Not(c) => !matches!(**c, Self::Always) && !matches!(&**c, Self::All(cs) if cs.is_empty()),
            Self::All(cs) => cs.iter().all(|c| c.can_hold(models)),
            Self::Any(cs) => cs.iter().any(|c| c.can_hold(models)),
        }
    }

    /// Every label name the condition reads, in order of appearance.
    pub fn labels(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.visit(&mut |c| {
            if let Self::Label(l) = c {
                out.push(l.name.as_str());
            }
        });
        out
    }

    fn visit<'c>(&'c self, f: &mut dyn FnMut(&'c Self)) {
        f(self);
        if let Self::All(cs) | Self::Any(cs) = self {
            for c in cs {
                c.visit(f);
            }
        }
        if let Self::Not(c) = self {
            c.visit(f);
        }
    }
}

impl EdgeRisk {
    /// Whether the risk applies to `device`: its condition is true or unknown.
    pub fn applies(&self, device: &DeviceAttributes<'_>) -> bool {
        self.when.as_ref().is_none_or(|c| c.eval(device) != Some(false))
    }
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
    /// a format version this library reads) but not its meaning:
    /// [`UpgradeGraph::new`](super::UpgradeGraph::new) does that (fields a newer format
    /// version introduced included), reporting every problem at once.
    ///
    /// # Errors
    /// [`GraphError::Json`](super::GraphError::Json) with the line and column of a syntax or
    /// shape error, or [`GraphError::UnsupportedFormat`](super::GraphError::UnsupportedFormat).
    pub fn from_json(json: &str) -> Result<Self, super::GraphError> {
        let manifest: Self = crate::document::from_str("manifest", json)?;
        manifest.check_format()?;
        Ok(manifest)
    }

    /// Like [`Manifest::from_json`], from a parsed JSON value (what bindings receive).
    ///
    /// # Errors
    /// As [`Manifest::from_json`]; shape errors carry no line or column (both are 0).
    pub fn from_value(value: serde_json::Value) -> Result<Self, super::GraphError> {
        let manifest: Self = crate::document::from_value("manifest", value)?;
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
        super::build::check_supported(self)
    }
}

/// A manifest document as [`UpgradeGraph::from_json`](super::UpgradeGraph::from_json) reads
/// it: [`Manifest`] with its edges read as [`WireEdge`]s, which borrow their versions from the
/// text. A graph keeps most edges as the two releases they name, so the two strings each edge
/// of a big manifest would take are never made. Reads and fails exactly as [`Manifest`] does
/// (same shape, same messages: the type has its name, in a module of its own).
pub(super) type ManifestWire<'a> = wire::Manifest<'a>;

mod wire {
    use super::{BTreeMap, ChannelRule, Deserialize, DowngradeSpec, WireEdge};

    // `plain_entries::read` (all but `small-json` builds) reads these fields too, by hand, and
    // `ReleaseSpec`'s and `Artifact`'s: a field added to one of them fails its build until it
    // reads it there, and a field given serde attributes of its own (a default function, a
    // rename) needs the same rule there.
    #[derive(Deserialize)]
    #[cfg_attr(test, derive(Debug))]
    #[serde(deny_unknown_fields)]
    pub(in crate::graph) struct Manifest<'a> {
        pub(in crate::graph) format_version: u32,
        #[serde(default)]
        pub(in crate::graph) name: Option<String>,
        #[serde(default)]
        pub(in crate::graph) description: Option<String>,
        #[serde(default)]
        pub(in crate::graph) include_prerelease: bool,
        pub(in crate::graph) releases: super::ReleaseEntries,
        #[serde(default, borrow)]
        pub(in crate::graph) edges: Vec<WireEdge<'a>>,
        #[serde(default)]
        pub(in crate::graph) downgrades: Vec<DowngradeSpec>,
        #[serde(default)]
        pub(in crate::graph) channels: BTreeMap<String, ChannelRule>,
    }

    impl<'a> Manifest<'a> {
        /// The document but its releases and edges (both left empty), its releases, and its
        /// edges.
        pub(in crate::graph) fn split(self) -> (super::Manifest, super::ReleaseEntries, Vec<WireEdge<'a>>) {
            let Self { format_version, name, description, include_prerelease, releases, edges, downgrades, channels } =
                self;
            let manifest = super::Manifest {
                format_version,
                name,
                description,
                include_prerelease,
                releases: Vec::new(),
                edges: Vec::new(),
                downgrades,
                channels,
            };
            (manifest, releases, edges)
        }
    }
}

/// Release entries as the graph's build reads them: each read into its own box and never moved
/// again (the graph keeps the boxes), where a vector of entries would be copied as it grows and
/// again into the graph (a big manifest's entries are megabytes).
pub(super) type ReleaseEntries = Vec<Box<ReleaseSpec>>;

/// An `edges` entry as read from text: a plain upgrade (`from` and `to`, nothing else) whose
/// versions need no unescaping, borrowed from the text, or any other entry (32 bytes: a big
/// manifest holds a hundred thousand).
#[derive(Debug)]
pub(super) enum WireEdge<'a> {
    Plain { from: &'a str, to: &'a str },
    Spec(Box<EdgeSpec>),
}

/// What the graph's build reads of an `edges` entry, whichever way it was read.
pub(super) trait EdgeFields {
    fn from(&self) -> Option<&str>;
    fn range(&self) -> Option<&str>;
    fn to(&self) -> &str;
    fn include_prerelease(&self) -> Option<bool>;
    fn models(&self) -> Option<&[String]>;
    fn blocked(&self) -> Option<&str>;
    fn risks(&self) -> &[EdgeRisk];
}

impl EdgeFields for EdgeSpec {
    fn from(&self) -> Option<&str> {
        self.from.as_deref()
    }
    fn range(&self) -> Option<&str> {
        self.from_range.as_deref()
    }
    fn to(&self) -> &str {
        &self.to
    }
    fn include_prerelease(&self) -> Option<bool> {
        self.include_prerelease
    }
    fn models(&self) -> Option<&[String]> {
        self.models.as_deref()
    }
    fn blocked(&self) -> Option<&str> {
        self.blocked.as_deref()
    }
    fn risks(&self) -> &[EdgeRisk] {
        &self.risks
    }
}

impl EdgeFields for WireEdge<'_> {
    fn from(&self) -> Option<&str> {
        match self {
            Self::Plain { from, .. } => Some(from),
            Self::Spec(spec) => spec.from(),
        }
    }
    fn range(&self) -> Option<&str> {
        match self {
            Self::Plain { .. } => None,
            Self::Spec(spec) => spec.range(),
        }
    }
    fn to(&self) -> &str {
        match self {
            Self::Plain { to, .. } => to,
            Self::Spec(spec) => spec.to(),
        }
    }
    fn include_prerelease(&self) -> Option<bool> {
        match self {
            Self::Plain { .. } => None,
            Self::Spec(spec) => spec.include_prerelease(),
        }
    }
    fn models(&self) -> Option<&[String]> {
        match self {
            Self::Plain { .. } => None,
            Self::Spec(spec) => spec.models(),
        }
    }
    fn blocked(&self) -> Option<&str> {
        match self {
            Self::Plain { .. } => None,
            Self::Spec(spec) => spec.blocked(),
        }
    }
    fn risks(&self) -> &[EdgeRisk] {
        match self {
            Self::Plain { .. } => &[],
            Self::Spec(spec) => spec.risks(),
        }
    }
}

impl WireEdge<'_> {
    /// The entry as the manifest type holds it.
    pub(super) fn into_spec(self) -> EdgeSpec {
        match self {
            Self::Plain { from, to } => EdgeSpec::plain(from.to_owned(), to.to_owned()),
            Self::Spec(spec) => *spec,
        }
    }
}

impl EdgeSpec {
    /// An upgrade edge from one release to another, with nothing else said.
    pub(super) fn plain(from: String, to: String) -> Self {
        Self {
            from: Some(from),
            from_range: None,
            to,
            include_prerelease: None,
            models: None,
            blocked: None,
            risks: Vec::new(),
            notes: None,
        }
    }
}

/// A string that borrows from the text when it can (no escapes to undo).
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            // As `String`'s own visitor: the messages stay those of `EdgeSpec`.
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Text<'de>, E> {
                let text = std::str::from_utf8(v).map_err(|_| E::invalid_value(de::Unexpected::Bytes(v), &self))?;
                Ok(Text(Cow::Owned(text.to_owned())))
            }
        }
        deserializer.deserialize_string(TextVisitor)
    }
}

/// The fields of [`EdgeSpec`], in declaration order (as its derived reader names them).
const EDGE_FIELDS: &[&str] = &["from", "from_range", "to", "include_prerelease", "models", "blocked", "risks", "notes"];

/// A field's name, as `EdgeSpec`'s derived reader identifies it.
enum EdgeField {
    From,
    FromRange,
    To,
    IncludePrerelease,
    Models,
    Blocked,
    Risks,
    Notes,
}
impl<'de> Deserialize<'de> for EdgeField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EdgeFieldVisitor;
        impl Visitor<'_> for EdgeFieldVisitor {
            type Value = EdgeField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("field identifier")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<EdgeField, E> {
                let field = usize::try_from(v).ok().and_then(|i| EDGE_FIELDS.get(i)).copied();
                let field =
                    field.ok_or_else(|| E::invalid_value(de::Unexpected::Unsigned(v), &"field index 0 <= i < 8"))?;
                self.visit_str(field)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<EdgeField, E> {
                Ok(match v {
                    "from" => EdgeField::From,
                    "from_range" => EdgeField::FromRange,
                    "to" => EdgeField::To,
                    "include_prerelease" => EdgeField::IncludePrerelease,
                    "models" => EdgeField::Models,
                    "blocked" => EdgeField::Blocked,
                    "risks" => EdgeField::Risks,
                    "notes" => EdgeField::Notes,
                    _ => return Err(E::unknown_field(v, EDGE_FIELDS)),
                })
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<EdgeField, E> {
                match std::str::from_utf8(v) {
                    Ok(v) => self.visit_str(v),
                    Err(_) => Err(E::unknown_field(&String::from_utf8_lossy(v), EDGE_FIELDS)),
                }
            }
        }
        deserializer.deserialize_identifier(EdgeFieldVisitor)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for WireEdge<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EdgeVisitor;
        impl<'de> Visitor<'de> for EdgeVisitor {
            type Value = WireEdge<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct EdgeSpec")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<WireEdge<'de>, A::Error> {
                // As a list of field values: `EdgeSpec`'s own reader, for its exact rules.
                EdgeSpec::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(|spec| WireEdge::Spec(Box::new(spec)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireEdge<'de>, A::Error> {
                /// Reads a field's value, refusing a field given twice before its value (as
                /// serde's derive does, so errors are at the same place).
                fn once<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
                    map: &mut A,
                    slot: &mut Option<T>,
                    name: &'static str,
                ) -> Result<(), A::Error> {
                    if slot.is_some() {
                        return Err(de::Error::duplicate_field(name));
                    }
                    *slot = Some(map.next_value()?);
                    Ok(())
                }
                let mut from: Option<Option<Text<'de>>> = None;
                let mut from_range: Option<Option<String>> = None;
                let mut to: Option<Text<'de>> = None;
                let mut include_prerelease: Option<Option<bool>> = None;
                let mut models: Option<Option<Vec<String>>> = None;
                let mut blocked: Option<Option<String>> = None;
                let mut risks: Option<Vec<EdgeRisk>> = None;
                let mut notes: Option<Option<String>> = None;
                while let Some(field) = map.next_key::<EdgeField>()? {
                    match field {
                        EdgeField::From => once(&mut map, &mut from, "from")?,
                        EdgeField::FromRange => once(&mut map, &mut from_range, "from_range")?,
                        EdgeField::To => once(&mut map, &mut to, "to")?,
                        EdgeField::IncludePrerelease => once(&mut map, &mut include_prerelease, "include_prerelease")?,
                        EdgeField::Models => once(&mut map, &mut models, "models")?,
                        EdgeField::Blocked => once(&mut map, &mut blocked, "blocked")?,
                        EdgeField::Risks => once(&mut map, &mut risks, "risks")?,
                        EdgeField::Notes => once(&mut map, &mut notes, "notes")?,
                    }
                }
                let Some(Text(to)) = to else { return Err(de::Error::missing_field("to")) };
                let plain = from_range.is_none()
                    && include_prerelease.is_none()
                    && models.is_none()
                    && blocked.is_none()
                    && risks.is_none()
                    && notes.is_none();
                Ok(match (from, to) {
                    (Some(Some(Text(Cow::Borrowed(from)))), Cow::Borrowed(to)) if plain => WireEdge::Plain { from, to },
                    (from, to) => WireEdge::Spec(Box::new(EdgeSpec {
                        from: from.flatten().map(|Text(f)| f.into_owned()),
                        from_range: from_range.flatten(),
                        to: to.into_owned(),
                        include_prerelease: include_prerelease.flatten(),
                        models: models.flatten(),
                        blocked: blocked.flatten(),
                        risks: risks.unwrap_or_default(),
                        notes: notes.flatten(),
                    })),
                })
            }
        }
        deserializer.deserialize_struct("EdgeSpec", EDGE_FIELDS, EdgeVisitor)
    }
}
