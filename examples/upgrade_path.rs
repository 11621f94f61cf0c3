//! Resolves an upgrade path in a manifest and explains it, or explains why there is none.
//!
//! ```text
//! cargo run --example upgrade_path -- <manifest.json> <from> <to|latest> [--model M]
//!     [--allow-blocked] [--max-hops N] [--mermaid | --dot]
//! ```
//!
//! Exit status: 0 with a path, 1 when there is none (the error and its code are printed),
//! 2 on bad arguments or an invalid manifest.

use std::process::ExitCode;

use fleetpath::{Constraints, Path, UpgradeGraph, Version, graph::Severity};

const USAGE: &str = "usage: upgrade_path <manifest.json> <from> <to|latest> [--model M] [--allow-blocked] \
                     [--max-hops N] [--mermaid | --dot]";

enum Drawing {
    None,
    Mermaid,
    Dot,
}

struct Args {
    manifest: String,
    from: String,
    to: String,
    constraints: Constraints,
    drawing: Drawing,
}

fn parse_args() -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut constraints = Constraints::default();
    let mut drawing = Drawing::None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--model" => constraints.model = Some(args.next().ok_or("--model needs a value")?),
            "--allow-blocked" => constraints.allow_blocked = true,
            "--max-hops" => {
                let n = args.next().ok_or("--max-hops needs a value")?;
                constraints.max_hops = Some(n.parse().map_err(|_| format!("--max-hops: not a number: {n:?}"))?);
            }
            "--mermaid" => drawing = Drawing::Mermaid,
            "--dot" => drawing = Drawing::Dot,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag:?}\n{USAGE}")),
            _ => positional.push(arg),
        }
    }
    let [manifest, from, to]: [String; 3] = positional.try_into().map_err(|_| USAGE.to_owned())?;
    Ok(Args { manifest, from, to, constraints, drawing })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let graph = match std::fs::read_to_string(&args.manifest)
        .map_err(|e| format!("cannot read {}: {e}", args.manifest))
        .and_then(|json| UpgradeGraph::from_json(&json).map_err(|e| format!("error [{}]: {e}", e.code())))
    {
        Ok(graph) => graph,
        Err(message) => {
            eprintln!("{}: {message}", args.manifest);
            return ExitCode::from(2);
        }
    };
    println!(
        "manifest {:?}: {} releases, {} upgrade edges, {} models",
        graph.name().unwrap_or("(unnamed)"),
        graph.releases().len(),
        graph.edges().count(),
        graph.models().len()
    );

    if let Ok(from) = Version::parse(&args.from) {
        for (hop, reason) in graph.blocked_hops().filter(|(h, _)| *h.from.version() == from) {
            println!("refused hop {} -> {} (edges[{}]): {reason}", hop.from.version(), hop.to.version(), hop.spec);
        }
    }
    match resolve(&graph, &args) {
        Ok(path) => {
            print_path(&graph, &path, &args.constraints);
            print_lint(&graph);
            draw(&graph, Some(&path), &args.drawing);
            ExitCode::SUCCESS
        }
        Err(message) => {
            println!("{message}");
            print_lint(&graph);
            draw(&graph, None, &args.drawing);
            ExitCode::from(1)
        }
    }
}

fn resolve(graph: &UpgradeGraph, args: &Args) -> Result<Path, String> {
    let version = |text: &str| Version::parse(text).map_err(|e| format!("error [{}]: {e}", e.code()));
    let from = version(&args.from)?;
    let to = if args.to == "latest" {
        let model = args.constraints.model.as_deref().ok_or("\"latest\" needs --model")?;
        graph.latest_for(model).map_err(|e| format!("error [{}]: {e}", e.code()))?.version().clone()
    } else {
        version(&args.to)?
    };
    graph.resolve(&from, &to, &args.constraints).map_err(|e| format!("error [{}]: {e}", e.code()))
}

fn print_path(graph: &UpgradeGraph, path: &Path, constraints: &Constraints) {
    let model = constraints.model.as_deref().map(|m| format!(" for model {m}")).unwrap_or_default();
    if path.is_empty() {
        println!("{} is already the target{model}: nothing to install", path.from);
        return;
    }
    println!("path {} -> {}{model}: {} hop(s)", path.from, path.to, path.len());
    for (i, hop) in path.hops.iter().enumerate() {
        let edge = &graph.edge_specs()[hop.edge];
        let declared = match &edge.from_range {
            Some(range) => format!("edges[{}] (range {range:?})", hop.edge),
            None => format!("edges[{}]", hop.edge),
        };
        let labels = graph
            .release(&hop.to)
            .map(|r| r.labels().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        println!("  {}. {} -> {}  via {declared}  {labels}", i + 1, hop.from, hop.to);
        match &hop.artifact {
            Some(a) => println!(
                "       artifact {}  sha256 {}…{}",
                a.key,
                &a.sha256[..12],
                a.size.map(|s| format!("  {s} bytes")).unwrap_or_default()
            ),
            None => println!("       artifact: none declared"),
        }
    }
}

fn print_lint(graph: &UpgradeGraph) {
    let findings = graph.lint();
    let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
    println!("lint: {} finding(s), {errors} error(s)", findings.len());
    for f in findings {
        println!("  {:?} [{}] {}", f.severity, f.code, f.message);
    }
}

fn draw(graph: &UpgradeGraph, path: Option<&Path>, drawing: &Drawing) {
    match drawing {
        Drawing::None => {}
        Drawing::Mermaid => print!("{}", graph.to_mermaid(path)),
        Drawing::Dot => print!("{}", graph.to_dot(path)),
    }
}
