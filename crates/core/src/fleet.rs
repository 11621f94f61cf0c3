//! The fleet: devices, the production lines they sit on, and the firmware they run.
//!
//! A [`Fleet`] is loaded from what plants export: CSV (one row a device) or JSON. Loading
//! checks every row and names the row of a problem: a duplicate device id, an empty id, model
//! or line, a version that does not parse. [`Fleet::check_against`] then checks the versions
//! against an [`UpgradeGraph`].
//!
//! # CSV
//!
//! A header row, then one row a device. Columns, in any order (names are case-sensitive):
//!
//! | column | required | meaning |
//! |---|---|---|
//! | `id` | yes | unique device id |
//! | `model` | yes | hardware model (as the manifest names it) |
//! | `line` | yes | production line |
//! | `version` | yes | the firmware it runs now (any [`Version`] spelling) |
//! | `site` | no | the plant (calendars are per site); an empty cell means none |
//! | `label:NAME` | no | a free label `NAME`; an empty cell means no label |
//!
//! Any other column is an error, so a misspelt header never goes unnoticed. Cells are trimmed,
//! blank lines are skipped, and a UTF-8 byte-order mark (as spreadsheet exports write) is
//! ignored. There are no comment lines: a device id that starts with `#` must not vanish. Rows
//! are numbered by line in the file, as an editor shows them: the header is row 1.
//!
//! ```
//! let fleet = fleetpath::Fleet::from_csv("\
//! id,model,line,version,label:cell
//! press-01,IPM-1,press-1,v5.6.14,A
//! press-02,IPM-1,press-1,5.6.30,
//! weld-01,IPM-1,weld-1,6.15.008,B
//! ")?;
//! assert_eq!(fleet.len(), 3);
//! assert_eq!(fleet.lines(), vec![("press-1", 2), ("weld-1", 1)]);
//! assert_eq!(fleet.get("press-01").unwrap().labels["cell"], "A");
//! # Ok::<(), fleetpath::FleetError>(())
//! ```
//!
//! # JSON
//!
//! An object `{"devices": [...]}` whose devices have the fields `id`, `model`, `line`,
//! `version`, and optionally `site` and `labels` (an object of strings). Unknown fields are an
//! error. Problems are located as `devices[3]`. An empty `site` or label value is none, as an
//! empty cell of a CSV export is; a label's name cannot be empty.

use crate::Codes;
use std::collections::BTreeMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use compact_str::CompactString;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::graph::UpgradeGraph;
use crate::version::{Version, VersionError};

/// One device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Unique id.
    pub id: String,
    /// Hardware model. Shared text: a fleet read from CSV or JSON keeps each distinct model
    /// once ([`Fleet::new`] keeps what it is given).
    pub model: Arc<str>,
    /// Production line (shared, as `model`).
    pub line: Arc<str>,
    /// The plant, if known (shared, as `model`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Arc<str>>,
    /// The firmware it runs now.
    pub version: Version,
    /// Free labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl Device {
    /// The checks a fleet makes of each device (`at`: where it was stated, for the error):
    /// `id`, `model` and `line` not empty, and no text field with leading or trailing
    /// whitespace.
    ///
    /// # Errors
    /// [`FleetError::EmptyField`] or [`FleetError::PaddedField`].
    pub fn check(&self, at: &str) -> Result<(), FleetError> {
        self.check_at(|| at.to_owned())
    }

    /// [`Device::check`] with `at` written only for an error.
    fn check_at(&self, at: impl Fn() -> String) -> Result<(), FleetError> {
        let required = [("id", self.id.as_str()), ("model", &self.model), ("line", &self.line)];
        if let Some((field, _)) = required.iter().find(|(_, value)| value.trim().is_empty()) {
            return Err(FleetError::EmptyField { at: at(), field });
        }
        let padded = |value: &str| value.trim() != value;
        let refused = |field: String, value: &str| FleetError::PaddedField { at: at(), field, value: value.to_owned() };
        for (field, value) in required.into_iter().chain(self.site.as_deref().map(|v| ("site", v))) {
            if padded(value) {
                return Err(refused(field.to_owned(), value));
            }
        }
        for (name, value) in &self.labels {
            if name.is_empty() {
                return Err(FleetError::EmptyField { at: at(), field: "label name" });
            }
            if padded(name) {
                return Err(refused("label name".to_owned(), name));
            }
            if padded(value) {
                return Err(refused(format!("label:{name}"), value));
            }
        }
        Ok(())
    }
}

