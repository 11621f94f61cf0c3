//! Drawing the graph: Graphviz DOT and Mermaid, with an optional path highlighted.
//!
//! Both drawings show the same things: releases (oldest left) labelled with their version,
//! labels and status; barriers with a double border; blocked releases dashed red; archived
//! ones grey; explicit upgrade edges solid; range-generated edges dashed; edges with risks
//! orange with the risks' names; blocked hops red with their reason; downgrades dotted blue.
//! A highlighted path is drawn thick green.

use crate::u32_of;
use std::collections::HashSet;
use std::fmt::Write as _;

use super::{Path, Release, ReleaseStatus, UpgradeGraph};

struct Highlight {
    nodes: HashSet<u32>,
    hops: HashSet<(u32, u32)>,
}

impl UpgradeGraph {
    fn highlight(&self, path: Option<&Path>) -> Highlight {
        let mut nodes = HashSet::new();
        let mut hops = HashSet::new();
        if let Some(path) = path {
            let ids: Vec<Option<u32>> = path.versions().into_iter().map(|v| self.node(v)).collect();
            nodes.extend(ids.iter().flatten());
            for pair in ids.windows(2) {
                if let (Some(a), Some(b)) = (pair[0], pair[1]) {
                    hops.insert((a, b));
                }
            }
        }
        Highlight { nodes, hops }
    }

    /// The graph in Graphviz DOT, with `highlight` drawn thick green.
    ///
    /// ```
    /// let graph = fleetpath::UpgradeGraph::from_json(r#"{"format_version": 1,
    ///   "releases": [{"version": "1.0"}, {"version": "2.0"}], "edges": [{"from": "1.0", "to": "2.0"}]}"#)?;
    /// assert!(graph.to_dot(None).contains("r0 -> r1"));
    /// # Ok::<(), fleetpath::GraphError>(())
    /// ```
    pub fn to_dot(&self, highlight: Option<&Path>) -> String {
        let hl = self.highlight(highlight);
        let mut out = String::new();
        let name = self.inner.manifest.name.as_deref().unwrap_or("upgrades");
        let _ = writeln!(out, "digraph \"{}\" {{", dot_escape(name));
        out.push_str("  rankdir=LR;\n");
        out.push_str("  node [shape=box, style=\"rounded,filled\", fillcolor=\"white\", fontname=\"Helvetica\"];\n");
        out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
        for (i, release) in self.releases().iter().enumerate() {
            let mut attrs = vec![format!("label=\"{}\"", node_label(release, "\\n", dot_escape))];
            let on_path = hl.nodes.contains(&u32_of(i));
            match release.status() {
                ReleaseStatus::Blocked => {
                    attrs.push("color=\"#c0392b\", fontcolor=\"#c0392b\", style=\"rounded,dashed,filled\"".into());
                }
                ReleaseStatus::Archived => attrs.push("fillcolor=\"#eeeeee\", fontcolor=\"#777777\"".into()),
                ReleaseStatus::Retired => {
                    attrs.push("fillcolor=\"#eeeeee\", fontcolor=\"#777777\", style=\"rounded,dotted,filled\"".into());
                }
                ReleaseStatus::Deadend => attrs.push("fillcolor=\"#fdebd0\", color=\"#ca6f1e\"".into()),
                ReleaseStatus::Active => {}
            }
            if release.is_barrier() {
                attrs.push("peripheries=2, penwidth=2".into());
            }
            if on_path {
                attrs.push("fillcolor=\"#d5f5e3\"".into());
            }
            let _ = writeln!(out, "  r{i} [{}];", attrs.join(", "));
        }
        for edge in self.compiled_edges() {
            let mut attrs = Vec::new();
            if edge.generated {
                attrs.push("style=dashed");
            }
            let risk = self.risk_names(edge.spec).map(|names| {
                format!("color=\"#ca6f1e\", fontcolor=\"#ca6f1e\", label=\"risk: {}\"", dot_escape(&names))
            });
            if let Some(risk) = &risk {
                attrs.push(risk);
            }
            if hl.hops.contains(&(edge.from, edge.to)) {
                attrs.push("color=\"#1e8449\", penwidth=3");
            }
            let _ = writeln!(out, "  r{} -> r{}{};", edge.from, edge.to, dot_attrs(&attrs));
        }
        for hop in &self.inner.blocked {
            let reason = self.blocked_reason(hop.spec);
            let _ = writeln!(
                out,
                "  r{} -> r{} [color=\"#c0392b\", fontcolor=\"#c0392b\", style=dotted, arrowhead=tee, constraint=false, label=\"blocked: {}\"];",
                hop.from,
                hop.to,
                dot_escape(reason)
            );
        }
        for d in &self.inner.downgrades {
            let _ = writeln!(
                out,
                "  r{} -> r{} [color=\"#2e86c1\", fontcolor=\"#2e86c1\", style=dotted, constraint=false, label=\"rollback\"];",
                d.from, d.to
            );
        }
        out.push_str("}\n");
        out
    }

