//! A faster reader of a manifest's text for the common shape of its edges: each a plain
//! upgrade, `{"from": "…", "to": "…"}`, with no escape in its strings (a big manifest holds a
//! hundred thousand, most of its text).
//!
//! It reads the document's object itself, hands each value but the edges to `serde_json` (the
//! same readers as [`ManifestWire`]'s), reads each plain edge directly and hands any other
//! entry to `serde_json` (the same [`WireEdge`] reader). It gives what [`ManifestWire`]'s
//! reader gives, or nothing: a document it cannot read whole (malformed, or a shape it does
//! not know, such as escapes in a field's name) is read again by that reader, which gives the
//! result or the error (so errors, their places and their order are that reader's). The
//! `manifest` fuzz target and the tests compare the two.
//!
//! Every value in a manifest has a bounded depth when it reads, so `serde_json`'s limit of
//! nested values (which counts from where a reader starts) refuses no document here that the
//! whole document's reader reads.

use serde::Deserialize;

use super::manifest::{ManifestWire, WireEdge};

/// The manifest in `text`, or `None` when anything in it is wrong or unusual.
pub(super) fn read(text: &str) -> Option<ManifestWire<'_>> {
    /// A field's value, `None` when the field is given twice.
    fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
        slot.is_none().then(|| *slot = Some(value))
    }
    let mut at = Cursor { text, at: 0 };
    let (mut format_version, mut name, mut description, mut include_prerelease) = (None, None, None, None);
    let (mut releases, mut edges, mut downgrades, mut channels) = (None, None, None, None);
    at.eat(b'{')?;
    if at.eat(b'}').is_none() {
        loop {
            let field = at.string()?;
            at.eat(b':')?;
            match field {
                "format_version" => once(&mut format_version, at.value()?)?,
                "name" => once(&mut name, at.value()?)?,
                "description" => once(&mut description, at.value()?)?,
                "include_prerelease" => once(&mut include_prerelease, at.value()?)?,
                "releases" => once(&mut releases, at.value()?)?,
                "edges" => once(&mut edges, at.edges()?)?,
                "downgrades" => once(&mut downgrades, at.value()?)?,
                "channels" => once(&mut channels, at.value()?)?,
                _ => return None,
            }
            if at.eat(b'}').is_some() {
                break;
            }
            at.eat(b',')?;
        }
    }
    at.end()?;
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

    /// After whitespace: one value as `T`'s reader reads it.
    fn value<T: Deserialize<'a>>(&mut self) -> Option<T> {
        let rest = self.text.get(self.at..)?;
        let mut values = serde_json::Deserializer::from_str(rest).into_iter::<T>();
        let value = values.next()?.ok()?;
        self.at += values.byte_offset();
        Some(value)
    }

    /// After whitespace: an `edges` list.
    fn edges(&mut self) -> Option<Vec<WireEdge<'a>>> {
        self.eat(b'[')?;
        let mut edges = Vec::new();
        if self.eat(b']').is_some() {
            return Some(edges);
        }
        loop {
            let edge = match self.plain() {
                Some(edge) => edge,
                None => self.value()?,
            };
            edges.push(edge);
            if self.eat(b']').is_some() {
                return Some(edges);
            }
            self.eat(b',')?;
        }
    }

    /// After whitespace: `{"from": "…", "to": "…"}` (either order) with no escapes, or
    /// nothing, the cursor where it was.
    fn plain(&mut self) -> Option<WireEdge<'a>> {
        let start = self.at;
        let read = self.fields();
        if read.is_none() {
            self.at = start;
        }
        read
    }

    fn fields(&mut self) -> Option<WireEdge<'a>> {
        self.eat(b'{')?;
        let first = self.field()?;
        self.eat(b',')?;
        let second = self.field()?;
        self.eat(b'}')?;
        match (first, second) {
            ((true, from), (false, to)) | ((false, to), (true, from)) => Some(WireEdge::Plain { from, to }),
            _ => None,
        }
    }

    /// After whitespace: `"from": "…"` (`true` and the version) or `"to": "…"` (`false`),
    /// without escapes.
    fn field(&mut self) -> Option<(bool, &'a str)> {
        self.space();
        let rest = self.text.as_bytes().get(self.at..)?;
        let from = if rest.starts_with(b"\"from\"") {
            true
        } else if rest.starts_with(b"\"to\"") {
            false
        } else {
            return None;
        };
        self.at += if from { 6 } else { 4 };
        self.eat(b':')?;
        Some((from, self.string()?))
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
            format!(r#"["format_version", 1]"#),
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
        // An escaped field name reads, by the document reader.
        let text = doc(&format!("[{plain}]")).replace("\"edges\"", "\"edg\\u0065s\"");
        assert_eq!(loads_alike(&text).unwrap().releases().len(), 4);
    }

    /// A JSON text's pieces as a manifest can hold them, some of them wrong.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => (0..3usize, 0..3usize).prop_map(|(a, b)| format!(r#"{{"from": "{}", "to": "{}"}}"#, VERSIONS[a], VERSIONS[b])),
            1 => (0..3usize, 0..3usize).prop_map(|(a, b)| format!(r#"{{"to":"{}","from":"{}"}}"#, VERSIONS[a], VERSIONS[b])),
            1 => Just(r#"{"from": "1.0.0", "to": "2.0.0", "blocked": "recalled"}"#.to_owned()),
            1 => Just(r#"{"from": "1.0.\u0030", "to": "2.0.0"}"#.to_owned()),
            1 => Just(r#"["1.0.0", null, "1.1.0"]"#.to_owned()),
            1 => Just(r#"{"from": "1.0.0"}"#.to_owned()),
            1 => Just("null".to_owned()),
            1 => "[ \t\r\n\\\\\"{}:,a-z0-9.\u{1}é]{0,12}",
        ]
    }

    const VERSIONS: [&str; 3] = ["1.0.0", "1.1.0", "2.0.0"];

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
            for (i, piece) in pieces.iter().enumerate() {
                if i > 0 {
                    edges.push_str(&spaces[i % 16]);
                    edges.push(',');
                }
                edges.push_str(&spaces[(i + 7) % 16]);
                edges.push_str(piece);
            }
            edges.push_str(&spaces[15]);
            edges.push(']');
            let text = doc(&edges);
            read_alike(&text);
            let _ = loads_alike(&text);
        }

        /// A sound document with one byte changed, removed or added: the same.
        #[test]
        fn one_byte_changed(at in 0usize..400, byte in proptest::sample::select(b" \t\n\"\\{}[],:0a.".to_vec()), how in 0..3u8) {
            let mut text = doc(r#"[{"from": "1.0.0", "to": "1.1.0"}, {"to": "2.0.0", "from": "1.1.0"}, {"from": "1.0.0", "to": "2.0.0"}]"#).into_bytes();
            let at = at % text.len();
            match how {
                0 => text[at] = byte,
                1 => { text.remove(at); }
                _ => text.insert(at, byte),
            }
            let Ok(text) = String::from_utf8(text) else { return Ok(()) };
            read_alike(&text);
            let _ = loads_alike(&text);
        }
    }
}