/// Why a fleet could not be loaded or checked. `at` names the row (`row 12`, the header being
/// row 1) or the JSON entry (`devices[3]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, Codes)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FleetError {
    /// The JSON cannot be read as the document: malformed, an unknown or missing field, a
    /// wrong type. Its line, column and path say where.
    #[error(transparent)]
    #[code(source)]
    Json(#[from] crate::JsonError),
    /// The CSV is malformed (such as a row with more cells than the header).
    #[error("invalid fleet CSV at {at}: {message}")]
    #[code("invalid_csv")]
    Csv {
        /// Where.
        at: String,
        /// What the CSV reader said.
        message: String,
    },
    /// A required CSV column is missing from the header.
    #[error("fleet CSV has no {column:?} column")]
    #[code("missing_column")]
    MissingColumn {
        /// The column.
        column: String,
    },
    /// A CSV column that is neither a known column nor `label:NAME`.
    #[error("fleet CSV has an unknown column {column:?} (expected id, model, line, version, site or label:NAME)")]
    #[code("unknown_column")]
    UnknownColumn {
        /// The column, as written.
        column: String,
    },
    /// A column appears twice in the CSV header.
    #[error("fleet CSV has the column {column:?} twice")]
    #[code("duplicate_column")]
    DuplicateColumn {
        /// The column.
        column: String,
    },
    /// A required value is empty.
    #[error("{at}: {field} is empty")]
    #[code("empty_field")]
    EmptyField {
        /// Where.
        at: String,
        /// Which field (`id`, `model`, `line` or `version`).
        field: &'static str,
    },
    /// A value with leading or trailing whitespace (in JSON; CSV cells are trimmed): an id
    /// `"b "` would not be the device `b` that authenticates, and would change through CSV.
    #[error("{at}: {field} {value:?} has leading or trailing whitespace")]
    #[code("padded_field")]
    PaddedField {
        /// Where.
        at: String,
        /// Which field (`id`, `model`, `line`, `site`, `label:NAME` or `label name`).
        field: String,
        /// The value, as written.
        value: String,
    },
    /// Two devices have the same id.
    #[error("duplicate device id {id:?} at {at} (first at {first})")]
    #[code("duplicate_device")]
    DuplicateDevice {
        /// The id.
        id: String,
        /// The second occurrence.
        at: String,
        /// The first occurrence.
        first: String,
    },
    /// A version that does not parse. The code is the version error's own code.
    #[error("{at}: {source}")]
    #[code(source)]
    Version {
        /// Where.
        at: String,
        /// What is wrong with it.
        source: VersionError,
    },
    /// [`Fleet::check_against`]: a device runs a version the graph does not know.
    #[error("{at}: device {id:?} runs {version:?}, which is not a release of the graph")]
    #[code("unknown_version")]
    UnknownVersion {
        /// Where.
        at: String,
        /// The device.
        id: String,
        /// Its version, as written.
        version: String,
    },
}

/// A device as a document states it (version still a string), with where it was stated.
/// Only the id and labels are owned: the rest is read from the document's text and shared.
struct RawDevice<'a> {
    at: Origin,
    id: String,
    model: &'a str,
    line: &'a str,
    site: Option<&'a str>,
    version: &'a str,
    labels: BTreeMap<String, String>,
}

/// Where a device was stated: a CSV row (the header being row 1) or a list's entry. Kept as
/// numbers and written only when asked (a million devices, most never named in an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Row(usize),
    Entry(usize),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Row(row) => write!(f, "row {row}"),
            Self::Entry(i) => write!(f, "devices[{i}]"),
        }
    }
}

