//! The fleet: devices, the production lines they sit on, and the firmware they run.
//!
//! A [`Fleet`] is loaded from what plants export: CSV (one row a device), JSON, or a table of
//! columns. Loading checks every row and names the row of a problem: a duplicate device id, an
//! empty id, model or line, a version that does not parse. [`Fleet::check_against`] then
//! checks the versions against an [`UpgradeGraph`].
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
//!
//! # Tables
//!
//! A table of named text columns, the CSV export's, given in batches of rows (an Arrow table or
//! a data frame, as the Python package hands them over): [`FleetTable`] and
//! [`Fleet::from_columns`]. A null cell is an empty one; cells are not trimmed (a padded value
//! is an error, as in JSON). Problems are located as `table row 3`, counted from 0.

use crate::Codes;
use crate::u32_of;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hash as _, Hasher as _};
use std::sync::{Arc, Mutex, PoisonError};

use compact_str::CompactString;
use hashbrown::{HashTable, hash_table};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::graph::{GraphIdentity, UpgradeGraph};
use crate::version::{Version, VersionError};

mod table;
pub use table::{FleetTable, TextColumn};

/// One device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Unique id.
    pub id: String,
    /// Hardware model. Shared text: [`Fleet::to_devices`] shares each distinct model.
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
        check_fields(&self.id, &self.model, &self.line, self.site.as_deref(), &self.labels, at)
    }
}

/// The checks of [`Device::check`], on a device's fields.
fn check_fields(
    id: &str,
    model: &str,
    line: &str,
    site: Option<&str>,
    labels: &BTreeMap<String, String>,
    at: impl Fn() -> String,
) -> Result<(), FleetError> {
    // Most devices: every value starts and ends with a visible ASCII character, so none is
    // empty or padded, which one look at each end shows (a million devices are read a row at
    // a time; the checks below are the rule, for the rest).
    if visible_ends(id)
        && visible_ends(model)
        && visible_ends(line)
        && site.is_none_or(visible_ends)
        && labels.is_empty()
    {
        return Ok(());
    }
    let required = [("id", id), ("model", model), ("line", line)];
    if let Some((field, _)) = required.iter().find(|(_, value)| trim(value).is_empty()) {
        return Err(FleetError::EmptyField { at: at(), field });
    }
    let padded = |value: &str| trim(value).len() != value.len();
    let refused = |field: String, value: &str| FleetError::PaddedField { at: at(), field, value: value.to_owned() };
    for (field, value) in required.into_iter().chain(site.map(|v| ("site", v))) {
        if padded(value) {
            return Err(refused(field.to_owned(), value));
        }
    }
    for (name, value) in labels {
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

/// Why a fleet could not be loaded or checked. `at` names the CSV row (`row 12`, the header
/// being row 1), the JSON entry (`devices[3]`) or the table row (`table row 3`, the first being
/// row 0, as data frames number them).
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
    /// A required column is missing from the CSV header or the table.
    #[error("the fleet has no {column:?} column")]
    #[code("missing_column")]
    MissingColumn {
        /// The column.
        column: String,
    },
    /// A column that is neither a known column nor `label:NAME`.
    #[error("the fleet has an unknown column {column:?} (expected id, model, line, version, site or label:NAME)")]
    #[code("unknown_column")]
    UnknownColumn {
        /// The column, as written.
        column: String,
    },
    /// A column appears twice in the CSV header or the table.
    #[error("the fleet has the column {column:?} twice")]
    #[code("duplicate_column")]
    DuplicateColumn {
        /// The column.
        column: String,
    },
    /// A table of devices that cannot be read as one ([`Fleet::from_columns`]): a column of
    /// values that are not text, columns of different lengths, a batch that differs from its
    /// header.
    #[error("invalid fleet table: {message}")]
    #[code("invalid_table")]
    Table {
        /// What is wrong, naming the column.
        message: String,
    },
    /// A required value is empty.
    #[error("{at}: {field} is empty")]
    #[code("empty_field")]
    EmptyField {
        /// Where.
        at: String,
        /// Which field (`id`, `model`, `line`, `version` or `label name`).
        field: &'static str,
    },
    /// A value with leading or trailing whitespace (in JSON or a table; CSV cells are
    /// trimmed): an id `"b "` would not be the device `b` that authenticates, and would change
    /// through CSV.
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
    /// More devices than a fleet holds ([`Fleet::MAX_DEVICES`]).
    #[error("{at}: the fleet has more than {limit} devices")]
    #[code("fleet_too_large")]
    TooLarge {
        /// Where the first device past the limit was stated.
        at: String,
        /// The limit.
        limit: usize,
    },
}

/// The labels of a device that has none.
static NO_LABELS: BTreeMap<String, String> = BTreeMap::new();

/// A device as a document or a caller states it, with where it was stated. Only the labels
/// are owned: the rest is read from the document's text (or the caller's device) and copied
/// into the fleet's storage.
struct RawDevice<'a> {
    at: Origin,
    id: &'a str,
    model: &'a str,
    line: &'a str,
    site: Option<&'a str>,
    version: Spelling<'a>,
    labels: RawLabels<'a>,
}

/// A device's labels as stated.
enum RawLabels<'a> {
    /// A map (`None` when it states none: most devices, no map to drop).
    Map(Option<BTreeMap<String, String>>),
    /// A CSV record's or a table row's label cells.
    Cells(LabelCells<'a>),
}

/// A row's cells in the header's label columns (each column's label name and where it is in
/// the row).
#[derive(Clone, Copy)]
struct LabelCells<'a> {
    row: Row<'a>,
    columns: &'a [(String, usize)],
}

impl<'a> LabelCells<'a> {
    /// The cells in column order (empty ones included).
    fn cells(self) -> impl ExactSizeIterator<Item = &'a str> {
        self.columns.iter().map(move |&(_, k)| self.row.cell(k))
    }
}

/// A row of cells: a CSV record, or row `i` of a batch of a table's columns.
#[derive(Clone, Copy)]
enum Row<'a> {
    Csv(&'a csv::StringRecord),
    Table(&'a [&'a dyn TextColumn], usize),
}

impl<'a> Row<'a> {
    /// Its cell in column `k`: a CSV cell trimmed, a table's as it is (empty when null).
    #[inline]
    fn cell(self, k: usize) -> &'a str {
        match self {
            Self::Csv(record) => trim(record.get(k).unwrap_or_default()),
            Self::Table(columns, i) => columns.get(k).and_then(|column| column.cell(i)).unwrap_or_default(),
        }
    }
}

