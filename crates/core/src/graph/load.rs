//! Reading a manifest document and compiling it in the same pass over the text.
//!
//! [`UpgradeGraph::from_json`](super::UpgradeGraph::from_json) does not build a [`Manifest`]
//! first: each release entry is checked as soon as it is read, and once the releases are
//! known, each edge entry is resolved straight from the document's text (its version strings
//! are borrowed, not copied). Edges that come before the releases in the document are kept
//! and resolved at the end. Errors are the same as `UpgradeGraph::new(Manifest::from_json(..)?)`
//! gives, in the same order of precedence: the document's shape (serde's own messages, with
//! line and column), its format version, then the build's checks in document order.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::build::{self, Builder, Checked, EdgeExtra, EdgeIn, Edges, Spellings, Table};
use super::{DowngradeSpec, FORMAT_VERSION, GraphError, Inner, Manifest, OLDEST_FORMAT_VERSION, ReleaseSpec};

/// Reads and compiles a manifest document.
pub(super) fn from_json(json: &str) -> Result<Inner, GraphError> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let loaded = Document.deserialize(&mut deserializer).map_err(GraphError::from_json)?;
    deserializer.end().map_err(GraphError::from_json)?;
    loaded.finish()
}

/// The manifest's fields, in declaration order (serde's messages list them).
const FIELDS: &[&str] = &["format_version", "name", "description", "releases", "edges", "downgrades"];

enum Key {
    FormatVersion,
    Name,
    Description,
    Releases,
    Edges,
    Downgrades,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("field identifier")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    "format_version" => Key::FormatVersion,
                    "name" => Key::Name,
                    "description" => Key::Description,
                    "releases" => Key::Releases,
                    "edges" => Key::Edges,
                    "downgrades" => Key::Downgrades,
                    other => return Err(E::unknown_field(other, FIELDS)),
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// A string borrowed from the document when it has no escapes.
struct Str<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(StrVisitor)
    }
}

/// [`EdgeSpec`](super::EdgeSpec)'s fields, in declaration order (serde's messages list them).
const EDGE_FIELDS: &[&str] = &["from", "from_range", "to", "models", "blocked", "notes"];

enum EdgeKey {
    From,
    FromRange,
    To,
    Models,
    Blocked,
    Notes,
}

impl<'de> Deserialize<'de> for EdgeKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = EdgeKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("field identifier")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<EdgeKey, E> {
                Ok(match key {
                    "from" => EdgeKey::From,
                    "from_range" => EdgeKey::FromRange,
                    "to" => EdgeKey::To,
                    "models" => EdgeKey::Models,
                    "blocked" => EdgeKey::Blocked,
                    "notes" => EdgeKey::Notes,
                    other => return Err(E::unknown_field(other, EDGE_FIELDS)),
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// One entry of `edges`, read as [`EdgeSpec`](super::EdgeSpec) would be (same fields, same
/// messages) but with its version strings borrowed from the document.
struct EdgeEntry<'de>(EdgeIn<'de>);

impl<'de> Deserialize<'de> for EdgeEntry<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct("EdgeSpec", EDGE_FIELDS, EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = EdgeEntry<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct EdgeSpec")
    }

    /// The positional form serde's derive also reads: `["5.6.14", null, "5.6.30"]`.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let from = seq.next_element::<Option<Str<'de>>>()?.flatten();
        let from_range = seq.next_element::<Option<Str<'de>>>()?.flatten();
        let Some(to) = seq.next_element::<Str<'de>>()? else {
            return Err(de::Error::invalid_length(2, &"struct EdgeSpec with 6 elements"));
        };
        let models = seq.next_element::<Option<Vec<String>>>()?.flatten();
        let blocked = seq.next_element::<Option<String>>()?.flatten();
        let notes = seq.next_element::<Option<String>>()?.flatten();
        Ok(EdgeEntry(EdgeIn {
            from: from.map(|s| s.0),
            from_range: from_range.map(|s| s.0),
            to: to.0,
            extra: EdgeExtra::boxed(models, blocked, notes),
        }))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut from: Option<Option<Str<'de>>> = None;
        let mut from_range: Option<Option<Str<'de>>> = None;
        let mut to: Option<Str<'de>> = None;
        let mut models: Option<Option<Vec<String>>> = None;
        let mut blocked: Option<Option<String>> = None;
        let mut notes: Option<Option<String>> = None;
        while let Some(key) = map.next_key::<EdgeKey>()? {
            match key {
                EdgeKey::From => next_once(&mut map, &mut from, "from")?,
                EdgeKey::FromRange => next_once(&mut map, &mut from_range, "from_range")?,
                EdgeKey::To => next_once(&mut map, &mut to, "to")?,
                EdgeKey::Models => next_once(&mut map, &mut models, "models")?,
                EdgeKey::Blocked => next_once(&mut map, &mut blocked, "blocked")?,
                EdgeKey::Notes => next_once(&mut map, &mut notes, "notes")?,
            }
        }
        let to = to.ok_or_else(|| de::Error::missing_field("to"))?;
        Ok(EdgeEntry(EdgeIn {
            from: from.flatten().map(|s| s.0),
            from_range: from_range.flatten().map(|s| s.0),
            to: to.0,
            extra: EdgeExtra::boxed(models.flatten(), blocked.flatten(), notes.flatten()),
        }))
    }
}