/// What a fleet being read has seen: fleets run few distinct models, lines, sites and
/// versions, so the devices of a fleet read from text share one copy of each (a clone of an
/// `Arc<str>` or a [`Version`] copies no text), and each version spelling is parsed once
/// (the memo's key is the version's own text). Models and spellings are numbered in order of
/// first use (see [`Kind`]). None holds more entries than the fleet has devices.
#[derive(Default)]
struct Shared {
    names: FxHashSet<Arc<str>>,
    models: FxHashMap<Arc<str>, u32>,
    spellings: FxHashMap<Arc<str>, (Version, u32)>,
}

/// The next number of a set of `len` entries (a fleet cannot hold 2^32 devices in memory).
fn number(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

impl Shared {
    /// The fleet's copy of a line's or a site's name.
    fn name(&mut self, text: &str) -> Arc<str> {
        if let Some(name) = self.names.get(text) {
            return Arc::clone(name);
        }
        let name: Arc<str> = Arc::from(text);
        self.names.insert(Arc::clone(&name));
        name
    }

    /// The fleet's copy of a model's name, and its number.
    fn model(&mut self, name: &str) -> (Arc<str>, u32) {
        if let Some((known, &n)) = self.models.get_key_value(name) {
            return (Arc::clone(known), n);
        }
        let n = number(self.models.len());
        let name: Arc<str> = Arc::from(name);
        self.models.insert(Arc::clone(&name), n);
        (name, n)
    }

    /// The version `text` spells, parsed once per spelling, and the spelling's number.
    fn version(&mut self, text: &str) -> Result<(Version, u32), VersionError> {
        match self.spellings.get(text) {
            Some((version, n)) => Ok((version.clone(), *n)),
            None => Ok(self.share_version(Version::parse(text)?)),
        }
    }

    /// `version` (parsed elsewhere) as the fleet's copy of its spelling, and its number.
    fn share_version(&mut self, version: Version) -> (Version, u32) {
        if let Some((known, n)) = self.spellings.get(version.as_str()) {
            return (known.clone(), *n);
        }
        let n = number(self.spellings.len());
        self.spellings.insert(Arc::clone(version.text()), (version.clone(), n));
        (version, n)
    }

    /// How many distinct models and spellings.
    fn counts(&self) -> (u32, u32) {
        (number(self.models.len()), number(self.spellings.len()))
    }
}

/// A device's model and version spelling, as numbers among the fleet's distinct ones (in
/// order of first use): what a batch over the fleet remembers answers by, without hashing
/// or comparing text per device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Kind {
    pub(crate) model: u32,
    pub(crate) version: u32,
}

/// The JSON form of a device.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a device object")]
struct JsonDevice {
    id: String,
    model: String,
    line: String,
    #[serde(default)]
    site: Option<String>,
    version: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "an object with a \"devices\" array")]
struct JsonFleet {
    devices: Vec<JsonDevice>,
}

/// A validated fleet: unique ids, non-empty models and lines, parsed versions. Devices keep
/// the order of the input. Two fleets are equal when their devices are, stated at the same
/// places.
#[derive(Debug, Clone)]
pub struct Fleet {
    devices: Vec<Device>,
    /// Where each device was stated (`row 12`, `devices[3]`), for later errors.
    origins: Vec<Origin>,
    /// Ids of up to 24 bytes stored in the key itself: no second copy on the heap, and a
    /// lookup follows no pointer.
    by_id: FxHashMap<CompactString, usize>,
    /// Per device: its [`Kind`].
    kinds: Vec<Kind>,
    /// How many distinct models and version spellings the kinds number.
    counts: (u32, u32),
}

// The kinds number spellings, which equal versions may differ in: not part of equality.
impl PartialEq for Fleet {
    fn eq(&self, other: &Self) -> bool {
        self.devices == other.devices && self.origins == other.origins
    }
}

impl Eq for Fleet {}