/// The hash a list of label cells is known by.
fn cells_hash<'c>(cells: impl ExactSizeIterator<Item = &'c str>) -> u64 {
    let mut hasher = rustc_hash::FxBuildHasher.build_hasher();
    hasher.write_usize(cells.len());
    for cell in cells {
        cell.hash(&mut hasher);
    }
    hasher.finish()
}

/// A device's labels once looked up: none, a set the fleet holds, or a set to add (with the
/// CSV cells that stated it and their hash, to know it by from then on).
enum Labels<'a> {
    None,
    Known(u32),
    New(BTreeMap<String, String>, Option<(u64, LabelCells<'a>)>),
}

/// A device's version as stated: text (parsed once per spelling) or already parsed.
enum Spelling<'a> {
    Text(&'a str),
    Parsed(Version),
}

/// Where a device was stated: a CSV row (the header being row 1), a list's entry or a table's
/// row (the first being row 0). Kept as numbers and written only when asked (a million
/// devices, most never named in an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Row(usize),
    Entry(usize),
    TableRow(usize),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Row(row) => write!(f, "row {row}"),
            Self::Entry(i) => write!(f, "devices[{i}]"),
            Self::TableRow(i) => write!(f, "table row {i}"),
        }
    }
}

/// What a fleet being read has seen: fleets run few distinct models, lines, sites, version
/// spellings and label sets, so the fleet stores each once and its devices hold their
/// numbers (in order of first use); each spelling is parsed once (the memo's key is the
/// version's own text). None holds more entries than the fleet has devices (names: lines and
/// sites, two a device); all are dropped once the fleet is read.
#[derive(Default)]
struct Seen {
    models: FxHashMap<Arc<str>, u32>,
    names: FxHashMap<Arc<str>, u32>,
    /// Thousands in a big fleet, each looked up again long after: a spelling of up to 24
    /// bytes is held in its index entry, one cache miss where a key of its own costs two.
    spellings: FxHashMap<CompactString, u32>,
    label_sets: FxHashMap<BTreeMap<String, String>, u32>,
    /// The label sets CSV records stated, by their cells (trimmed, in column order, empty
    /// ones included): a record whose cells an earlier one had builds no map (a million
    /// devices, a tenth of them labelled, built and dropped a hundred thousand maps).
    label_cells: HashTable<(Box<[Box<str>]>, u32)>,
}

/// The number of `text` in `list`, adding it when new.
fn intern(seen: &mut FxHashMap<Arc<str>, u32>, list: &mut Vec<Arc<str>>, text: &str) -> u32 {
    if let Some(&n) = seen.get(text) {
        return n;
    }
    let n = u32_of(list.len());
    let text: Arc<str> = Arc::from(text);
    seen.insert(Arc::clone(&text), n);
    list.push(text);
    n
}

impl Seen {
    /// The number of the version `text` spells, parsed once per spelling.
    fn spelling(&mut self, versions: &mut Vec<Version>, text: &str) -> Result<u32, VersionError> {
        match self.spellings.get(text) {
            Some(&n) => Ok(n),
            None => Ok(self.version(versions, Version::parse(text)?)),
        }
    }

    /// The number of `version`'s spelling (parsed elsewhere).
    fn version(&mut self, versions: &mut Vec<Version>, version: Version) -> u32 {
        let n = u32_of(versions.len());
        match self.spellings.entry(CompactString::from(version.as_str())) {
            std::collections::hash_map::Entry::Occupied(entry) => *entry.get(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(n);
                versions.push(version);
                n
            }
        }
    }

    /// A device's stated labels looked up: a map's empty values dropped; CSV cells found by
    /// the set an earlier record's same cells gave (checked when first met), else as a map.
    fn look_up<'a>(&self, labels: RawLabels<'a>) -> Labels<'a> {
        match labels {
            RawLabels::Map(map) => match map.map(|mut labels| {
                labels.retain(|_, value| !value.is_empty());
                labels
            }) {
                Some(labels) if !labels.is_empty() => Labels::New(labels, None),
                _ => Labels::None,
            },
            RawLabels::Cells(cells) => {
                if cells.cells().all(str::is_empty) {
                    return Labels::None;
                }
                let hash = cells_hash(cells.cells());
                let same = |(known, _): &(Box<[Box<str>]>, u32)| known.iter().map(|c| &**c).eq(cells.cells());
                if let Some(&(_, n)) = self.label_cells.find(hash, same) {
                    return Labels::Known(n);
                }
                let named = cells.columns.iter().zip(cells.cells()).filter(|(_, value)| !value.is_empty());
                let map = named.map(|((name, _), value)| (name.clone(), value.to_owned())).collect();
                Labels::New(map, Some((hash, cells)))
            }
        }
    }

    /// The number of a non-empty label set.
    fn labels(&mut self, sets: &mut Vec<BTreeMap<String, String>>, labels: BTreeMap<String, String>) -> u32 {
        if let Some(&n) = self.label_sets.get(&labels) {
            return n;
        }
        let n = u32_of(sets.len());
        sets.push(labels.clone());
        self.label_sets.insert(labels, n);
        n
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

/// A device of a [`Fleet`], as the fleet stores it: the fields of a [`Device`], borrowed.
/// Its JSON is a [`Device`]'s.
///
/// ```
/// let fleet = fleetpath::Fleet::from_csv("id,model,line,version\nd1,IPM-1,press-1,v5.6.14\n")?;
/// let d = fleet.get("d1").unwrap();
/// assert_eq!((d.model, d.line, d.site, d.version.as_str()), ("IPM-1", "press-1", None, "v5.6.14"));
/// assert_eq!(d.to_device().id, "d1");
/// # Ok::<(), fleetpath::FleetError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeviceRef<'f> {
    /// Unique id.
    pub id: &'f str,
    /// Hardware model.
    pub model: &'f str,
    /// Production line.
    pub line: &'f str,
    /// The plant, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<&'f str>,
    /// The firmware it runs now.
    pub version: &'f Version,
    /// Free labels.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: &'f BTreeMap<String, String>,
}

impl DeviceRef<'_> {
    /// The device, owned.
    pub fn to_device(&self) -> Device {
        Device {
            id: self.id.to_owned(),
            model: Arc::from(self.model),
            line: Arc::from(self.line),
            site: self.site.map(Arc::from),
            version: self.version.clone(),
            labels: self.labels.clone(),
        }
    }
}

