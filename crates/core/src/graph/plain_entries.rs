//! A faster reader of a manifest's text for the common shapes of its entries (a big
//! manifest holds tens of thousands of releases and a hundred thousand edges, most of its
//! text): an edge that is a plain upgrade, `{"from": "…", "to": "…"}`, and a release entry
//! (an object whose field names and version have no escapes).
//!
//! It reads the document's object itself and hands each value but the releases and the edges
//! to `serde_json` (the same readers as [`ManifestWire`]'s). It reads a release entry's
//! fields itself, its version, `models` and `artifact` directly and its other fields (and a
//! `models` or `artifact` of another shape, such as `null` or escaped text) by their own
//! `serde_json` readers; a release entry it cannot read so (not an object, a missing or escaped
//! version, an escaped field name, a field given twice or unknown) goes whole to
//! [`ReleaseSpec`]'s reader. It reads each plain edge
//! directly and hands any other entry to [`WireEdge`]'s reader. It gives what
//! [`ManifestWire`]'s reader gives, or nothing: a document it cannot read whole (malformed, or
//! a shape it does not know, such as escapes in a field's name) is read again by that reader,
//! which gives the result or the error (so errors, their places and their order are that
//! reader's). The `manifest` fuzz target and the tests compare the two.
//!
//! `serde_json` refuses values nested 128 deep, counting from where its reader starts. Here it
//! starts at each top-level value (one level below the document's root), at each release or
//! edge entry it reads (two levels below) and at a release's field (three). Only an edge entry
//! can nest without bound (a risk's `when` condition); one nested more than
//! [`MAX_ENTRY_DEPTH`] deep is left to the document's reader, so no document reads here that
//! the document's reader refuses. (A release, a downgrade or a channel nests a few levels at
//! most when it reads: a type that nests without bound added there needs the same rule.)

use compact_str::CompactString;
use serde::Deserialize;

use super::manifest::{Artifact, ManifestWire, ReleaseEntries, ReleaseSpec, WireEdge};

/// The manifest in `text`, or `None` when anything in it is wrong or unusual.
pub(super) fn read(text: &str) -> Option<ManifestWire<'_>> {
    let mut cursor = Cursor { text, at: 0 };
    let (mut format_version, mut name, mut description, mut include_prerelease) = (None, None, None, None);
    let (mut releases, mut edges, mut downgrades, mut channels) = (None, None, None, None);
    cursor.object(|c, field| match field {
        "format_version" => once(&mut format_version, c.value()?),
        "name" => once(&mut name, c.value()?),
        "description" => once(&mut description, c.value()?),
        "include_prerelease" => once(&mut include_prerelease, c.value()?),
        "releases" => once(&mut releases, c.releases()?),
        "edges" => once(&mut edges, c.edges()?),
        "downgrades" => once(&mut downgrades, c.value()?),
        "channels" => once(&mut channels, c.value()?),
        _ => None,
    })?;
    cursor.end()?;
    Some(ManifestWire {
        format_version: format_version?,
        name: name.flatten(),
        description: description.flatten(),
        include_prerelease: include_prerelease.unwrap_or_default(),
        releases: releases?,
        edges: edges.unwrap_or_default(),
        downgrades: downgrades.unwrap_or_default(),
        channels: channels.unwrap_or_default(),
    })
}

/// Fills a field's slot, `None` when the field was given already (which serde refuses).
fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    slot.is_none().then(|| *slot = Some(value))
}

/// How deep a non-plain edge entry may nest (itself the first level) for this reader to read
/// it: far below the 126 at which the document's reader refuses it.
const MAX_ENTRY_DEPTH: usize = 64;

/// How deep valid JSON text nests arrays and objects (`0` for a string, number or literal).
fn depth(json: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0_usize, 0, false, false);
    for b in json.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
                b'}' | b']' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    deepest
}

/// Which end of a plain edge a field names.
enum End {
    From,
    To,
}