/// A field seen a second time is refused before its value is read, as serde's derive does.
fn refuse_twice<E: de::Error>(seen: bool, name: &'static str) -> Result<(), E> {
    if seen { Err(E::duplicate_field(name)) } else { Ok(()) }
}

/// Reads field `name`'s value into `slot` ([`refuse_twice`] first).
fn next_once<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    name: &'static str,
) -> Result<(), A::Error> {
    refuse_twice(slot.is_some(), name)?;
    *slot = Some(map.next_value()?);
    Ok(())
}

/// The document read: what is left to check and compile.
struct Loaded<'de> {
    head: Manifest,
    builder: Builder,
    /// The first release entry that failed its checks, or the duplicate release.
    failed: Option<GraphError>,
    /// The first release that uses a format 2 field.
    needs_format: Option<(usize, &'static str)>,
    release_count: usize,
    edge_count: usize,
    table: Option<Table>,
    edges: Edges,
    /// Edge entries read before the releases.
    pending: Vec<EdgeIn<'de>>,
}

impl Loaded<'_> {
    fn finish(self) -> Result<Inner, GraphError> {
        let Self { head, mut builder, failed, needs_format, release_count, edge_count, table, mut edges, pending } =
            self;
        if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&head.format_version) {
            return Err(GraphError::UnsupportedFormat { found: head.format_version, supported: FORMAT_VERSION });
        }
        if head.format_version < 2 {
            let needs = |at: String, field: &'static str| GraphError::NeedsFormat { at, field, needs: 2 };
            if let Some((i, field)) = needs_format {
                return Err(needs(format!("releases[{i}]"), field));
            }
            if let Some(i) = head.downgrades.iter().position(|d| d.migration.is_some()) {
                return Err(needs(format!("downgrades[{i}]"), "migration"));
            }
        }
        if release_count == 0 {
            return Err(GraphError::NoReleases);
        }
        build::check_size(release_count, edge_count)?;
        if let Some(error) = failed {
            return Err(error);
        }
        // Releases were read, none failed: the table exists.
        let Some(table) = table else { return Err(GraphError::NoReleases) };
        if !pending.is_empty() {
            let spellings = table.spellings();
            for (i, edge) in pending.into_iter().enumerate() {
                edges.push(i, edge, &spellings, &mut builder);
                if edges.failed() {
                    break;
                }
            }
        }
        build::finish(builder, table, edges, edge_count, head)
    }
}

/// The top-level object.
struct Document;

impl<'de> DeserializeSeed<'de> for Document {
    type Value = Loaded<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_struct("Manifest", FIELDS, self)
    }
}