    /// The graph as a Mermaid flowchart, with `highlight` drawn thick green.
    ///
    /// ```
    /// let graph = fleetpath::UpgradeGraph::from_json(r#"{"format_version": 1,
    ///   "releases": [{"version": "1.0"}, {"version": "2.0"}], "edges": [{"from": "1.0", "to": "2.0"}]}"#)?;
    /// assert!(graph.to_mermaid(None).starts_with("flowchart LR"));
    /// # Ok::<(), fleetpath::GraphError>(())
    /// ```
    pub fn to_mermaid(&self, highlight: Option<&Path>) -> String {
        let hl = self.highlight(highlight);
        let mut out = String::from("flowchart LR\n");
        let mut blocked_nodes = Vec::new();
        let mut archived_nodes = Vec::new();
        let mut retired_nodes = Vec::new();
        let mut deadend_nodes = Vec::new();
        for (i, release) in self.releases().iter().enumerate() {
            let label = node_label(release, "<br/>", mermaid_escape);
            let (open, close) = if release.is_barrier() { ("[[", "]]") } else { ("[", "]") };
            let _ = writeln!(out, "  r{i}{open}\"{label}\"{close}");
            match release.status() {
                ReleaseStatus::Blocked => blocked_nodes.push(format!("r{i}")),
                ReleaseStatus::Archived => archived_nodes.push(format!("r{i}")),
                ReleaseStatus::Retired => retired_nodes.push(format!("r{i}")),
                ReleaseStatus::Deadend => deadend_nodes.push(format!("r{i}")),
                ReleaseStatus::Active => {}
            }
        }
        let mut link = 0usize;
        let mut path_links = Vec::new();
        let mut risk_links = Vec::new();
        for edge in self.compiled_edges() {
            let arrow = if edge.generated { "-.->" } else { "-->" };
            match self.risk_names(edge.spec) {
                Some(names) => {
                    let _ =
                        writeln!(out, "  r{} {arrow}|\"risk: {}\"| r{}", edge.from, mermaid_escape(&names), edge.to);
                    risk_links.push(link.to_string());
                }
                None => {
                    let _ = writeln!(out, "  r{} {arrow} r{}", edge.from, edge.to);
                }
            }
            if hl.hops.contains(&(edge.from, edge.to)) {
                path_links.push(link.to_string());
            }
            link += 1;
        }
        let mut blocked_links = Vec::new();
        for hop in &self.inner.blocked {
            let reason = self.blocked_reason(hop.spec);
            let _ = writeln!(out, "  r{} --x|\"blocked: {}\"| r{}", hop.from, mermaid_escape(reason), hop.to);
            blocked_links.push(link.to_string());
            link += 1;
        }
        let mut downgrade_links = Vec::new();
        for d in &self.inner.downgrades {
            let _ = writeln!(out, "  r{} -.->|rollback| r{}", d.from, d.to);
            downgrade_links.push(link.to_string());
            link += 1;
        }
        out.push_str("  classDef blocked stroke:#c0392b,color:#c0392b,stroke-dasharray:4 2\n");
        out.push_str("  classDef archived fill:#eeeeee,color:#777777\n");
        if !retired_nodes.is_empty() {
            out.push_str("  classDef retired fill:#eeeeee,color:#777777,stroke-dasharray:2 2\n");
        }
        if !deadend_nodes.is_empty() {
            out.push_str("  classDef deadend fill:#fdebd0,stroke:#ca6f1e\n");
        }
        out.push_str("  classDef onpath fill:#d5f5e3,stroke:#1e8449\n");
        let classes = [
            ("blocked", &blocked_nodes),
            ("archived", &archived_nodes),
            ("retired", &retired_nodes),
            ("deadend", &deadend_nodes),
        ];
        for (class, nodes) in classes {
            if !nodes.is_empty() {
                let _ = writeln!(out, "  class {} {class}", nodes.join(","));
            }
        }
        if !hl.nodes.is_empty() {
            let mut nodes: Vec<u32> = hl.nodes.iter().copied().collect();
            nodes.sort_unstable();
            let names: Vec<String> = nodes.iter().map(|n| format!("r{n}")).collect();
            let _ = writeln!(out, "  class {} onpath", names.join(","));
        }
        for (links, style) in [
            (&risk_links, "stroke:#ca6f1e,color:#ca6f1e"),
            (&blocked_links, "stroke:#c0392b,color:#c0392b"),
            (&downgrade_links, "stroke:#2e86c1"),
            (&path_links, "stroke:#1e8449,stroke-width:3px"),
        ] {
            if !links.is_empty() {
                let _ = writeln!(out, "  linkStyle {} {style}", links.join(","));
            }
        }
        out
    }
}

