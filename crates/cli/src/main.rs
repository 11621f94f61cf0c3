//! `fleetpath`: the core from any shell. Check manifests in CI, preview paths and rollout
//! plans, and answer "what would this device be told now, and why".
//!
//! Exit status: 0 success (or findings below `--deny`), 1 findings at or above `--deny` (or no
//! path for `path`), 2 unusable input (the typed error and its code on stderr, no backtrace).

mod check;
mod health;
mod output;
mod trust;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use fleetpath::decision::{Decider, DecisionPolicy, DeviceRequest};
use fleetpath::{Calendar, Constraints, Document, Fleet, Rollout, RolloutPolicy, UpgradeGraph, Version, plan_rollout};
use jiff::Timestamp;

use crate::output::{Style, Table, outln};

#[derive(Parser)]
#[command(name = "fleetpath", version, about = "Firmware upgrade paths, staged rollouts and device decisions")]
#[command(after_help = "Examples:\n  fleetpath check manifest.json --deny warn --format github\n  \
                        fleetpath path manifest.json 5.6.14 latest --model IPM-1\n  \
                        fleetpath plan manifest.json fleet.csv --target 6.15.008 --calendar calendar.json")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load and lint manifests (and a fleet and a calendar against them).
    #[command(visible_alias = "lint")]
    #[command(
        after_help = "Example:\n  fleetpath check examples/data/*.json --fleet plant.csv --deny warn --format github\n\n\
                            Exit status: 0 clean, 1 findings at or above --deny, 2 unusable input."
    )]
    Check(check::CheckArgs),
    /// The fewest-hop upgrade path between two releases.
    #[command(after_help = "Example:\n  fleetpath path manifest.json 5.6.14 latest --model IPM-1\n\n\
                            Exit status: 0 with a path, 1 when there is none (the reason on stderr), 2 unusable input.")]
    Path {
        /// The manifest (JSON).
        manifest: PathBuf,
        /// The release the device runs.
        from: String,
        /// The target release, or `latest` (the newest for `--model`).
        to: String,
        #[command(flatten)]
        constraints: ConstraintArgs,
        /// The path as JSON (the core's form).
        #[arg(long)]
        json: bool,
    },
    /// Every release that can reach a target, with its next hop.
    #[command(after_help = "Example:\n  fleetpath route-table manifest.json 6.15.008 --model IPM-1")]
    RouteTable {
        /// The manifest (JSON).
        manifest: PathBuf,
        /// The target release, or `latest`.
        to: String,
        #[command(flatten)]
        constraints: ConstraintArgs,
        /// The entries as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The graph as Mermaid or Graphviz DOT, optionally with a path highlighted.
    #[command(
        after_help = "Example:\n  fleetpath graph manifest.json --dot --path 5.6.14 6.15.008 | dot -Tsvg > graph.svg"
    )]
    Graph {
        /// The manifest (JSON).
        manifest: PathBuf,
        /// Graphviz DOT instead of Mermaid.
        #[arg(long, conflicts_with = "mermaid")]
        dot: bool,
        /// Mermaid (the default).
        #[arg(long)]
        mermaid: bool,
        /// Highlight the path between two releases.
        #[arg(long, num_args = 2, value_names = ["FROM", "TO"])]
        path: Option<Vec<String>>,
        #[command(flatten)]
        constraints: ConstraintArgs,
    },
    /// A rollout's stages per production line, and when each stage's windows open.
    #[command(
        after_help = "Example:\n  fleetpath plan manifest.json plant.csv --target 6.15.008 --calendar calendar.json \
                            --from 2026-11-30T06:00:00Z"
    )]
    Plan(PlanArgs),
    /// What a device asking now would be told, and why.
    #[command(
        after_help = "Example:\n  fleetpath decide manifest.json --device press-1-07 --model IPM-1 --version 5.6.14 \
                            --rollout rollout.json --calendar calendar.json --at 2026-11-30T13:00:00Z"
    )]
    Decide(DecideArgs),
    /// Health states: ingest samples, evaluate a policy.
    Health {
        #[command(subcommand)]
        command: health::HealthCommand,
    },
    /// Signs a document: an envelope with Ed25519 signatures over TUF's canonical JSON.
    #[command(after_help = "Example:\n  fleetpath sign manifest.json --kind manifest --version 7 \
                            --expires 2027-01-01T00:00:00Z --key release-key.json > manifest.signed.json")]
    Sign(trust::SignArgs),
    /// Verifies a signed document against trusted keys (threshold, expiry, rollback).
    #[command(after_help = "Example:\n  fleetpath verify manifest.signed.json --kind manifest --trusted keys.json \
                            --last-accepted 6 --document-out manifest.json\n\nExit status: 0 verified, 1 refused \
                            (the reason and its code on stderr), 2 unusable input.")]
    Verify(trust::VerifyArgs),
    /// Shell completions (bash, zsh, fish, powershell, elvish) on stdout.
    #[command(after_help = "Example:\n  fleetpath completions bash > /etc/bash_completion.d/fleetpath")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Args)]