impl<'de> Visitor<'de> for Document {
    type Value = Loaded<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct Manifest")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut format_version: Option<u32> = None;
        let mut name: Option<Option<String>> = None;
        let mut description: Option<Option<String>> = None;
        let mut downgrades: Option<Vec<DowngradeSpec>> = None;
        let mut builder = Builder::default();
        let mut failed = None;
        let mut needs_format = None;
        let mut release_count = None;
        let mut edge_count = None;
        let table: OnceCell<Table> = OnceCell::new();
        let mut spellings: Option<Spellings<'_>> = None;
        let mut edges = Edges::default();
        let mut pending = Vec::new();
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::FormatVersion => {
                    next_once(&mut map, &mut format_version, "format_version")?;
                }
                Key::Name => {
                    next_once(&mut map, &mut name, "name")?;
                }
                Key::Description => {
                    next_once(&mut map, &mut description, "description")?;
                }
                Key::Releases => {
                    refuse_twice(release_count.is_some(), "releases")?;
                    let seed = Releases { builder: &mut builder, failed: &mut failed, needs_format: &mut needs_format };
                    let (checked, count) = map.next_value_seed(seed)?;
                    release_count = Some(count);
                    if failed.is_none() && count > 0 {
                        match Table::new(checked) {
                            Ok(t) => {
                                // Set once: a second `releases` key is refused above.
                                let _ = table.set(t);
                            }
                            Err(e) => failed = Some(e),
                        }
                    }
                }
                Key::Edges => {
                    refuse_twice(edge_count.is_some(), "edges")?;
                    if let Some(t) = table.get() {
                        spellings = Some(t.spellings());
                    }
                    let mode = match (&spellings, release_count) {
                        (Some(s), _) => Mode::Scan(s),
                        (None, None) => Mode::Keep(&mut pending),
                        // No releases, or one failed: the outcome is decided, only the shape
                        // of the entries is left to check.
                        (None, Some(_)) => Mode::Check,
                    };
                    edge_count =
                        Some(map.next_value_seed(EdgeList { mode, edges: &mut edges, builder: &mut builder })?);
                }
                Key::Downgrades => {
                    next_once(&mut map, &mut downgrades, "downgrades")?;
                }
            }
        }
        let format_version = format_version.ok_or_else(|| de::Error::missing_field("format_version"))?;
        let release_count = release_count.ok_or_else(|| de::Error::missing_field("releases"))?;
        drop(spellings);
        Ok(Loaded {
            head: Manifest {
                format_version,
                name: name.flatten(),
                description: description.flatten(),
                releases: Vec::new(),
                edges: Vec::new(),
                downgrades: downgrades.unwrap_or_default(),
            },
            builder,
            failed,
            needs_format,
            release_count,
            edge_count: edge_count.unwrap_or(0),
            table: table.into_inner(),
            edges,
            pending,
        })
    }
}

/// The `releases` list: each entry is checked as soon as it is read.
struct Releases<'s> {
    builder: &'s mut Builder,
    failed: &'s mut Option<GraphError>,
    needs_format: &'s mut Option<(usize, &'static str)>,
}

impl<'de> DeserializeSeed<'de> for Releases<'_> {
    type Value = (Checked, usize);
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Releases<'_> {
    type Value = (Checked, usize);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut checked = Checked::default();
        let mut count = 0;
        while let Some(spec) = seq.next_element::<ReleaseSpec>()? {
            if self.needs_format.is_none() {
                if spec.schema.is_some() {
                    *self.needs_format = Some((count, "schema"));
                } else if !spec.reads.is_empty() {
                    *self.needs_format = Some((count, "reads"));
                }
            }
            if self.failed.is_none() {
                if let Err(e) = self.builder.release(count, spec, &mut checked) {
                    *self.failed = Some(e);
                }
            }
            count += 1;
        }
        Ok((checked, count))
    }
}

/// What to do with edge entries as they are read.
enum Mode<'s, 't, 'de> {
    /// The releases are known: resolve each entry now.
    Scan(&'s Spellings<'t>),
    /// The releases come later in the document: keep the entries.
    Keep(&'s mut Vec<EdgeIn<'de>>),
    /// The outcome is decided: only check the entries' shape.
    Check,
}

/// The `edges` list.
struct EdgeList<'s, 't, 'de> {
    mode: Mode<'s, 't, 'de>,
    edges: &'s mut Edges,
    builder: &'s mut Builder,
}

impl<'de> DeserializeSeed<'de> for EdgeList<'_, '_, 'de> {
    type Value = usize;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EdgeList<'_, '_, 'de> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<usize, A::Error> {
        let mut count = 0;
        while let Some(entry) = seq.next_element::<EdgeEntry<'de>>()? {
            match &mut self.mode {
                Mode::Scan(spellings) => self.edges.push(count, entry.0, spellings, self.builder),
                Mode::Keep(pending) => pending.push(entry.0),
                Mode::Check => {}
            }
            count += 1;
        }
        Ok(count)
    }
}
