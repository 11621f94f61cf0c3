//! Exports stay valid and inert whatever the manifest's labels, notes and reasons hold:
//! quotes, brackets, HTML, entity codes and line breaks never close a string or reach a page as
//! markup.

use fleetpath::UpgradeGraph;

const HOSTILE: &str = r#"<img src=x onerror="alert(1)">"];r9["x"] --> r0 | #lt;b#gt; `md` [[a]] {b} (c) \ end
next"#;

fn hostile_graph() -> UpgradeGraph {
    let manifest = serde_json::json!({
        "format_version": 1,
        "name": HOSTILE,
        "releases": [
            {"version": "1.0", "labels": {HOSTILE: HOSTILE}},
            {"version": "2.0", "status": "blocked", "reason": HOSTILE},
            {"version": "3.0", "barrier": true, "notes": HOSTILE},
            {"version": "4.0"},
        ],
        "edges": [
            {"from": "1.0", "to": "3.0", "notes": HOSTILE},
            {"from": "3.0", "to": "4.0", "risks": [{"name": HOSTILE, "message": HOSTILE}]},
            {"from": "1.0", "to": "2.0", "blocked": HOSTILE},
        ],
    });
    UpgradeGraph::from_value(manifest).unwrap()
}

#[test]
fn edges_with_risks_are_drawn_orange_with_the_risks_names() {
    let graph = UpgradeGraph::from_json(
        r#"{"format_version": 1, "releases": [{"version": "1.0"}, {"version": "2.0"}],
            "edges": [{"from": "1.0", "to": "2.0", "risks": [{"name": "OldBoot"}, {"name": "Radio"}]}]}"#,
    )
    .unwrap();
    let mermaid = graph.to_mermaid(None);
    assert!(mermaid.contains("r0 -->|\"risk: OldBoot, Radio\"| r1"), "{mermaid}");
    assert!(mermaid.contains("linkStyle 0 stroke:#ca6f1e"), "{mermaid}");
    let dot = graph.to_dot(None);
    assert!(
        dot.contains("r0 -> r1 [color=\"#ca6f1e\", fontcolor=\"#ca6f1e\", label=\"risk: OldBoot, Radio\"];"),
        "{dot}"
    );
}

#[test]
fn mermaid_labels_hold_no_syntax_and_no_markup() {
    let mermaid = hostile_graph().to_mermaid(None);
    let mut labels = 0;
    for line in mermaid.lines().skip(1) {
        let line = line.trim();
        // Every quoted label is the only quoted part of its line, and holds no character
        // Mermaid or HTML would read (the only markup is fleetpath's own `<br/>`).
        if let Some(start) = line.find('"') {
            let end = line.rfind('"').unwrap();
            assert!(end > start, "{line}");
            let label = &line[start + 1..end].replace("<br/>", "\n");
            for c in ['"', '<', '>', '|', '[', ']', '{', '}', '(', ')', '`', '\\'] {
                assert!(!label.contains(c), "{c:?} in label of {line}");
            }
            assert!(!label.contains("#lt;"), "entity codes are escaped too: {line}");
            labels += 1;
        } else {
            assert!(!line.contains('<') && !line.contains("onerror"), "{line}");
        }
    }
    assert_eq!(labels, 6, "four nodes, the edge with a risk and the blocked edge carry labels:\n{mermaid}");
    assert!(mermaid.contains("#60;img src=x onerror=#34;alert#40;1#41;#34;#62;"), "{mermaid}");
}

#[test]
fn dot_strings_are_closed_and_renderable() {
    let dot = hostile_graph().to_dot(None);
    // Outside strings, only fleetpath's own syntax: every quote that opens a string closes it
    // on the same line (escaped quotes inside do not count).
    for line in dot.lines() {
        let unescaped = line.replace("\\\\", "").replace("\\\"", "");
        assert_eq!(unescaped.matches('"').count() % 2, 0, "{line}");
        assert!(!line.contains('\n'), "line breaks are escaped");
    }
    // Where Graphviz is installed (CI installs it), the output renders and the SVG carries
    // the label as text.
    let required = std::env::var_os("FLEETPATH_REQUIRE_DOT").is_some();
    let run = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = run else {
        assert!(!required, "FLEETPATH_REQUIRE_DOT is set but `dot` cannot run");
        return;
    };
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), dot.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "dot refused the export: {}", String::from_utf8_lossy(&out.stderr));
    let svg = String::from_utf8(out.stdout).unwrap();
    assert!(!svg.contains("<img"), "markup must stay text");
    assert!(svg.contains("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"), "{svg}");
}