impl Fleet {
    /// A fleet from devices built in code. Locations in errors are `devices[i]`.
    ///
    /// # Errors
    /// [`FleetError::EmptyField`] or [`FleetError::DuplicateDevice`].
    pub fn new(devices: Vec<Device>) -> Result<Self, FleetError> {
        let mut fleet = Self::with_capacity(devices.len());
        // The devices stay as given (their texts shared as the caller shares them): replacing
        // a million separately allocated names by one would free a million small blocks, and
        // leave the allocator's free lists fragmented for whatever runs next.
        let mut shared = Shared::default();
        for (i, device) in devices.into_iter().enumerate() {
            let (_, m) = shared.model(&device.model);
            let (_, v) = shared.share_version(device.version.clone());
            fleet.push(device, Kind { model: m, version: v }, Origin::Entry(i))?;
        }
        fleet.counts = shared.counts();
        Ok(fleet)
    }

    /// Reads a fleet from CSV (see the [module docs](self) for the columns).
    ///
    /// # Errors
    /// A [`FleetError`] naming the row: malformed CSV, a missing, unknown or repeated column,
    /// an empty required cell, a duplicate id, or a version that does not parse.
    pub fn from_csv(text: &str) -> Result<Self, FleetError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // Cells are trimmed as they are read (the reader's own trimming copies every row).
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        // The reader's own line numbers skip blank lines; count newlines instead, so a row
        // number is the line an editor shows.
        let mut lines = LineCounter::new(text);
        let mut csv_error = |e: csv::Error| FleetError::Csv {
            at: e.position().map_or_else(|| "the header".to_owned(), |p| format!("row {}", lines.line_at(p.byte()))),
            message: csv_message(&e),
        };
        let header: csv::StringRecord = reader.headers().map_err(&mut csv_error)?.iter().map(str::trim).collect();
        let columns = Columns::from_header(&header)?;
        // One device a line at most: room for them at once, up to a bound (blank lines are
        // skipped, and a text of newlines must not reserve gigabytes).
        let mut fleet = Self::with_capacity(text.bytes().filter(|&b| b == b'\n').count().min(Self::RESERVE));
        let mut shared = Shared::default();
        let mut record = csv::StringRecord::new();
        let mut rows = LineCounter::new(text);
        while reader.read_record(&mut record).map_err(&mut csv_error)? {
            let row = record.position().map_or(0, |p| rows.record_line_at(p.byte()));
            let cell = |k: usize| record.get(k).unwrap_or_default().trim();
            let raw = RawDevice {
                at: Origin::Row(row),
                id: cell(columns.id).to_owned(),
                model: cell(columns.model),
                line: cell(columns.line),
                site: columns.site.map(cell).filter(|s| !s.is_empty()),
                version: cell(columns.version),
                labels: columns
                    .labels
                    .iter()
                    .map(|(name, k)| (name.clone(), cell(*k)))
                    .filter(|(_, value)| !value.is_empty())
                    .map(|(name, value)| (name, value.to_owned()))
                    .collect(),
            };
            fleet.push_raw(raw, &mut shared)?;
        }
        fleet.counts = shared.counts();
        Ok(fleet)
    }

    /// Reads a fleet from JSON: `{"devices": [...]}` (see the [module docs](self)).
    ///
    /// # Errors
    /// [`FleetError::Json`] for malformed JSON or unknown fields, otherwise as
    /// [`Fleet::from_csv`], located as `devices[i]`.
    pub fn from_json(text: &str) -> Result<Self, FleetError> {
        // serde would read a struct from an array too; a bare array of devices is a common
        // mistake that deserves a plain message.
        if let Some(offset) = text.find(|c: char| !c.is_whitespace()).filter(|&i| text[i..].starts_with('[')) {
            let line = text[..offset].matches('\n').count() + 1;
            let column = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1) + 1;
            let message = "expected an object with a \"devices\" array, found an array";
            return Err(crate::JsonError::at("fleet", line, column, "", message).into());
        }
        Self::from_doc(crate::document::from_str("fleet", text)?)
    }

    /// Reads a fleet from text in either form: JSON when its first non-blank character is `{`
    /// or `[`, a CSV export otherwise.
    ///
    /// ```
    /// let csv = fleetpath::Fleet::from_text("id,model,line,site,version\nd1,IPM-1,l1,p,5.6.14\n")?;
    /// let json = fleetpath::Fleet::from_text(r#"{"devices": [{"id": "d1", "model": "IPM-1", "line": "l1", "version": "5.6.14"}]}"#)?;
    /// assert_eq!((csv.len(), json.len()), (1, 1));
    /// # Ok::<(), fleetpath::FleetError>(())
    /// ```
    ///
    /// # Errors
    /// As [`Fleet::from_json`] or [`Fleet::from_csv`].
    pub fn from_text(text: &str) -> Result<Self, FleetError> {
        if text.trim_start().starts_with(['{', '[']) { Self::from_json(text) } else { Self::from_csv(text) }
    }

    /// Reads a fleet from a parsed JSON value: `{"devices": [...]}`, or the list of devices
    /// alone.
    ///
    /// # Errors
    /// As [`Fleet::from_json`] (JSON errors without line or column).
    pub fn from_value(value: serde_json::Value) -> Result<Self, FleetError> {
        let value = match value {
            serde_json::Value::Array(devices) => serde_json::json!({ "devices": devices }),
            other => other,
        };
        Self::from_doc(crate::document::from_value("fleet", value)?)
    }

    fn from_doc(doc: JsonFleet) -> Result<Self, FleetError> {
        let mut fleet = Self::with_capacity(doc.devices.len());
        let mut shared = Shared::default();
        for (i, d) in doc.devices.into_iter().enumerate() {
            fleet.push_raw(
                RawDevice {
                    at: Origin::Entry(i),
                    id: d.id,
                    model: &d.model,
                    line: &d.line,
                    site: d.site.as_deref(),
                    version: &d.version,
                    labels: d.labels,
                },
                &mut shared,
            )?;
        }
        fleet.counts = shared.counts();
        Ok(fleet)
    }

    /// At most this many devices' room reserved from a count the input claims.
    const RESERVE: usize = 1 << 16;

    fn with_capacity(devices: usize) -> Self {
        let mut by_id = FxHashMap::default();
        by_id.reserve(devices);
        Self {
            devices: Vec::with_capacity(devices),
            origins: Vec::with_capacity(devices),
            by_id,
            kinds: Vec::with_capacity(devices),
            counts: (0, 0),
        }
    }

    fn push_raw(&mut self, raw: RawDevice<'_>, shared: &mut Shared) -> Result<(), FleetError> {
        if raw.version.trim().is_empty() {
            return Err(FleetError::EmptyField { at: raw.at.to_string(), field: "version" });
        }
        let (version, v) =
            shared.version(raw.version).map_err(|source| FleetError::Version { at: raw.at.to_string(), source })?;
        let (model, m) = shared.model(raw.model);
        let device = Device {
            id: raw.id,
            model,
            line: shared.name(raw.line),
            site: raw.site.map(|site| shared.name(site)),
            version,
            labels: raw.labels,
        };
        self.push(device, Kind { model: m, version: v }, raw.at)
    }

    fn push(&mut self, mut device: Device, kind: Kind, at: Origin) -> Result<(), FleetError> {
        // An empty site or label value is none, as an empty CSV cell is: a fleet then writes
        // and reads back the same in both forms.
        if device.site.as_deref() == Some("") {
            device.site = None;
        }
        device.labels.retain(|_, value| !value.is_empty());
        device.check_at(|| at.to_string())?;
        // One probe of the index (a cache miss in a big fleet) both checks and inserts.
        match self.by_id.entry(CompactString::from(device.id.as_str())) {
            Entry::Occupied(first) => {
                let first = self.origins[*first.get()].to_string();
                return Err(FleetError::DuplicateDevice { id: device.id, at: at.to_string(), first });
            }
            Entry::Vacant(slot) => slot.insert(self.devices.len()),
        };
        self.devices.push(device);
        self.origins.push(at);
        self.kinds.push(kind);
        Ok(())
    }

    /// The devices, in input order.
    pub fn devices(&self) -> &[Device] {
        &self.devices
    }

    /// The number of devices.
    pub fn len(&self) -> usize {
        self.devices.len()
    }

    /// Whether the fleet has no device.
    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    /// The device with this id.
    pub fn get(&self, id: &str) -> Option<&Device> {
        self.by_id.get(id).map(|&i| &self.devices[i])
    }

    /// The index of device `id` in [`Fleet::devices`].
    pub(crate) fn position(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// Per device, its [`Kind`]; and how many distinct models and version spellings there are.
    pub(crate) fn kinds(&self) -> (&[Kind], usize, usize) {
        (&self.kinds, self.counts.0 as usize, self.counts.1 as usize)
    }

    /// Where a device was stated in its source (`row 12`, `devices[3]`).
    ///
    /// ```
    /// let fleet = fleetpath::Fleet::from_csv("id,model,line,version\nd1,IPM-1,l1,5.6.14\n")?;
    /// assert_eq!(fleet.origin("d1").as_deref(), Some("row 2"));
    /// # Ok::<(), fleetpath::FleetError>(())
    /// ```
    pub fn origin(&self, id: &str) -> Option<String> {
        self.by_id.get(id).map(|&i| self.origins[i].to_string())
    }

    /// Production lines with their device counts, sorted by name.
    pub fn lines(&self) -> Vec<(&str, usize)> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for d in &self.devices {
            *counts.entry(&*d.line).or_default() += 1;
        }
        counts.into_iter().collect()
    }

    /// Checks that every device runs a release of `graph` (spelling aside).
    ///
    /// ```
    /// let graph = fleetpath::UpgradeGraph::from_json(
    ///     r#"{"format_version": 1, "releases": [{"version": "5.6.14"}, {"version": "5.6.30"}]}"#)?;
    /// let fleet = fleetpath::Fleet::from_csv("id,model,line,version\na,IPM-1,l1,v5.6.14\nb,IPM-1,l1,5.6.99\n")?;
    /// let err = fleet.check_against(&graph).unwrap_err();
    /// assert_eq!(err.to_string(), "row 3: device \"b\" runs \"5.6.99\", which is not a release of the graph");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`FleetError::UnknownVersion`] for the first such device, in input order.
    pub fn check_against(&self, graph: &UpgradeGraph) -> Result<(), FleetError> {
        self.check_against_any(std::slice::from_ref(graph))
    }

    /// Checks that every device runs a release of one of `graphs` (a repository may keep one
    /// manifest per product line, and a fleet may mix them).
    ///
    /// ```
    /// use fleetpath::{Fleet, UpgradeGraph};
    ///
    /// let modules = UpgradeGraph::from_json(r#"{"format_version": 1, "releases": [{"version": "5.6.14"}]}"#)?;
    /// let controllers = UpgradeGraph::from_json(r#"{"format_version": 1, "releases": [{"version": "2.0.0"}]}"#)?;
    /// let fleet = Fleet::from_csv("id,model,line,version\na,IPM-1,l1,5.6.14\nb,LC-2,l1,2.0.0\n")?;
    /// fleet.check_against_any(&[modules.clone(), controllers])?;
    /// assert!(fleet.check_against_any(&[modules]).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`FleetError::UnknownVersion`] for the first device, in input order, whose version no
    /// graph has. With no graph at all, every device is unknown.
    pub fn check_against_any(&self, graphs: &[UpgradeGraph]) -> Result<(), FleetError> {
        let unknown = |d: &Device| graphs.iter().all(|g| g.release(&d.version).is_none());
        match self.devices.iter().zip(&self.origins).find(|(d, _)| unknown(d)) {
            None => Ok(()),
            Some((d, at)) => {
                Err(FleetError::UnknownVersion { at: at.to_string(), id: d.id.clone(), version: d.version.to_string() })
            }
        }
    }

    /// The fleet as CSV, in the form [`Fleet::from_csv`] reads: `id,model,line,site,version`
    /// and one `label:NAME` column per label name (sorted).
    pub fn to_csv(&self) -> String {
        let names: std::collections::BTreeSet<&str> =
            self.devices.iter().flat_map(|d| d.labels.keys().map(String::as_str)).collect();
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut header =
            vec!["id".to_owned(), "model".to_owned(), "line".to_owned(), "site".to_owned(), "version".to_owned()];
        header.extend(names.iter().map(|n| format!("label:{n}")));
        // Writing to a Vec cannot fail.
        let _ = writer.write_record(&header);
        for d in &self.devices {
            let mut row = vec![d.id.as_str(), &d.model, &d.line, d.site.as_deref().unwrap_or(""), d.version.as_str()];
            row.extend(names.iter().map(|n| d.labels.get(*n).map_or("", String::as_str)));
            let _ = writer.write_record(&row);
        }
        String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// The fleet as JSON, in the form [`Fleet::from_json`] reads.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            devices: &'a [Device],
        }
        serde_json::to_string_pretty(&Out { devices: &self.devices }).unwrap_or_default()
    }
}