impl From<DeviceRef<'_>> for Device {
    fn from(device: DeviceRef<'_>) -> Self {
        device.to_device()
    }
}

impl PartialEq<Device> for DeviceRef<'_> {
    fn eq(&self, other: &Device) -> bool {
        self.id == other.id
            && self.model == &*other.model
            && self.line == &*other.line
            && self.site == other.site.as_deref()
            && self.version == &other.version
            && self.labels == &other.labels
    }
}

impl PartialEq<DeviceRef<'_>> for Device {
    fn eq(&self, other: &DeviceRef<'_>) -> bool {
        other == self
    }
}

/// The devices of a [`Fleet`] in input order ([`Fleet::devices`]). Serialises as a list of
/// devices.
#[derive(Clone)]
pub struct Devices<'f> {
    fleet: &'f Fleet,
    range: std::ops::Range<usize>,
}

impl<'f> Iterator for Devices<'f> {
    type Item = DeviceRef<'f>;

    fn next(&mut self) -> Option<Self::Item> {
        self.range.next().map(|i| self.fleet.at(i))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.range.size_hint()
    }

    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        self.range.nth(n).map(|i| self.fleet.at(i))
    }
}

impl DoubleEndedIterator for Devices<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.range.next_back().map(|i| self.fleet.at(i))
    }
}

impl ExactSizeIterator for Devices<'_> {}

impl std::iter::FusedIterator for Devices<'_> {}

impl std::fmt::Debug for Devices<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl PartialEq for Devices<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.clone().eq(other.clone())
    }
}

impl Serialize for Devices<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.clone())
    }
}

/// No site (in [`Fleet`]'s per-device places).
const NO_SITE: u32 = u32::MAX;

/// A device's values but its id, as its fleet holds them (shared): what [`Fleet::at`] borrows
/// and [`Fleet::to_devices`] clones.
struct Parts<'f> {
    model: &'f Arc<str>,
    line: &'f Arc<str>,
    site: Option<&'f Arc<str>>,
    version: &'f Version,
    labels: &'f BTreeMap<String, String>,
}

/// A validated fleet: unique ids, non-empty models and lines, parsed versions. Devices keep
/// the order of the input. Two fleets are equal when their devices are, stated at the same
/// places.
///
/// A fleet is stored as columns: the ids one after another in one text, and per device the
/// numbers of its model, version spelling, line, site and label set among the fleet's
/// distinct ones (fleets run few). A device costs its id's bytes and about 50 more; read
/// one with [`Fleet::devices`] or [`Fleet::get`].
#[derive(Clone)]
pub struct Fleet {
    /// Every device's id, one after another: device `i`'s ends at `id_ends[i]`.
    id_text: String,
    id_ends: Vec<usize>,
    /// Device numbers, found by their id's hash (the ids are stored once, in `id_text`).
    /// Below [`Fleet::MAX_DEVICES`].
    by_id: HashTable<u32>,
    /// Per device: its [`Kind`] (numbers into `models` and `versions`).
    kinds: Vec<Kind>,
    /// Per device: its line and site, numbers into `names` (site [`NO_SITE`]: none).
    places: Vec<[u32; 2]>,
    /// Per device: its labels, a number into `label_sets` (the first is the empty set).
    labels: Vec<u32>,
    /// Where the devices were stated.
    origins: Origins,
    models: Vec<Arc<str>>,
    /// One per spelling: equal versions spelt differently are two entries.
    versions: Vec<Version>,
    /// Lines' and sites' names.
    names: Vec<Arc<str>>,
    label_sets: Vec<BTreeMap<String, String>>,
    /// The most devices it holds: [`Fleet::MAX_DEVICES`] (lower in a test).
    limit: usize,
    /// The releases its spellings name in the graph last asked about.
    nodes: SpellingNodes,
}

/// Where a fleet's devices were stated.
#[derive(Clone)]
enum Origins {
    /// Device `i` is a list's `devices[i]`.
    Entries,
    /// Device `i` is a table's row `i`.
    TableRows,
    /// Per device, the CSV row it was read from.
    CsvRows(Vec<usize>),
}

/// The releases a fleet's version spellings name in one graph (`None`: no release), kept for
/// the next batch over the same graph: a fleet's spellings never change, and a decider would
/// otherwise look each up again every batch. One graph at a time; a clone starts empty.
#[derive(Default)]
struct SpellingNodes(Mutex<Option<(GraphIdentity, Nodes)>>);

/// Per version spelling, its release's node in a graph (`None`: not a release).
pub(crate) type Nodes = Arc<[Option<u32>]>;

impl Clone for SpellingNodes {
    fn clone(&self) -> Self {
        Self::default()
    }
}

/// The hash a fleet finds a device id by.
fn id_hash(id: &str) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(id)
}

/// Buckets in a slice of a fleet's index of ids, filled one after another when it is built
/// (see [`Fleet::index_ids`]): 1 KiB of control bytes and 4 KiB of entries.
const INDEX_SLICE: usize = 8192;

/// Device `i`'s id in a fleet's id text.
fn id_in<'t>(text: &'t str, ends: &[usize], i: usize) -> &'t str {
    &text[id_range(ends, i)]
}

/// Where device `i`'s id lies in a fleet's id text, given where each id ends.
pub(crate) fn id_range(ends: &[usize], i: usize) -> std::ops::Range<usize> {
    (if i == 0 { 0 } else { ends[i - 1] })..ends[i]
}

// The kinds number spellings, which equal versions may differ in: not part of equality.
impl PartialEq for Fleet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.devices().eq(other.devices())
            && (0..self.len()).all(|i| self.origin_of(i) == other.origin_of(i))
    }
}

impl Eq for Fleet {}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet").field("devices", &self.devices()).finish()
    }
}

impl Fleet {
    /// The most devices a fleet holds: 2^31 - 1. Its devices, and their lines and sites
    /// (up to two names a device), are numbered by 32 bits, which keeps its index of ids and
    /// its per-device columns half the size.
    pub const MAX_DEVICES: usize = (u32::MAX / 2) as usize;

    /// At most this many devices' room reserved from a count the input claims.
    const RESERVE: usize = 1 << 20;