struct ConstraintArgs {
    /// The hardware model every release on the path must install on.
    #[arg(long)]
    model: Option<String>,
    /// Allow blocked releases on the path.
    #[arg(long)]
    allow_blocked: bool,
    /// The most hops a path may take.
    #[arg(long)]
    max_hops: Option<u32>,
    /// A label of the device (repeatable), for the conditions of edge risks; without any,
    /// the device's labels are unknown and a risk conditioned on a label applies.
    #[arg(long = "label", value_name = "NAME=VALUE", value_parser = parse_label)]
    labels: Vec<(String, String)>,
    /// An edge risk the host accepts for the device (repeatable).
    #[arg(long = "accept-risk", value_name = "NAME")]
    accepted_risks: Vec<String>,
}

fn parse_label(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got {text:?}")),
    }
}

impl ConstraintArgs {
    fn constraints(&self) -> Constraints {
        Constraints {
            model: self.model.clone(),
            allow_blocked: self.allow_blocked,
            max_hops: self.max_hops,
            labels: (!self.labels.is_empty()).then(|| self.labels.iter().cloned().collect()),
            accepted_risks: self.accepted_risks.iter().cloned().collect(),
        }
    }
}

#[derive(Args)]
struct PlanArgs {
    /// The manifest (JSON).
    manifest: PathBuf,
    /// The fleet (CSV or JSON).
    fleet: PathBuf,
    /// The target release.
    #[arg(long)]
    target: String,
    /// A rollout policy (JSON); the seed's defaults when absent.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// A calendar (JSON): each stage's next window per site and line, in the site's time.
    #[arg(long)]
    calendar: Option<PathBuf>,
    /// The rollout id (it seeds which devices each stage takes).
    #[arg(long, default_value = "rollout")]
    rollout_id: String,
    /// Windows from this instant (RFC 3339); now when absent.
    #[arg(long)]
    from: Option<Timestamp>,
    /// Output form.
    #[arg(long, value_enum, default_value_t = PlanFormat::Table)]
    format: PlanFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum PlanFormat {
    Table,
    Csv,
    Json,
}

#[derive(Args)]
struct DecideArgs {
    /// The manifest (JSON).
    manifest: PathBuf,
    /// The device id.
    #[arg(long)]
    device: String,
    /// Its hardware model.
    #[arg(long)]
    model: String,
    /// The version it runs.
    #[arg(long)]
    version: String,
    /// The rollout's stored state (JSON); without it, the device is sent toward the newest
    /// release for its model (or `--target`).
    #[arg(long)]
    rollout: Option<PathBuf>,
    /// The target when there is no rollout.
    #[arg(long, conflicts_with = "rollout")]
    target: Option<String>,
    /// The calendar the rollout follows (JSON).
    #[arg(long, requires = "rollout")]
    calendar: Option<PathBuf>,
    /// A decision policy (JSON); the defaults when absent.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// When it asks (RFC 3339); now when absent.
    #[arg(long)]
    at: Option<Timestamp>,
    /// The decision as JSON (the core's form, with `kind` and `reason`).
    #[arg(long)]
    json: bool,
}

/// Why a command stopped: unusable input (exit 2) or an answer that is a failure (exit 1).
#[derive(Debug)]
pub(crate) enum Failure {
    /// An input could not be read or is invalid: `what` names it.
    Input { what: String, code: String, message: String },
    /// The command ran, and its answer is "no" (no path).
    Answer { code: String, message: String },
}

impl Failure {
    pub(crate) fn input(what: &Path, error: impl Into<fleetpath::Error>) -> Self {
        let error = error.into();
        Self::Input { what: what.display().to_string(), code: error.code().to_owned(), message: error.to_string() }
    }
}

/// Reads a file, or names it in the error.
pub(crate) fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure::Input {
        what: path.display().to_string(),
        code: "unreadable".to_owned(),
        message: e.to_string(),
    })
}