/// Where each known column is in a CSV header.
struct Columns {
    id: usize,
    model: usize,
    line: usize,
    version: usize,
    site: Option<usize>,
    labels: Vec<(String, usize)>,
}

impl Columns {
    fn from_header(header: &csv::StringRecord) -> Result<Self, FleetError> {
        let mut found: BTreeMap<&str, usize> = BTreeMap::new();
        let mut labels = Vec::new();
        for (k, name) in header.iter().enumerate() {
            let known = match name {
                "id" | "model" | "line" | "version" | "site" => name,
                _ => match name.strip_prefix("label:") {
                    Some(label) if !label.trim().is_empty() => {
                        if labels.iter().any(|(l, _): &(String, usize)| l == label) {
                            return Err(FleetError::DuplicateColumn { column: name.to_owned() });
                        }
                        labels.push((label.to_owned(), k));
                        continue;
                    }
                    _ => return Err(FleetError::UnknownColumn { column: name.to_owned() }),
                },
            };
            if found.insert(known, k).is_some() {
                return Err(FleetError::DuplicateColumn { column: name.to_owned() });
            }
        }
        let required = |column: &str| {
            found.get(column).copied().ok_or_else(|| FleetError::MissingColumn { column: column.to_owned() })
        };
        Ok(Self {
            id: required("id")?,
            model: required("model")?,
            line: required("line")?,
            version: required("version")?,
            site: found.get("site").copied(),
            labels,
        })
    }
}