/// A place in JSON text.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    /// Steps over whitespace.
    fn space(&mut self) {
        let bytes = self.text.as_bytes();
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = bytes.get(self.at) {
            self.at += 1;
        }
    }

    /// Steps over whitespace and `byte`; when `byte` is not next, moves no further than the
    /// whitespace.
    fn eat(&mut self, byte: u8) -> Option<()> {
        self.space();
        (self.text.as_bytes().get(self.at) == Some(&byte)).then(|| self.at += 1)
    }

    /// Only whitespace is left.
    fn end(&mut self) -> Option<()> {
        self.space();
        (self.at == self.text.len()).then_some(())
    }

    /// After whitespace: a string without escapes (JSON's strings hold no control character).
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let rest = self.text.get(self.at..)?;
        // Versions are short: a loop beats `memchr` here.
        let end = rest.bytes().position(|b| b == b'"' || b == b'\\' || b < 0x20)?;
        (rest.as_bytes()[end] == b'"').then(|| {
            self.at += end + 1;
            &rest[..end]
        })
    }

    /// After optional whitespace: one value as `T`'s reader reads it.
    fn value<T: Deserialize<'a>>(&mut self) -> Option<T> {
        let rest = self.text.get(self.at..)?;
        let mut values = serde_json::Deserializer::from_str(rest).into_iter::<T>();
        let value = values.next()?.ok()?;
        self.at += values.byte_offset();
        Some(value)
    }

    /// After whitespace: an object, each field's name (a string without escapes) handed to
    /// `field` with the cursor after its colon, to read the value.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            let name = self.string()?;
            self.eat(b':')?;
            field(self, name)?;
            if self.eat(b'}').is_some() {
                return Some(());
            }
            self.eat(b',')?;
        }
    }

    /// After whitespace: a list, each entry read by `entry`.
    fn list<T>(&mut self, mut entry: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        self.eat(b'[')?;
        let mut list = Vec::new();
        if self.eat(b']').is_some() {
            return Some(list);
        }
        loop {
            list.push(entry(self)?);
            if self.eat(b']').is_some() {
                return Some(list);
            }
            self.eat(b',')?;
        }
    }

    /// What `read` reads from here, or nothing with the cursor where it was.
    fn attempt<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let start = self.at;
        let value = read(self);
        if value.is_none() {
            self.at = start;
        }
        value
    }

    /// After whitespace: an `edges` list.
    fn edges(&mut self) -> Option<Vec<WireEdge<'a>>> {
        self.list(|c| c.attempt(Cursor::plain).or_else(|| c.entry()))
    }

    /// After whitespace: a `releases` list.
    fn releases(&mut self) -> Option<ReleaseEntries> {
        self.list(|c| c.attempt(Cursor::release).or_else(|| c.value()))
    }

    /// After whitespace: a release entry, an object whose field names and version have no
    /// escapes, each field given once: its `models` and `artifact` read as [`Cursor::names`]
    /// and [`Cursor::artifact`] read them (or else by their own readers), its other fields by
    /// their own readers; or nothing.
    fn release(&mut self) -> Option<Box<ReleaseSpec>> {
        let (mut version, mut models, mut labels, mut status, mut reason) = (None, None, None, None, None);
        let (mut barrier, mut artifact, mut schema, mut reads, mut notes) = (None, None, None, None, None);
        self.object(|c, field| match field {
            "version" => once(&mut version, CompactString::from(c.string()?)),
            "models" => once(&mut models, c.attempt(Cursor::names).map(Some).or_else(|| c.value())?),
            "artifact" => once(&mut artifact, c.attempt(Cursor::artifact).map(Some).or_else(|| c.value())?),
            "labels" => once(&mut labels, c.value()?),
            "status" => once(&mut status, c.value()?),
            "reason" => once(&mut reason, c.value()?),
            "barrier" => once(&mut barrier, c.value()?),
            "schema" => once(&mut schema, c.value()?),
            "reads" => once(&mut reads, c.value()?),
            "notes" => once(&mut notes, c.value()?),
            _ => None,
        })?;
        Some(Box::new(ReleaseSpec {
            version: version?,
            models: models.flatten(),
            labels: labels.unwrap_or_default(),
            status: status.unwrap_or_default(),
            reason: reason.flatten(),
            barrier: barrier.unwrap_or_default(),
            artifact: artifact.flatten(),
            schema: schema.flatten(),
            reads: reads.unwrap_or_default(),
            notes: notes.flatten(),
        }))
    }

    /// After whitespace: a list of strings without escapes.
    fn names(&mut self) -> Option<Vec<CompactString>> {
        self.list(|c| c.string().map(CompactString::from))
    }

    /// After whitespace: an artifact, its `key` and `sha256` strings without escapes, its
    /// optional `size` as [`Cursor::whole`] reads it.
    fn artifact(&mut self) -> Option<Artifact> {
        let (mut key, mut sha256, mut size) = (None, None, None);
        self.object(|c, field| match field {
            "key" => once(&mut key, c.string()?.to_owned()),
            "sha256" => once(&mut sha256, c.string()?.to_owned()),
            "size" => once(&mut size, c.whole()?),
            _ => None,
        })?;
        Some(Artifact { key: key?, sha256: sha256?, size })
    }

    /// After whitespace: a whole number that fits in a `u64`, in JSON's form (no sign or
    /// leading zero; a fraction or exponent after it leaves the object unread).
    fn whole(&mut self) -> Option<u64> {
        self.space();
        let rest = self.text.get(self.at..)?;
        let digits = &rest[..rest.bytes().take_while(u8::is_ascii_digit).count()];
        if digits.len() > 1 && digits.starts_with('0') {
            return None;
        }
        let whole = digits.parse().ok()?;
        self.at += digits.len();
        Some(whole)
    }

    /// After optional whitespace: any other edge entry, as `WireEdge`'s reader reads it, when
    /// it nests at most [`MAX_ENTRY_DEPTH`] deep.
    fn entry(&mut self) -> Option<WireEdge<'a>> {
        let start = self.at;
        let entry = self.value()?;
        let text = self.text.get(start..self.at)?;
        (depth(text) <= MAX_ENTRY_DEPTH).then_some(entry)
    }

    /// After whitespace: `{"from": "…", "to": "…"}` (either order) with no escapes.
    fn plain(&mut self) -> Option<WireEdge<'a>> {
        self.eat(b'{')?;
        let first = self.field()?;
        self.eat(b',')?;
        let second = self.field()?;
        self.eat(b'}')?;
        match (first, second) {
            ((End::From, from), (End::To, to)) | ((End::To, to), (End::From, from)) => {
                Some(WireEdge::Plain { from, to })
            }
            _ => None,
        }
    }

    /// After whitespace: `"from": "…"` or `"to": "…"`, the version without escapes.
    fn field(&mut self) -> Option<(End, &'a str)> {
        self.space();
        let rest = self.text.as_bytes().get(self.at..)?;
        let (end, name) = [(End::From, "\"from\""), (End::To, "\"to\"")]
            .into_iter()
            .find(|(_, name)| rest.starts_with(name.as_bytes()))?;
        self.at += name.len();
        self.eat(b':')?;
        Some((end, self.string()?))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::read;
    use crate::graph::manifest::ManifestWire;
    use crate::{Manifest, UpgradeGraph};

    /// Whether this reader read `text`; when it did, it read what the document's reader reads.
    fn read_alike(text: &str) -> bool {
        let fast = read(text).map(|m| format!("{m:?}"));
        match (&fast, serde_json::from_str::<ManifestWire<'_>>(text)) {
            (Some(fast), Ok(slow)) => assert_eq!(fast, &format!("{slow:?}"), "{text}"),
            (Some(fast), Err(e)) => panic!("read {fast} where the document's reader says {e}: {text}"),
            (None, _) => {}
        }
        fast.is_some()
    }

    /// The loaded graph (or error) is that of reading a `Manifest` first.
    fn loads_alike(text: &str) -> Result<UpgradeGraph, crate::GraphError> {
        let loaded = UpgradeGraph::from_json(text);
        match (&loaded, Manifest::from_json(text).and_then(UpgradeGraph::new)) {
            (Ok(a), Ok(b)) => assert_eq!(a.to_manifest(), b.to_manifest()),
            (Err(a), Err(b)) => assert_eq!(a, &b),
            (a, b) => panic!("from_json: {a:?}, Manifest then new: {b:?}"),
        }
        loaded
    }

    const RELEASES: &str = r#""releases": [{"version": "1.0.0"}, {"version": "1.1.0", "models": ["m1"]}, {"version": "2.0.0"}, {"version": "3.0.0"}]"#;

    fn doc(edges: &str) -> String {
        format!(r#"{{"format_version": 1, {RELEASES}, "edges": {edges}}}"#)
    }

    #[test]
    fn reads_plain_edges_and_hands_others_to_the_entry_reader() {
        let plain = r#"[{"from": "1.0.0", "to": "1.1.0"}, {"to": "2.0.0", "from": "1.1.0"}]"#;
        let spaced = "[ {\n\t\"from\" :\"1.0.0\" ,\r\n \"to\":  \"1.1.0\"\n}\n,{\"from\":\"1.1.0\",\"to\":\"2.0.0\"} ]";
        let mixed = r#"[{"from": "1.0.0", "to": "1.1.0", "models": ["m1"]}, {"from": "1.0.\u0030", "to": "2.0.0"},
            ["1.1.0", null, "2.0.0"], {"to": "3.0.0", "from": "2.0.0"}]"#;
        for edges in [plain, spaced, mixed, "[]", " [ ] "] {
            let text = doc(edges);
            assert!(read_alike(&text), "{text}");
            loads_alike(&text).unwrap();
        }
        let kinds = |edges| {
            format!(
                "{:?}",
                read(&doc(edges))
                    .unwrap()
                    .edges
                    .iter()
                    .map(|e| matches!(e, super::WireEdge::Plain { .. }))
                    .collect::<Vec<_>>()
            )
        };
        assert_eq!(kinds(plain), "[true, true]");
        assert_eq!(kinds(spaced), "[true, true]");
        assert_eq!(kinds(mixed), "[false, false, false, true]");
        // Without edges, with fields in any order, whitespace around the document.
        let text = format!(
            " \n{{\"edges\": [], \"name\": null, \"channels\": {{}}, \"include_prerelease\": true, {RELEASES}, \"downgrades\": [], \"description\": \"d\", \"format_version\": 2}}\n "
        );
        assert!(read_alike(&text));
        assert!(read_alike(&format!(r#"{{"format_version": 1, {RELEASES}}}"#)));
    }

    #[test]
    fn leaves_any_other_document_to_the_document_reader() {
        let plain = r#"{"from": "1.0.0", "to": "1.1.0"}"#;
        for text in [
            doc("null"),
            doc("{}"),
            doc(&format!("[{plain},]")),
            doc(&format!("[{plain} {plain}]")),
            doc(&format!("[{plain}, 5]")),
            doc(r#"[{"from": "1.0.0", "to": "1.1.0", "to": "2.0.0"}]"#),
            doc(r#"[{"from": "1.0.0", "from": "1.1.0"}]"#),
            doc("[{\"from\": \"1.0.0\u{1}\", \"to\": \"1.1.0\"}]"),
            doc(&format!("[{plain}]")).replace("\"edges\"", "\"edg\\u0065s\""),
            format!("{}, \"edges\": []}}", doc(&format!("[{plain}]")).trim_end_matches('}')),
            format!("{} x", doc("[]")),
            format!(r#"{{"format_version": 1, {RELEASES}, "modles": []}}"#),
            r#"["format_version", 1]"#.to_owned(),
            r#"{"format_version": 1 "releases": []}"#.to_owned(),
            r#"{"format_version": 1}"#.to_owned(),
            "{}".to_owned(),
            String::new(),
        ] {
            assert!(!read_alike(&text), "{text}");
            let _ = loads_alike(&text);
        }
        // The document reader's error, at its place: an entry after plain ones.
        let text = doc(&format!("[{plain},\n {{\"from\": \"1.0.0\", \"to\": 7}}]"));
        let Err(crate::GraphError::Json(err)) = loads_alike(&text) else { panic!("{text} reads") };
        assert_eq!((err.line, err.path.as_str()), (2, "edges[1].to"));
        // Conditions nested deeper than the document's reader allows: refused as by it; nested
        // less, read here.
        let nested = |levels: usize| {
            let when = format!("{}\"always\"{}", "{\"not\": ".repeat(levels), "}".repeat(levels));
            doc(&format!(r#"[{{"from": "1.0.0", "to": "2.0.0", "risks": [{{"name": "r", "when": {when}}}]}}]"#))
        };
        for levels in [123, 124, 200] {
            assert!(!read_alike(&nested(levels)));
            assert!(loads_alike(&nested(levels)).is_err());
        }
        // An entry, its risk list and the risk take three levels: 61 conditions make 64.
        assert!(read_alike(&nested(61)));
        assert!(!read_alike(&nested(62)), "deeper than MAX_ENTRY_DEPTH");
        loads_alike(&nested(61)).unwrap();
        loads_alike(&nested(62)).unwrap();
        // An escaped field name reads, by the document reader.
        let text = doc(&format!("[{plain}]")).replace("\"edges\"", "\"edg\\u0065s\"");
        assert_eq!(loads_alike(&text).unwrap().releases().len(), 4);
    }

    #[test]
    fn reads_plain_release_entries_by_hand() {
        let by_hand = |entry: &str| super::Cursor { text: entry, at: 0 }.release().map(|spec| format!("{spec:?}"));
        let by_serde = |entry: &str| {
            format!("{:?}", serde_json::from_str::<Box<crate::graph::manifest::ReleaseSpec>>(entry).unwrap())
        };
        for entry in [
            r#"{"version": "6.15.008", "models": ["IPM-1", "IPM-2"], "artifact": {"key": "fw/6.bin", "sha256": "ab", "size": 1000}}"#,
            r#"{ "artifact" : { "size" : 0 , "key" : "k" , "sha256" : "00" } , "version" : "1" }"#,
            r#"{"version": "1", "status": "blocked", "reason": "recalled", "labels": {"bus": "can"}, "barrier": true}"#,
            r#"{"version": "1", "models": null, "artifact": {"key": "k", "sha256": "00", "size": null}}"#,
        ] {
            assert_eq!(by_hand(entry).as_deref(), Some(&*by_serde(entry)), "{entry}");
        }
        // An escaped version is left to serde's reader of the entry; an escaped model name or
        // key to serde's reader of that field.
        assert_eq!(by_hand(r#"{"version": "1.0.\u0030"}"#), None);
        let escaped = r#"{"version": "1", "models": ["m\u0030"], "artifact": {"key": "\u0030", "sha256": "00"}}"#;
        assert_eq!(by_hand(escaped).as_deref(), Some(&*by_serde(escaped)));
        // Each part's own reader, on the plain shapes.
        let cursor = |text| super::Cursor { text, at: 0 };
        assert_eq!(cursor(r#" ["m0", "IPM-1"]"#).names().map(|names| names.len()), Some(2));
        assert_eq!(cursor(r#"{"sha256": "00", "key": "k", "size": 7}"#).artifact().and_then(|a| a.size), Some(7));
        assert_eq!(cursor(r#"{"key": "k", "sha256": "00"}"#).artifact().map(|a| a.sha256), Some("00".to_owned()));
        assert_eq!(cursor(" 18446744073709551615").whole(), Some(u64::MAX));
        assert_eq!(cursor("0").whole(), Some(0));
        for wrong in ["18446744073709551616", "01", "-1", "null"] {
            assert_eq!(cursor(wrong).whole(), None, "{wrong}");
        }
        for wrong in [
            r#"{"version": "1", "artifact": {"key": "k", "sha256": "00", "size": 01}}"#,
            r#"{"version": "1", "version": "1"}"#,
            "{}",
        ] {
            assert_eq!(by_hand(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn depth_counts_brackets_outside_strings() {
        for (json, deep) in [
            (r#""[{""#, 0),
            ("7", 0),
            ("[]", 1),
            (r#"{"a": [1, {"b": "]]"}], "c": {}}"#, 3),
            (r#"["a\"[b", "\\", [["\\\"", "]"]]]"#, 3),
            ("[[[]], [[[]]]]", 4),
        ] {
            assert_eq!(super::depth(json), deep, "{json}");
        }
    }

    /// A JSON text's pieces as a manifest can hold them, some of them wrong.
    /// With whether an entry reads (`None`: random text, which may).
    fn piece() -> impl Strategy<Value = (String, Option<bool>)> {
        let reads = |text: &str, reads| (text.to_owned(), Some(reads));
        prop_oneof![
            4 => (0..3usize, 0..3usize).prop_map(|(a, b)| (format!(r#"{{"from": "{}", "to": "{}"}}"#, VERSIONS[a], VERSIONS[b]), Some(true))),
            1 => (0..3usize, 0..3usize).prop_map(|(a, b)| (format!(r#"{{"to":"{}","from":"{}"}}"#, VERSIONS[a], VERSIONS[b]), Some(true))),
            1 => Just(reads(r#"{"from": "1.0.0", "to": "2.0.0", "blocked": "recalled"}"#, true)),
            1 => Just(reads(r#"{"from": "1.0.\u0030", "to": "2.0.0"}"#, true)),
            1 => Just(reads(r#"{"from": "1.0.0", "to": "2.0.0", "risks": [{"name": "r", "when": {"not": {"any": [{"model": ["m1"]}]}}}]}"#, true)),
            1 => Just(reads(r#"["1.0.0", null, "1.1.0"]"#, true)),
            1 => Just(reads(r#"{"from": "1.0.0"}"#, false)),
            1 => Just(reads("null", false)),
            1 => "[ \t\r\n\\\\\"{}:,a-z0-9.\u{1}é]{0,12}".prop_map(|text| (text, None)),
        ]
    }

    /// `text` read as the document's reader reads it ([`read_alike`]) and loaded alike, given
    /// whether each of its entries reads (`None`: random text, which may): when every entry
    /// reads, so does the document here; when one does not, nor does the document (random
    /// text may join its neighbours into one entry that reads).
    fn reads_as_its_entries(text: &str, entries: &[Option<bool>]) -> Result<(), TestCaseError> {
        let read = read_alike(text);
        if entries.iter().all(|reads| *reads == Some(true)) {
            prop_assert!(read, "{}", text);
        }
        if entries.contains(&Some(false)) && entries.iter().all(Option::is_some) {
            prop_assert!(!read, "{}", text);
        }
        let _ = loads_alike(text);
        Ok(())
    }

    const VERSIONS: [&str; 3] = ["1.0.0", "1.1.0", "2.0.0"];

    /// A release entry as a manifest can hold it, some of them wrong, with whether it reads
    /// (`None`: random text, which may). `k` spells its version.
    fn release(k: usize) -> impl Strategy<Value = (String, Option<bool>)> {
        let sha = "ab".repeat(32);
        let entry = move |fields: &str, reads| (format!("{{\"version\": \"1.0.{k}\"{fields}}}"), Some(reads));
        prop_oneof![
            3 => Just(entry(&format!(r#", "models": ["m0", "m1"], "artifact": {{"key": "fw/{k}.bin", "sha256": "{sha}", "size": 1000}}"#), true)),
            1 => Just((format!(r#"{{"artifact":{{"size":0,"sha256":"{sha}","key":"k"}},"models":[],"version":"1.0.{k}"}}"#), Some(true))),
            1 => Just(entry("", true)),
            1 => Just(entry(r#", "status": "blocked", "reason": "recalled", "barrier": true"#, true)),
            1 => Just(entry(r#", "labels": {"bus": "can"}, "schema": "s-1", "reads": ["s-0"], "notes": "n""#, true)),
            1 => Just(entry(r#", "models": null, "artifact": null, "reason": null"#, true)),
            1 => Just(entry(r#", "models": ["m\u0030"], "artifact": {"key": "fw/\u0030.bin", "sha256": "00"}"#, true)),
            1 => Just((format!(r#"{{"version": "1.0.\u0030{k}"}}"#), Some(true))),
            1 => Just(entry(r#", "artifact": {"key": "k", "sha256": "00", "size": 01}"#, false)),
            1 => Just(entry(r#", "artifact": {"key": "k", "sha256": "00", "size": 1.5}"#, false)),
            1 => Just(entry(r#", "artifact": {"key": "k", "sha256": "00", "size": 1e3}"#, false)),
            1 => Just(entry(r#", "artifact": {"key": "k", "sha256": "00", "size": -1}"#, false)),
            1 => Just(entry(r#", "artifact": {"key": "k", "sha256": "00", "size": 18446744073709551616}"#, false)),
            1 => Just(entry(r#", "artifact": {"key": "k", "sha256": "00", "size": null}"#, true)),
            1 => Just(entry(r#", "artifact": {"key": "k", "sha256": "00", "size": 18446744073709551615}"#, true)),
            1 => Just(entry(r#", "artifact": {"key": "k", "sha256": "00", "size": -0}"#, false)),
            1 => Just(entry(r#", "artifact": {"key": "k", "sha256": "00", "size": 1.0}"#, false)),
            1 => Just(entry(r#", "artifact": {"key": "k", "sha256": "00", "size": 1E3}"#, false)),
            1 => Just(entry(r#", "artifact": {"key": "k", "sha256": "00", "size": 1, "size": 1}"#, false)),
            1 => Just(entry(r#", "artifact": {"key": "k", "sha256": "00",}"#, false)),
            1 => Just(entry(r#", "models": ["m0", null]"#, false)),
            1 => Just(entry(r#", "status": "deadend", "reason": "eol""#, true)),
            1 => Just(entry(r#", "n\u006ftes": "escaped name""#, true)),
            1 => Just(entry(", \"notes\": \"\u{1}\"", false)),
            1 => Just(entry(r#", "artifact": {"key": "k"}"#, false)),
            1 => Just(entry(r#", "artifact": {"key": "k", "sha256": "00", "key": "j"}"#, false)),
            1 => Just(entry(r#", "artifact": {"key": "k", "sha256": "00", "url": "u"}"#, false)),
            1 => Just(entry(r#", "models": ["m0",]"#, false)),
            1 => Just(entry(r#", "models": "m0""#, false)),
            1 => Just(entry(r#", "version": "2""#, false)),
            1 => Just(entry(r#", "status": "gone""#, false)),
            1 => Just(entry(r#", "modles": []"#, false)),
            1 => Just((r#"{"models": ["m0"]}"#.to_owned(), Some(false))),
            1 => "[ \t\r\n\\\\\"{}:,a-z0-9.\u{1}é]{0,12}".prop_map(|text| (text, None)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Documents of plain and other entries, spaced at random, some of them broken: this
        /// reader reads what the document's reader reads or leaves the document to it, and the
        /// load gives the same graph or error.
        #[test]
        fn reads_what_the_document_reader_reads(
            pieces in proptest::collection::vec(piece(), 0..8),
            spaces in proptest::collection::vec("[ \t\r\n]{0,2}", 16),
        ) {
            let mut edges = String::from("[");
            for (i, (piece, _)) in pieces.iter().enumerate() {
                if i > 0 {
                    edges.push_str(&spaces[i % 16]);
                    edges.push(',');
                }
                edges.push_str(&spaces[(i + 7) % 16]);
                edges.push_str(piece);
            }
            edges.push_str(&spaces[15]);
            edges.push(']');
            reads_as_its_entries(&doc(&edges), &pieces.iter().map(|(_, reads)| *reads).collect::<Vec<_>>())?;
        }

        /// Release entries of every shape, spaced at random, some of them wrong: read as the
        /// document's reader reads them, or left to it.
        #[test]
        fn reads_releases_as_the_document_reader_does(
            entries in proptest::collection::vec(0..40usize, 0..6).prop_flat_map(|ks| ks.into_iter().map(release).collect::<Vec<_>>()),
            spaces in proptest::collection::vec("[ \t\r\n]{0,2}", 16),
        ) {
            let spaced = |i: usize, entry: &str| entry.replace(", ", &format!("{},", spaces[i % 16])).replace(": ", &format!(":{}", spaces[(i + 5) % 16]));
            let list: Vec<String> = entries.iter().enumerate().map(|(i, (entry, _))| spaced(i, entry)).collect();
            let text = format!(r#"{{"format_version": 1, "releases": [{}], "edges": []}}"#, list.join(", "));
            reads_as_its_entries(&text, &entries.iter().map(|(_, reads)| *reads).collect::<Vec<_>>())?;
        }

        /// A sound document with one byte changed, removed or added: the same.
        #[test]
        fn one_byte_changed(at in any::<proptest::sample::Index>(), byte in proptest::sample::select(b" \t\n\"\\{}[],:0a.".to_vec()), how in 0..3u8) {
            let mut text = doc(r#"[{"from": "1.0.0", "to": "1.1.0"}, {"to": "2.0.0", "from": "1.1.0"}, {"from": "1.0.0", "to": "2.0.0"}]"#).into_bytes();
            match how {
                0 => { let at = at.index(text.len()); text[at] = byte; }
                1 => { text.remove(at.index(text.len())); }
                _ => text.insert(at.index(text.len() + 1), byte),
            }
            let Ok(text) = String::from_utf8(text) else { return Ok(()) };
            read_alike(&text);
            let _ = loads_alike(&text);
        }
    }
}