pub(crate) fn load_graph(path: &Path) -> Result<UpgradeGraph, Failure> {
    UpgradeGraph::from_json(&read(path)?).map_err(|e| Failure::input(path, e))
}

fn load<T: Document>(path: &Path) -> Result<T, Failure> {
    T::from_json(&read(path)?).map_err(|e| Failure::input(path, e))
}

fn version(text: &str, what: &str) -> Result<Version, Failure> {
    Version::parse(text).map_err(|e| Failure::Input {
        what: what.to_owned(),
        code: fleetpath::Error::from(e.clone()).code().to_owned(),
        message: e.to_string(),
    })
}

/// `latest` (the newest release for the model) or a version.
fn target(graph: &UpgradeGraph, text: &str, model: Option<&str>) -> Result<Version, Failure> {
    if text != "latest" {
        return version(text, "the target");
    }
    let Some(model) = model else {
        return Err(Failure::Input {
            what: "the target".to_owned(),
            code: "invalid_input".to_owned(),
            message: "`latest` needs --model (the newest release differs by hardware model)".to_owned(),
        });
    };
    graph
        .latest_for(model)
        .map(|r| r.version().clone())
        .map_err(|e| Failure::Answer { code: e.code().to_owned(), message: e.to_string() })
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn run(cli: Cli, style: Style) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::Check(args) => check::run(&args, style),
        Command::Path { manifest, from, to, constraints, json: as_json } => {
            let graph = load_graph(&manifest)?;
            let c = constraints.constraints();
            let to = target(&graph, &to, c.model.as_deref())?;
            let path = graph.resolve(&version(&from, "FROM")?, &to, &c).map_err(|e| {
                let e = fleetpath::Error::from(e);
                Failure::Answer { code: e.code().to_owned(), message: e.to_string() }
            })?;
            if as_json {
                outln!("{}", json(&path));
            } else {
                let versions: Vec<String> = path.versions().iter().map(ToString::to_string).collect();
                outln!(
                    "{} ({} hop{})",
                    versions.join(" -> "),
                    path.hops.len(),
                    if path.hops.len() == 1 { "" } else { "s" }
                );
                for hop in &path.hops {
                    let artifact = hop.artifact.as_ref().map_or("no artifact".to_owned(), |a| a.key.clone());
                    outln!("  {} -> {}  {}", hop.from, hop.to, style.dim(&artifact));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::RouteTable { manifest, to, constraints, json: as_json } => {
            let graph = load_graph(&manifest)?;
            let c = constraints.constraints();
            let to = target(&graph, &to, c.model.as_deref())?;
            let table = graph.route_table(&to, &c).map_err(|e| Failure::input(&manifest, e))?;
            let entries = table.entries();
            if as_json {
                outln!("{}", json(&entries));
            } else {
                let mut out = Table::new(["FROM", "NEXT", "HOPS"]);
                for e in &entries {
                    let next = e.next.as_ref().map_or("(target)".to_owned(), ToString::to_string);
                    out.row([e.from.to_string(), next, e.hops.to_string()]);
                }
                output::write(&out.to_string());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Graph { manifest, dot, mermaid: _, path, constraints } => {
            let graph = load_graph(&manifest)?;
            let highlight = match path.as_deref() {
                Some([from, to]) => Some(
                    graph
                        .resolve(&version(from, "FROM")?, &version(to, "TO")?, &constraints.constraints())
                        .map_err(|e| Failure::input(&manifest, e))?,
                ),
                _ => None,
            };
            let text = if dot { graph.to_dot(highlight.as_ref()) } else { graph.to_mermaid(highlight.as_ref()) };
            output::write(&text);
            Ok(ExitCode::SUCCESS)
        }
        Command::Plan(args) => plan(&args, style),
        Command::Decide(args) => decide(&args),
        Command::Health { command } => health::run(&command),
        Command::Sign(args) => trust::sign(&args),
        Command::Verify(args) => trust::verify(&args),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "fleetpath", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn plan(args: &PlanArgs, style: Style) -> Result<ExitCode, Failure> {
    let graph = load_graph(&args.manifest)?;
    let fleet = Fleet::from_text(&read(&args.fleet)?).map_err(|e| Failure::input(&args.fleet, e))?;
    let policy = match &args.policy {
        Some(path) => load::<RolloutPolicy>(path)?,
        None => RolloutPolicy::default(),
    };
    let calendar = args.calendar.as_deref().map(load::<Calendar>).transpose()?;
    let target = version(&args.target, "--target")?;
    let plan =
        plan_rollout(&graph, &fleet, &target, &policy, &args.rollout_id).map_err(|e| Failure::input(&args.fleet, e))?;
    let from = args.from.unwrap_or_else(Timestamp::now);
    // Each stage's next window per (site, line), in the site's local time.
    let mut rows = Vec::new();
    for stage in &plan.stages {
        for (line, count) in &stage.lines {
            let site = stage
                .devices
                .iter()
                .filter_map(|d| fleet.get(d.id))
                .find(|d| d.line == line.as_str())
                .and_then(|d| d.site);
            let window = match (&calendar, &site) {
                (Some(calendar), Some(site)) => match calendar.next_window(site, line, &stage.name, from) {
                    Ok(Some(w)) => local_window(calendar, site, w.start, w.end),
                    Ok(None) => "none within the horizon".to_owned(),
                    Err(e) => format!("{} ({})", e, fleetpath::Error::from(e.clone()).code()),
                },
                _ => String::new(),
            };
            rows.push([stage.name.clone(), line.clone(), count.to_string(), window]);
        }
    }
    match args.format {
        PlanFormat::Json => outln!("{}", json(&plan)),
        PlanFormat::Csv => {
            outln!("stage,line,devices,next_window");
            for row in &rows {
                outln!("{}", row.iter().map(|c| output::csv_cell(c)).collect::<Vec<_>>().join(","));
            }
        }
        PlanFormat::Table => {
            let mut out = Table::new(["STAGE", "LINE", "DEVICES", "NEXT WINDOW (site time)"]);
            for row in rows {
                out.row(row);
            }
            output::write(&out.to_string());
            outln!("{} up to date; {} excluded", plan.up_to_date.len(), plan.excluded.len());
            for e in &plan.excluded {
                outln!("  {} {}: {}", style.warn("excluded"), e.id, e.message);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn local_window(calendar: &Calendar, site: &str, start: Timestamp, end: Timestamp) -> String {
    let zone = calendar
        .spec()
        .sites
        .iter()
        .find(|s| s.name == site)
        .and_then(|s| jiff::tz::TimeZone::get(&s.time_zone).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let (s, e) = (zone.to_datetime(start), zone.to_datetime(end));
    format!("{} – {} (UTC{})", s.strftime("%a %Y-%m-%d %H:%M"), e.strftime("%a %H:%M"), zone.to_offset(start))
}

fn decide(args: &DecideArgs) -> Result<ExitCode, Failure> {
    let graph = load_graph(&args.manifest)?;
    let policy = match &args.policy {
        Some(path) => load::<DecisionPolicy>(path)?,
        None => DecisionPolicy::default(),
    };
    let mut decider = Decider::new(&graph, policy).map_err(|e| Failure::input(&args.manifest, e))?;
    if let Some(path) = &args.rollout {
        let rollout = load::<Rollout>(path)?;
        let calendar = args.calendar.as_deref().map(load::<Calendar>).transpose()?;
        decider = decider.with_rollout(rollout, calendar.as_ref()).map_err(|e| Failure::input(path, e))?;
    } else if let Some(text) = &args.target {
        let to = version(text, "--target")?;
        decider = decider.with_target(&to).map_err(|e| Failure::input(&args.manifest, e))?;
    }
    let request = DeviceRequest {
        device: args.device.clone(),
        model: args.model.clone(),
        version: version(&args.version, "--version")?,
        at: args.at.unwrap_or_else(Timestamp::now),
        retry: fleetpath::RetryState::default(),
        labels: None,
    };
    let decision = decider.decide(&request);
    let tagged = fleetpath::decision::Tagged::of(&decision);
    if args.json {
        outln!("{}", json(&tagged));
    } else {
        outln!("{}: {}", decision.kind(), decision.reason());
        if let serde_json::Value::Object(fields) = serde_json::to_value(&decision).unwrap_or_default() {
            for (key, value) in fields.iter().filter(|(k, _)| !matches!(k.as_str(), "kind" | "reason" | "decision")) {
                outln!("  {key}: {}", output::compact(value));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let style = Style::for_stream(&std::io::stderr());
    match run(cli, Style::for_stream(&std::io::stdout())) {
        Ok(code) => code,
        Err(Failure::Input { what, code, message }) => {
            eprintln!("{} {what}: {message}", style.error(&format!("error[{code}]")));
            ExitCode::from(2)
        }
        Err(Failure::Answer { code, message }) => {
            eprintln!("{} {message}", style.error(&format!("error[{code}]")));
            ExitCode::from(1)
        }
    }
}