/// One-based line numbers of byte offsets, for offsets visited in increasing order (O(n) in
/// total).
struct LineCounter<'a> {
    text: &'a [u8],
    byte: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self { text: text.as_bytes(), byte: 0, line: 1 }
    }

    fn line_at(&mut self, byte: u64) -> usize {
        let byte = usize::try_from(byte).unwrap_or(usize::MAX).min(self.text.len());
        if byte < self.byte {
            // Not expected (records come in order), but stay correct.
            *self = Self { text: self.text, byte: 0, line: 1 };
        }
        #[allow(clippy::naive_bytecount)] // not worth a dependency: each byte is counted once
        let newlines = self.text[self.byte..byte].iter().filter(|&&b| b == b'\n').count();
        self.line += newlines;
        self.byte = byte;
        self.line
    }

    /// The line of the record the reader reports at `byte`: the reader's position is where it
    /// started reading, before any blank lines it skipped.
    fn record_line_at(&mut self, byte: u64) -> usize {
        let mut at = usize::try_from(byte).unwrap_or(usize::MAX).min(self.text.len());
        loop {
            let end = self.text[at..].iter().position(|&b| b == b'\n').map_or(self.text.len(), |i| at + i);
            let line = &self.text[at..end];
            let blank = line.iter().all(u8::is_ascii_whitespace);
            if blank && end < self.text.len() {
                at = end + 1;
            } else {
                return self.line_at(at as u64);
            }
        }
    }
}

/// The CSV reader's message without its own position prefix (the error carries the row).
fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("the row has {len} cells, the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8".to_owned(),
        _ => e.to_string(),
    }
}

crate::document::checked_documents! {
    Fleet => "fleet";
}