    /// A fleet from devices built in code. Locations in errors are `devices[i]`.
    ///
    /// # Errors
    /// [`FleetError::EmptyField`], [`FleetError::PaddedField`], [`FleetError::DuplicateDevice`]
    /// or [`FleetError::TooLarge`].
    pub fn new(devices: Vec<Device>) -> Result<Self, FleetError> {
        let mut fleet = Self::with_capacity(devices.len(), Origins::Entries);
        let mut seen = Seen::default();
        for (i, device) in devices.into_iter().enumerate() {
            let Device { id, model, line, site, version, labels } = device;
            let raw = RawDevice {
                at: Origin::Entry(i),
                id: &id,
                model: &model,
                line: &line,
                site: site.as_deref(),
                version: Spelling::Parsed(version),
                labels: RawLabels::Map(Some(labels)),
            };
            if let Err(e) = fleet.push(raw, &mut seen) {
                return fleet.finish(Err(e));
            }
        }
        fleet.finish(Ok(()))
    }

    /// Reads a fleet from CSV (see the [module docs](self) for the columns).
    ///
    /// # Errors
    /// A [`FleetError`] naming the row: malformed CSV, a missing, unknown or repeated column,
    /// an empty required cell, a padded label name, a duplicate id, a version that does not
    /// parse, or more than [`Fleet::MAX_DEVICES`] devices.
    pub fn from_csv(text: &str) -> Result<Self, FleetError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // Cells are trimmed as they are read (the reader's own trimming copies every row).
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let csv_error = |e: csv::Error| FleetError::Csv {
            at: e.position().map_or_else(|| "the header".to_owned(), |p| format!("row {}", row_line(text, p))),
            message: csv_message(&e),
        };
        let header: csv::StringRecord = reader.headers().map_err(csv_error)?.iter().map(str::trim).collect();
        let columns = Columns::from_header(&header)?;
        // One device a line at most, and a row of four cells takes at least 8 bytes: room for
        // them at once, up to a million (a text of newlines must not reserve gigabytes; a
        // bigger fleet grows as it is read).
        let newlines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
        let rows = newlines.min(text.len() / 8).min(Self::RESERVE);
        let mut fleet = Self::with_capacity(rows, Origins::CsvRows(Vec::with_capacity(rows)));
        let mut seen = Seen::default();
        // Records are read a batch at a time, then checked and stored: the reader's tables
        // stay in the cache while it reads (storing a device in a big fleet evicts them).
        // A malformed record is reported after the rows before it, as when read one by one.
        let mut batch = vec![csv::StringRecord::new(); 64];
        loop {
            let mut read = 0;
            let mut malformed = None;
            while read < batch.len() {
                match reader.read_record(&mut batch[read]) {
                    Ok(true) => read += 1,
                    Ok(false) => break,
                    Err(e) => {
                        malformed = Some(e);
                        break;
                    }
                }
            }
            for record in &batch[..read] {
                let row = record.position().map_or(0, |p| record_line(text, p));
                if let Err(e) = fleet.push(columns.device(Row::Csv(record), Origin::Row(row)), &mut seen) {
                    return fleet.finish(Err(e));
                }
            }
            if let Some(e) = malformed {
                return fleet.finish(Err(csv_error(e)));
            }
            if read < batch.len() {
                return fleet.finish(Ok(()));
            }
        }
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
            // Moved in (`json!` would copy the list through `to_value`).
            devices @ serde_json::Value::Array(_) => {
                serde_json::Value::Object([("devices".to_owned(), devices)].into_iter().collect())
            }
            other => other,
        };
        Self::from_doc(crate::document::from_value("fleet", value)?)
    }

    fn from_doc(doc: JsonFleet) -> Result<Self, FleetError> {
        let mut fleet = Self::with_capacity(doc.devices.len(), Origins::Entries);
        let mut seen = Seen::default();
        for (i, d) in doc.devices.into_iter().enumerate() {
            let raw = RawDevice {
                at: Origin::Entry(i),
                id: &d.id,
                model: &d.model,
                line: &d.line,
                site: d.site.as_deref(),
                version: Spelling::Text(&d.version),
                labels: RawLabels::Map(Some(d.labels)),
            };
            if let Err(e) = fleet.push(raw, &mut seen) {
                return fleet.finish(Err(e));
            }
        }
        fleet.finish(Ok(()))
    }

    fn with_capacity(devices: usize, origins: Origins) -> Self {
        Self {
            id_text: String::new(),
            id_ends: Vec::with_capacity(devices),
            by_id: HashTable::new(),
            kinds: Vec::with_capacity(devices),
            places: Vec::with_capacity(devices),
            labels: Vec::with_capacity(devices),
            origins,
            models: Vec::new(),
            versions: Vec::new(),
            names: Vec::new(),
            label_sets: vec![BTreeMap::new()],
            limit: Self::MAX_DEVICES,
            nodes: SpellingNodes::default(),
        }
    }

    /// Checks a device and adds it, its texts stored once (its id is checked against the
    /// others' by [`Fleet::finish`]).
    fn push(&mut self, raw: RawDevice<'_>, seen: &mut Seen) -> Result<(), FleetError> {
        let at = raw.at;
        let version = match raw.version {
            Spelling::Text(text) if trim(text).is_empty() => {
                return Err(FleetError::EmptyField { at: at.to_string(), field: "version" });
            }
            Spelling::Text(text) => seen
                .spelling(&mut self.versions, text)
                .map_err(|source| FleetError::Version { at: at.to_string(), source })?,
            Spelling::Parsed(version) => seen.version(&mut self.versions, version),
        };
        // An empty site or label value is none, as an empty CSV cell is: a fleet then writes
        // and reads back the same in both forms.
        let site = raw.site.filter(|site| !site.is_empty());
        let labels = seen.look_up(raw.labels);
        // A known set passed these checks when first met.
        let checked = if let Labels::New(labels, _) = &labels { labels } else { &NO_LABELS };
        check_fields(raw.id, raw.model, raw.line, site, checked, || at.to_string())?;
        if self.id_ends.len() >= self.limit {
            return Err(FleetError::TooLarge { at: at.to_string(), limit: self.limit });
        }
        self.id_text.push_str(raw.id);
        self.id_ends.push(self.id_text.len());
        let model = intern(&mut seen.models, &mut self.models, raw.model);
        self.kinds.push(Kind { model, version });
        let line = intern(&mut seen.names, &mut self.names, raw.line);
        let site = site.map_or(NO_SITE, |site| intern(&mut seen.names, &mut self.names, site));
        self.places.push([line, site]);
        let labels = match labels {
            Labels::None => 0,
            Labels::Known(n) => n,
            Labels::New(labels, cells) => {
                let n = seen.labels(&mut self.label_sets, labels);
                if let Some((hash, cells)) = cells {
                    let known = (cells.cells().map(Box::from).collect(), n);
                    let rehash = |(cells, _): &(Box<[Box<str>]>, u32)| cells_hash(cells.iter().map(|c| &**c));
                    seen.label_cells.insert_unique(hash, known, rehash);
                }
                n
            }
        };
        self.labels.push(labels);
        if let (Origins::CsvRows(rows), Origin::Row(row)) = (&mut self.origins, at) {
            rows.push(row);
        }
        Ok(())
    }

    /// The fleet read so far, once `read` ended: indexes the ids, then refuses the first
    /// device (in input order) whose id an earlier one has, or else returns `read`'s error.
    /// Every device before the one `read` stopped at was stored, so a repeated id found here
    /// comes first in the input, as when each device is checked as it is read.
    fn finish(mut self, read: Result<(), FleetError>) -> Result<Self, FleetError> {
        match self.duplicate() {
            Some(e) => Err(e),
            None => read.map(|()| self),
        }
    }

    /// Indexes the ids read so far; the first device (in input order) whose id an earlier one
    /// has, as an error.
    fn duplicate(&mut self) -> Option<FleetError> {
        let (first, repeat) = self.index_ids()?;
        let (id, at, first) = (self.id(repeat).to_owned(), self.origin_of(repeat), self.origin_of(first));
        Some(FleetError::DuplicateDevice { id, at: at.to_string(), first: first.to_string() })
    }

    /// Builds the index of ids and returns the first device (in input order) whose id an
    /// earlier device has, with that device.
    ///
    /// Inserting a big fleet's ids in input order writes its index at random, a cache miss
    /// a device. Instead the ids are sorted by the slice of the index where their probe
    /// starts (the hash's low bits), [`INDEX_SLICE`] buckets a slice, and inserted slice by
    /// slice: the index is written front to back, each slice staying in the cache while it
    /// fills. Within a slice the devices keep their input order, and devices with one id
    /// share a hash, so a repeated id is met after its first device. Where the probes start
    /// changes the speed alone, never the index's answers.
    fn index_ids(&mut self) -> Option<(usize, usize)> {
        let n = self.id_ends.len();
        let Self { id_text, id_ends, by_id, .. } = self;
        *by_id = HashTable::with_capacity(n);
        let mask = by_id.num_buckets().saturating_sub(1);
        // The index probes from the hash's low bits: truncating it on a 32-bit target keeps them.
        #[allow(clippy::cast_possible_truncation)]
        let slice = |hash: u64| (hash as usize & mask) / INDEX_SLICE;
        let hashes: Vec<u64> = (0..n).map(|i| id_hash(id_in(id_text, id_ends, i))).collect();
        // Where each slice's devices start in `sorted` (a counting sort).
        let mut starts = vec![0; mask / INDEX_SLICE + 2];
        for &hash in &hashes {
            starts[slice(hash) + 1] += 1;
        }
        for k in 1..starts.len() {
            starts[k] += starts[k - 1];
        }
        let mut sorted = vec![(0, 0); n];
        for (i, &hash) in hashes.iter().enumerate() {
            let at = &mut starts[slice(hash)];
            sorted[*at] = (hash, u32_of(i));
            *at += 1;
        }
        let mut repeated: Option<(usize, usize)> = None;
        for (hash, i) in sorted {
            // The index asks for a comparison when an entry's top seven bits of hash are equal
            // (about one insert in sixteen, the index half full). The whole hashes are compared
            // first, one read at random; the ids (three more) only when those are equal too, as
            // for a repeated id.
            let id = |j: u32| id_in(id_text, id_ends, j as usize);
            let same = |&j: &u32| hashes[j as usize] == hash && id(j) == id(i);
            match by_id.entry(hash, same, |&j| hashes[j as usize]) {
                hash_table::Entry::Occupied(first) => {
                    let pair = (*first.get() as usize, i as usize);
                    repeated =
                        Some(repeated.map_or(pair, |earliest| if pair.1 < earliest.1 { pair } else { earliest }));
                }
                hash_table::Entry::Vacant(slot) => {
                    slot.insert(i);
                }
            }
        }
        repeated
    }

    /// Where device `i` was stated.
    fn origin_of(&self, i: usize) -> Origin {
        match &self.origins {
            Origins::Entries => Origin::Entry(i),
            Origins::TableRows => Origin::TableRow(i),
            Origins::CsvRows(rows) => Origin::Row(rows[i]),
        }
    }

    /// Device `i` (which must exist).
    pub(crate) fn at(&self, i: usize) -> DeviceRef<'_> {
        let p = self.parts(i);
        DeviceRef {
            id: self.id(i),
            model: p.model,
            line: p.line,
            site: p.site.map(|s| &**s),
            version: p.version,
            labels: p.labels,
        }
    }

    /// Device `i`'s values but its id, as the fleet holds them (which must exist).
    fn parts(&self, i: usize) -> Parts<'_> {
        let (model, version) = self.kind_parts(self.kinds[i]);
        let [line, site] = self.places[i];
        Parts {
            model,
            line: &self.names[line as usize],
            site: (site != NO_SITE).then(|| &self.names[site as usize]),
            version,
            labels: &self.label_sets[self.labels[i] as usize],
        }
    }

    /// The model and version (as spelt) a [`Kind`] of this fleet numbers.
    pub(crate) fn kind_of(&self, kind: Kind) -> (&str, &Version) {
        let (model, version) = self.kind_parts(kind);
        (model, version)
    }

    fn kind_parts(&self, kind: Kind) -> (&Arc<str>, &Version) {
        (&self.models[kind.model as usize], &self.versions[kind.version as usize])
    }

    /// Device `i`'s id (which must exist).
    pub(crate) fn id(&self, i: usize) -> &str {
        id_in(&self.id_text, &self.id_ends, i)
    }

    /// The devices, in input order.
    ///
    /// ```
    /// let fleet = fleetpath::Fleet::from_csv("id,model,line,version\na,IPM-1,l1,5.6.14\nb,IPM-1,l2,5.6.30\n")?;
    /// let lines: Vec<&str> = fleet.devices().map(|d| d.line).collect();
    /// assert_eq!(lines, ["l1", "l2"]);
    /// # Ok::<(), fleetpath::FleetError>(())
    /// ```
    pub fn devices(&self) -> Devices<'_> {
        Devices { fleet: self, range: 0..self.len() }
    }

    /// The `i`-th device, in input order.
    pub fn device(&self, i: usize) -> Option<DeviceRef<'_>> {
        (i < self.len()).then(|| self.at(i))
    }

    /// The devices' ids as the fleet keeps them: one text, one id after another, and where
    /// each ends (device `i`'s id is `text[ends[i - 1]..ends[i]]`, the first starting at 0).
    /// The layout of an Arrow string column: a binding builds one without a pass over the ids.
    ///
    /// ```
    /// let fleet = fleetpath::Fleet::from_csv("id,model,line,version\nab,IPM-1,l1,5.6.14\nc,IPM-1,l2,5.6.30\n")?;
    /// assert_eq!(fleet.id_text(), ("abc", &[2, 3][..]));
    /// # Ok::<(), fleetpath::FleetError>(())
    /// ```
    pub fn id_text(&self) -> (&str, &[usize]) {
        (&self.id_text, &self.id_ends)
    }

    /// The devices' ids, in input order.
    pub fn ids(&self) -> impl ExactSizeIterator<Item = &str> + DoubleEndedIterator + Clone + '_ {
        (0..self.len()).map(|i| self.id(i))
    }

    /// The devices, owned (their models, lines, sites and versions shared as the fleet
    /// shares them).
    pub fn to_devices(&self) -> Vec<Device> {
        (0..self.len())
            .map(|i| {
                let p = self.parts(i);
                Device {
                    id: self.id(i).to_owned(),
                    model: Arc::clone(p.model),
                    line: Arc::clone(p.line),
                    site: p.site.cloned(),
                    version: p.version.clone(),
                    labels: p.labels.clone(),
                }
            })
            .collect()
    }

    /// About how many bytes the fleet holds: its columns and its index of ids as allocated,
    /// and its distinct models, versions, lines, sites and labels (a million-device fleet:
    /// about 60 bytes a device). A host whose collector cannot see this memory (V8 for the
    /// Node package) paces its collections with it.
    ///
    /// ```
    /// let fleet = fleetpath::Fleet::from_csv("id,model,line,version\na,IPM-1,l1,5.6.14\nb,IPM-1,l2,5.6.30\n")?;
    /// assert!(fleet.memory_estimate() > 2 * (1 + 8 + 4 + 8 + 4));
    /// # Ok::<(), fleetpath::FleetError>(())
    /// ```
    pub fn memory_estimate(&self) -> usize {
        use std::mem::size_of;
        let columns = self.id_text.capacity()
            + self.id_ends.capacity() * size_of::<usize>()
            // A bucket and its control byte.
            + self.by_id.capacity() * (size_of::<u32>() + 1)
            + self.kinds.capacity() * size_of::<Kind>()
            + self.places.capacity() * size_of::<[u32; 2]>()
            + self.labels.capacity() * size_of::<u32>()
            + if let Origins::CsvRows(rows) = &self.origins { rows.capacity() * size_of::<usize>() } else { 0 };
        // About 64 bytes each: the entry, its text or parts, the allocator's overhead.
        let distinct = self.models.len() + self.versions.len() + self.names.len() + self.label_sets.len();
        columns + 64 * distinct
    }

    /// The number of devices.
    pub fn len(&self) -> usize {
        self.id_ends.len()
    }

    /// Whether the fleet has no device.
    pub fn is_empty(&self) -> bool {
        self.id_ends.is_empty()
    }

    /// The device with this id.
    pub fn get(&self, id: &str) -> Option<DeviceRef<'_>> {
        self.position(id).map(|i| self.at(i))
    }

    /// The index of device `id` in [`Fleet::devices`].
    pub(crate) fn position(&self, id: &str) -> Option<usize> {
        self.position_hashed(id, id_hash(id))
    }

    fn position_hashed(&self, id: &str, hash: u64) -> Option<usize> {
        self.by_id.find(hash, |&j| self.id(j as usize) == id).map(|&j| j as usize)
    }

    /// [`Fleet::position`] of each item's id, in their order, handed to `found` with the item.
    ///
    /// In a big fleet a lookup reads three places at random: its index entry, the end of the
    /// id it names, then that id's text, each a cache miss that waits for the one before.
    /// Ids are looked up in groups: a first pass over a group reads where each lookup will
    /// start (the index probes from the hash's low bits), a second the id ends those entries
    /// name (mostly the ids asked for), as independent reads whose misses the processor
    /// overlaps; then each is found.
    /// What the first passes read changes the speed alone, never an answer.
    pub(crate) fn positions<'i, T>(
        &self,
        items: impl IntoIterator<Item = (&'i str, T)>,
        mut found: impl FnMut(T, Option<usize>),
    ) {
        const GROUP: usize = 16;
        let mask = self.by_id.num_buckets().wrapping_sub(1);
        let mut items = items.into_iter().peekable();
        let mut group = Vec::with_capacity(GROUP);
        while items.peek().is_some() {
            group.clear();
            group.extend(items.by_ref().take(GROUP).map(|(id, item)| (id, id_hash(id), item)));
            // The index probes from the hash's low bits: truncating it on a 32-bit target keeps them.
            #[allow(clippy::cast_possible_truncation)]
            let starts = || group.iter().filter_map(|&(_, hash, _)| self.by_id.get_bucket(hash as usize & mask));
            let mut touched = starts().fold(0, |sum, &j| sum ^ j as usize);
            touched = starts().fold(touched, |sum, &j| sum ^ self.id_ends.get(j as usize).copied().unwrap_or(0));
            std::hint::black_box(touched);
            for (id, hash, item) in group.drain(..) {
                found(item, self.position_hashed(id, hash));
            }
        }
    }

    /// Per device, its [`Kind`]; and how many distinct models and version spellings there are.
    pub(crate) fn kinds(&self) -> (&[Kind], usize, usize) {
        (&self.kinds, self.models.len(), self.versions.len())
    }

    /// Per version spelling (a [`Kind`]'s `version`), the node of the release it names in
    /// `graph`: looked up once per graph, then kept (see [`SpellingNodes`]).
    pub(crate) fn spelling_nodes(&self, graph: &UpgradeGraph) -> Nodes {
        let mut kept = self.nodes.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((of, nodes)) = &*kept
            && of.is(graph)
        {
            return Arc::clone(nodes);
        }
        let nodes: Nodes = self.versions.iter().map(|v| graph.node(v)).collect();
        *kept = Some((GraphIdentity::of(graph), Arc::clone(&nodes)));
        nodes
    }

    /// Per device, the numbers of its line and site (`u32::MAX`: none) among the names
    /// returned with them.
    pub(crate) fn places(&self) -> (&[[u32; 2]], &[Arc<str>]) {
        (&self.places, &self.names)
    }

    /// Where a device was stated in its source (`row 12`, `devices[3]`).
    ///
    /// ```
    /// let fleet = fleetpath::Fleet::from_csv("id,model,line,version\nd1,IPM-1,l1,5.6.14\n")?;
    /// assert_eq!(fleet.origin("d1").as_deref(), Some("row 2"));
    /// # Ok::<(), fleetpath::FleetError>(())
    /// ```
    pub fn origin(&self, id: &str) -> Option<String> {
        self.position(id).map(|i| self.origin_of(i).to_string())
    }

    /// Production lines with their device counts, sorted by name.
    pub fn lines(&self) -> Vec<(&str, usize)> {
        let mut counts = vec![0; self.names.len()];
        for &[line, _] in &self.places {
            counts[line as usize] += 1;
        }
        let mut lines: Vec<(&str, usize)> =
            self.names.iter().zip(counts).filter(|&(_, n)| n > 0).map(|(name, n)| (&**name, n)).collect();
        lines.sort_unstable();
        lines
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
        // Once per spelling, not per device.
        let unknown: Vec<bool> = self.versions.iter().map(|v| graphs.iter().all(|g| g.release(v).is_none())).collect();
        match self.kinds.iter().position(|kind| unknown[kind.version as usize]) {
            None => Ok(()),
            Some(i) => Err(FleetError::UnknownVersion {
                at: self.origin_of(i).to_string(),
                id: self.id(i).to_owned(),
                version: self.versions[self.kinds[i].version as usize].to_string(),
            }),
        }
    }

    /// The fleet as CSV, in the form [`Fleet::from_csv`] reads: `id,model,line,site,version`
    /// and one `label:NAME` column per label name (sorted).
    pub fn to_csv(&self) -> String {
        let names: std::collections::BTreeSet<&str> =
            self.label_sets.iter().flat_map(|labels| labels.keys().map(String::as_str)).collect();
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut header =
            vec!["id".to_owned(), "model".to_owned(), "line".to_owned(), "site".to_owned(), "version".to_owned()];
        header.extend(names.iter().map(|n| format!("label:{n}")));
        // Writing to a Vec cannot fail.
        let _ = writer.write_record(&header);
        for d in self.devices() {
            let mut row = vec![d.id, d.model, d.line, d.site.unwrap_or(""), d.version.as_str()];
            row.extend(names.iter().map(|n| d.labels.get(*n).map_or("", String::as_str)));
            let _ = writer.write_record(&row);
        }
        String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// The fleet as JSON, in the form [`Fleet::from_json`] reads.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            devices: Devices<'a>,
        }
        serde_json::to_string_pretty(&Out { devices: self.devices() }).unwrap_or_default()
    }
}