impl UpgradeGraph {
    /// The names of edge entry `spec`'s risks, comma-separated, if it has any.
    fn risk_names(&self, spec: u32) -> Option<String> {
        let risks = self.edge_risks(spec);
        (!risks.is_empty()).then(|| risks.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", "))
    }
}

/// A release's label: its version, labels, barrier and status, each escaped by `escape` and
/// joined by `newline` (the format's own line break, never from the manifest's text).
fn node_label(release: &Release, newline: &str, escape: fn(&str) -> String) -> String {
    let mut lines = vec![escape(&release.spec.version)];
    for (k, v) in release.labels() {
        lines.push(format!("{}: {}", escape(k), escape(v)));
    }
    if release.is_barrier() {
        lines.push("barrier".to_owned());
    }
    match (release.status(), release.reason()) {
        (ReleaseStatus::Blocked, reason) => lines.push(format!("blocked: {}", escape(reason.unwrap_or_default()))),
        (ReleaseStatus::Archived, _) => lines.push("archived".to_owned()),
        (ReleaseStatus::Retired, _) => lines.push("retired".to_owned()),
        (ReleaseStatus::Deadend, _) => lines.push("dead end".to_owned()),
        (ReleaseStatus::Active, _) => {}
    }
    lines.join(newline)
}

fn dot_attrs(attrs: &[&str]) -> String {
    if attrs.is_empty() { String::new() } else { format!(" [{}]", attrs.join(", ")) }
}

/// Text inside a DOT quoted string: backslashes, quotes and line breaks escaped (no HTML
/// labels are used, so markup stays text).
fn dot_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' | '\r' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Text inside a Mermaid quoted label: every character Mermaid or HTML would read as syntax
/// becomes a Mermaid entity code (`#60;` for `<`), so a label can neither close the string nor
/// reach the page as markup.
fn mermaid_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' | '<' | '>' | '&' | '#' | '|' | '`' | '[' | ']' | '{' | '}' | '(' | ')' | ';' | '\\' => {
                let _ = write!(out, "#{};", u32::from(c));
            }
            c if c.is_control() => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}