/// Where each known column is in a CSV header or a table.
struct Columns {
    id: usize,
    model: usize,
    line: usize,
    version: usize,
    site: Option<usize>,
    labels: Vec<(String, usize)>,
}

impl Columns {
    /// The device a row states (stated `at`). Inlined into each reader's loop, where the
    /// row's form is known and its cells are read without a branch on it: left to the
    /// compiler, it was a call per row and read a million CSV rows about 3% slower.
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn device<'r>(&'r self, row: Row<'r>, at: Origin) -> RawDevice<'r> {
        let labels = if self.labels.is_empty() {
            RawLabels::Map(None)
        } else {
            RawLabels::Cells(LabelCells { row, columns: &self.labels })
        };
        RawDevice {
            at,
            id: row.cell(self.id),
            model: row.cell(self.model),
            line: row.cell(self.line),
            site: self.site.map(|k| row.cell(k)),
            version: Spelling::Text(row.cell(self.version)),
            labels,
        }
    }

    /// Where each column is, from a CSV header's or a table's column names.
    fn from_header<'h>(header: impl IntoIterator<Item = &'h str>) -> Result<Self, FleetError> {
        let mut found: BTreeMap<&str, usize> = BTreeMap::new();
        let mut labels = Vec::new();
        for (k, name) in header.into_iter().enumerate() {
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

/// The one-based line a malformed row starts on, the reader reporting it at `at`: past the
/// empty lines the reader skipped before it (a line of spaces is itself a row, with too few
/// cells). The reader counts every newline it reads, so its line is the one of its byte.
fn row_line(text: &str, at: &csv::Position) -> u64 {
    let skipped =
        text.as_bytes().get(offset(at)..).unwrap_or_default().iter().take_while(|&&b| matches!(b, b'\r' | b'\n'));
    at.line() + skipped.filter(|&&b| b == b'\n').count() as u64
}

/// The one-based line of the record the reader reports at `at`: the reader's position is where
/// it started reading, before any blank lines it skipped. Skips them: up to the first byte that
/// is not whitespace (most lines start with one), the line being the last one started.
fn record_line(text: &str, at: &csv::Position) -> usize {
    let mut line = usize::try_from(at.line()).unwrap_or(usize::MAX);
    let rest = text.as_bytes().get(offset(at)..).unwrap_or_default();
    for (i, &b) in rest.iter().enumerate().take_while(|(_, b)| b.is_ascii_whitespace()) {
        if b == b'\n' && i + 1 < rest.len() {
            line += 1;
        }
    }
    line
}

/// A reader position's byte offset into the text it reads.
fn offset(at: &csv::Position) -> usize {
    usize::try_from(at.byte()).unwrap_or(usize::MAX)
}

/// A cell without leading or trailing whitespace (as `str::trim`); most cells have none, which
/// their first and last bytes show without decoding any character when they are visible ASCII.
fn trim(cell: &str) -> &str {
    if visible_ends(cell) { cell } else { cell.trim() }
}

/// Whether `text` starts and ends with visible ASCII: then it is neither empty nor padded
/// (`str::trim` removes only whitespace), which one look at each end shows.
fn visible_ends(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_graphic) && bytes.last().is_some_and(u8::is_ascii_graphic)
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

impl crate::Document for Fleet {
    const NAME: &'static str = "fleet";
    fn from_json(text: &str) -> Result<Self, crate::Error> {
        Ok(Self::from_json(text)?)
    }
    fn from_value(value: serde_json::Value) -> Result<Self, crate::Error> {
        Ok(Self::from_value(value)?)
    }
    /// As the trait's, for the list of devices alone too (which `from_json` refuses).
    fn from_value_text(text: &str) -> Result<Self, crate::Error> {
        let read = if text.starts_with('[') {
            Self::from_json(&format!(r#"{{"devices":{text}}}"#))
        } else {
            Self::from_json(text)
        };
        read.or_else(|_| Self::from_value(crate::document::value_of("fleet", text)?)).map_err(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    /// Label columns in any order give the sets the JSON form states, each distinct set kept
    /// once (its devices share it), empty cells none.
    #[test]
    fn label_sets_are_kept_once_whatever_the_column_order() {
        let csv = "id,model,line,version,label:zone,label:cell\n\
                   a,m,l,1.0.0,north,A\nb,m,l,1.0.0,north,A\nc,m,l,1.0.0,,A\nd,m,l,1.0.0,,\ne,m,l,1.0.0,north,B\n";
        let fleet = Fleet::from_csv(csv).unwrap();
        let json = Fleet::from_json(
            r#"{"devices": [
                {"id": "a", "model": "m", "line": "l", "version": "1.0.0", "labels": {"cell": "A", "zone": "north"}},
                {"id": "b", "model": "m", "line": "l", "version": "1.0.0", "labels": {"zone": "north", "cell": "A"}},
                {"id": "c", "model": "m", "line": "l", "version": "1.0.0", "labels": {"cell": "A", "zone": ""}},
                {"id": "d", "model": "m", "line": "l", "version": "1.0.0"},
                {"id": "e", "model": "m", "line": "l", "version": "1.0.0", "labels": {"cell": "B", "zone": "north"}}]}"#,
        )
        .unwrap();
        for f in [&fleet, &json] {
            assert_eq!(f.labels, [1, 1, 2, 0, 3]);
            let sets: Vec<Vec<(&str, &str)>> =
                f.label_sets.iter().map(|set| set.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()).collect();
            assert_eq!(
                sets,
                [
                    vec![],
                    vec![("cell", "A"), ("zone", "north")],
                    vec![("cell", "A")],
                    vec![("cell", "B"), ("zone", "north")]
                ]
            );
        }
        assert_eq!(fleet.to_devices(), json.to_devices());
        assert_eq!(Fleet::new(json.to_devices()).unwrap().labels, [1, 1, 2, 0, 3]);
    }

    /// A label column whose name is padded is refused at the first row with a value in it,
    /// whether or not earlier rows stated the same cells (sets are known by their cells).
    #[test]
    fn a_padded_label_name_is_refused_where_first_used() {
        let csv = "id,model,line,version,label:cell,label: zone\n\
                   a,m,l,1.0.0,A,\nb,m,l,1.0.0,A,\nc,m,l,1.0.0,A,north\n";
        let error = Fleet::from_csv(csv).unwrap_err();
        assert_eq!(error.to_string(), "row 4: label name \" zone\" has leading or trailing whitespace");
        assert!(
            matches!(&error, FleetError::PaddedField { at, field, .. } if at == "row 4" && field == "label name"),
            "{error:?}"
        );
    }

    /// A fleet refuses the device past its limit, naming where it was stated (the real limit,
    /// 2^31 - 1 devices, is lowered here).
    #[test]
    fn a_fleet_refuses_devices_past_its_limit() {
        let text = "id,model,line,version\na,m,l,1\nb,m,l,1\nc,m,l,1\n";
        let mut fleet = Fleet::with_capacity(0, Origins::CsvRows(Vec::new()));
        fleet.limit = 2;
        let mut seen = Seen::default();
        let header = csv::StringRecord::from(vec!["id", "model", "line", "version"]);
        let columns = Columns::from_header(&header).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let mut outcomes = Vec::new();
        for (i, record) in reader.records().enumerate() {
            outcomes.push(fleet.push(columns.device(Row::Csv(&record.unwrap()), Origin::Row(i + 2)), &mut seen));
        }
        let e = outcomes.pop().unwrap().unwrap_err();
        assert!(outcomes.iter().all(Result::is_ok));
        assert_eq!(
            (e.code(), e.to_string()),
            ("fleet_too_large", "row 4: the fleet has more than 2 devices".to_owned())
        );
        assert_eq!(fleet.len(), 2);
        // Two names a device (line and site) still number below u32::MAX (none).
        assert!(2 * Fleet::MAX_DEVICES < u32::MAX as usize);
    }

    /// A fleet without devices (a header alone, an empty list) has an empty index that
    /// finds nothing.
    #[test]
    fn an_empty_fleet_finds_no_id() {
        for fleet in [Fleet::from_csv("id,model,line,version\n").unwrap(), Fleet::new(Vec::new()).unwrap()] {
            assert!(fleet.is_empty() && fleet.get("d1").is_none() && fleet.position("").is_none());
            let mut found = Vec::new();
            fleet.positions([("d1", ())], |(), j| found.push(j));
            assert_eq!(found, [None]);
        }
    }

    /// Looking ids up in groups finds what looking each up alone does, across group
    /// boundaries, for ids the fleet lacks and ids asked twice.
    #[test]
    fn positions_in_groups_equal_single_lookups() {
        let mut text = String::from("id,model,line,version\n");
        for i in 0..100 {
            writeln!(text, "dev-{i},m,l{},1.{}", i % 3, i % 5).unwrap();
        }
        let fleet = Fleet::from_csv(&text).unwrap();
        let asked: Vec<String> =
            (0..37).map(|k| format!("dev-{}", (k * 41) % 130)).chain(["dev-41".into(), String::new()]).collect();
        let mut found = Vec::new();
        fleet.positions(asked.iter().map(|id| (id.as_str(), id.as_str())), |id, j| found.push((id, j)));
        let alone: Vec<_> = asked.iter().map(|id| (id.as_str(), fleet.position(id))).collect();
        assert_eq!(found, alone);
        assert!(found.iter().any(|(_, j)| j.is_none()) && found.iter().filter(|(_, j)| j.is_some()).count() > 20);
        assert_eq!(asked.iter().filter(|id| *id == "dev-41").count(), 2, "an id asked twice");
        assert_eq!(fleet.position("dev-41"), Some(41));
    }
}
