//! `fleetpath check`: manifests loaded and linted, a fleet and a calendar checked against
//! them, findings with their place in the file, as text, JSON, GitHub Actions annotations or
//! SARIF.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use fleetpath::graph::{LintFinding, Severity, Subject};
use fleetpath::schedule::{CalendarGap, GapKind};
use fleetpath::{Calendar, Fleet, RolloutPolicy};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::output::{Style, outln};
use crate::{Failure, read};

#[derive(Args)]
pub(crate) struct CheckArgs {
    /// Manifests (JSON).
    #[arg(required = true)]
    manifests: Vec<PathBuf>,
    /// A fleet (CSV or JSON): every device must run a release of one of the manifests.
    #[arg(long)]
    fleet: Option<PathBuf>,
    /// A calendar (JSON) that must load; with `--fleet`, it must also give every site and line
    /// of the fleet a window for every stage of the policy.
    #[arg(long)]
    calendar: Option<PathBuf>,
    /// The rollout policy (JSON) whose stages the calendar must schedule; the seed's stages
    /// (canary, early, production) when absent.
    #[arg(long, requires = "calendar")]
    policy: Option<PathBuf>,
    /// Windows are looked for from this instant (RFC 3339); now when absent.
    #[arg(long, requires = "calendar")]
    at: Option<jiff::Timestamp>,
    /// The least serious finding that fails the check (exit status 1).
    #[arg(long, value_enum, default_value_t = Deny::Error)]
    deny: Deny,
    /// Output form.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Deny {
    /// Warnings and errors.
    Warn,
    /// Errors only.
    Error,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// `file:line:column: severity[code]: message`, as compilers print.
    Text,
    /// One JSON object: every file's findings in the core's form, with locations.
    Json,
    /// GitHub Actions workflow commands (`::error file=…,line=…::message`).
    Github,
    /// SARIF 2.1.0, for code-scanning UIs.
    Sarif,
}

/// A finding with the file and place it is about.
#[derive(Serialize)]
struct Located {
    file: String,
    /// 1-based; `None` for the file as a whole.
    line: Option<usize>,
    column: Option<usize>,
    #[serde(flatten)]
    finding: LintFinding,
}

/// A calendar gap, with the calendar it is about.
#[derive(Serialize)]
struct LocatedGap {
    file: String,
    severity: Severity,
    code: &'static str,
    message: String,
    #[serde(flatten)]
    gap: CalendarGap,
}

impl LocatedGap {
    fn new(file: &Path, gap: CalendarGap) -> Self {
        // The rollout would stop with an error; without a window it would only wait.
        let severity = if gap.kind == GapKind::NoWindow { Severity::Warning } else { Severity::Error };
        Self { file: file.display().to_string(), severity, code: gap.kind.code(), message: gap.to_string(), gap }
    }
}

/// One line of the report, whatever it is about.
struct Row<'a> {
    file: &'a str,
    line: Option<usize>,
    column: Option<usize>,
    severity: Severity,
    code: &'a str,
    message: &'a str,
}

/// Where the entries of a manifest start in its text.
#[derive(serde::Deserialize, Default)]
struct Entries<'a> {
    #[serde(borrow, default)]
    releases: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    edges: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    downgrades: Vec<&'a RawValue>,
}

/// Line and column (1-based) of a slice of `text`.
fn position(text: &str, part: &str) -> (usize, usize) {
    let offset = (part.as_ptr() as usize).saturating_sub(text.as_ptr() as usize).min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(offset, |n| offset - n - 1) + 1;
    (line, column)
}

/// The place of a finding's subject (or of `releases[3]`, `edges[2].to` in an error's `at`).
struct Locator<'a> {
    text: &'a str,
    entries: Entries<'a>,
}

impl<'a> Locator<'a> {
    fn new(text: &'a str) -> Self {
        Self { text, entries: serde_json::from_str(text).unwrap_or_default() }
    }

    fn entry(&self, list: &str, index: usize) -> Option<(usize, usize)> {
        let entries = match list {
            "releases" => &self.entries.releases,
            "edges" => &self.entries.edges,
            "downgrades" => &self.entries.downgrades,
            _ => return None,
        };
        entries.get(index).map(|raw| position(self.text, raw.get()))
    }

    fn subject(&self, subject: &Subject) -> Option<(usize, usize)> {
        #[derive(serde::Deserialize)]
        struct Spelled {
            version: String,
        }
        match subject {
            Subject::Release { version } => self.entries.releases.iter().find_map(|raw| {
                let spelled: Spelled = serde_json::from_str(raw.get()).ok()?;
                (&spelled.version == version).then(|| position(self.text, raw.get()))
            }),
            Subject::Edge { index } => self.entry("edges", *index),
            Subject::Downgrade { index } => self.entry("downgrades", *index),
            Subject::Model { .. } => None,
        }
    }

    /// `releases[3].version` → the place of `releases[3]`.
    fn path(&self, at: &str) -> Option<(usize, usize)> {
        let (list, rest) = at.split_once('[')?;
        let index = rest.split_once(']')?.0.parse().ok()?;
        self.entry(list, index)
    }
}

/// An input the check could not use: its file, place and typed error.
struct Unusable {
    file: String,
    line: Option<usize>,
    column: Option<usize>,
    code: String,
    message: String,
}

impl Unusable {
    fn of(file: &Path, locator: Option<&Locator<'_>>, error: &fleetpath::Error) -> Self {
        let fields = error.fields();
        let number =
            |key: &str| fields.get(key).and_then(serde_json::Value::as_u64).and_then(|n| usize::try_from(n).ok());
        let (line, column) = if let Some(line) = number("line") {
            (Some(line), number("column"))
        } else {
            let place = fields.get("at").and_then(|a| a.as_str()).and_then(|at| locator?.path(at));
            (place.map(|p| p.0), place.map(|p| p.1))
        };
        Self {
            file: file.display().to_string(),
            line,
            column,
            code: error.code().to_owned(),
            message: error.to_string(),
        }
    }
}

/// The document at `path` (if given), parsed; one that does not parse is noted as unusable,
/// and the checks go on without it.
fn load_or_note<T, E: Into<fleetpath::Error>>(
    path: Option<&PathBuf>,
    unusable: &mut Vec<Unusable>,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Option<(PathBuf, T)>, Failure> {
    let Some(path) = path else { return Ok(None) };
    Ok(match parse(&read(path)?) {
        Ok(value) => Some((path.clone(), value)),
        Err(e) => {
            unusable.push(Unusable::of(path, None, &e.into()));
            None
        }
    })
}

pub(crate) fn run(args: &CheckArgs, style: Style) -> Result<ExitCode, Failure> {
    let mut findings = Vec::new();
    let mut unusable = Vec::new();
    let mut graphs = Vec::new();
    let fleet = load_or_note(args.fleet.as_ref(), &mut unusable, Fleet::from_text)?;
    let calendar = load_or_note(args.calendar.as_ref(), &mut unusable, Calendar::from_json)?;
    let policy = load_or_note(args.policy.as_ref(), &mut unusable, |text| {
        fleetpath::document::from_str::<RolloutPolicy>("policy", text)
    })?
    .map_or_else(RolloutPolicy::default, |(_, policy)| policy);
    for manifest in &args.manifests {
        let text = read(manifest)?;
        let locator = Locator::new(&text);
        let graph = match fleetpath::UpgradeGraph::from_json(&text) {
            Ok(graph) => graph,
            Err(e) => {
                // Every problem the loader found, each at its place.
                for problem in e.errors() {
                    unusable.push(Unusable::of(manifest, Some(&locator), &problem.clone().into()));
                }
                continue;
            }
        };
        for finding in graph.lint() {
            let place = locator.subject(&finding.subject);
            findings.push(Located {
                file: manifest.display().to_string(),
                line: place.map(|p| p.0),
                column: place.map(|p| p.1),
                finding,
            });
        }
        graphs.push(graph);
    }
    // Every device runs a release of one of the manifests (a repository may keep one per product).
    if let Some((path, fleet)) = &fleet
        && !graphs.is_empty()
        && let Err(e) = fleet.check_against_any(&graphs)
    {
        unusable.push(Unusable::of(path, None, &e.into()));
    }
    // Every site and line of the fleet has a window for every stage.
    let mut gaps = Vec::new();
    if let (Some((_, fleet)), Some((calendar_path, calendar))) = (&fleet, &calendar) {
        let stages: Vec<&str> = policy.stages.iter().map(|s| s.name.as_str()).collect();
        let at = args.at.unwrap_or_else(jiff::Timestamp::now);
        gaps = calendar.gaps(fleet, &stages, at).into_iter().map(|g| LocatedGap::new(calendar_path, g)).collect();
    }
    let rows = rows(&findings, &gaps);
    let failing = |r: &Row<'_>| r.severity == Severity::Error || args.deny == Deny::Warn;
    match args.format {
        Format::Text => text(&rows, &unusable, style),
        Format::Json => json(&findings, &gaps, &unusable),
        Format::Github => github(&rows, &unusable),
        Format::Sarif => sarif(&rows, &unusable),
    }
    Ok(if !unusable.is_empty() {
        ExitCode::from(2)
    } else if rows.iter().any(failing) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Lint findings and calendar gaps alike, for the outputs that print them the same way.
fn rows<'a>(findings: &'a [Located], gaps: &'a [LocatedGap]) -> Vec<Row<'a>> {
    findings
        .iter()
        .map(|f| Row {
            file: &f.file,
            line: f.line,
            column: f.column,
            severity: f.finding.severity,
            code: f.finding.code.as_str(),
            message: &f.finding.message,
        })
        .chain(gaps.iter().map(|g| Row {
            file: &g.file,
            line: None,
            column: None,
            severity: g.severity,
            code: g.code,
            message: &g.message,
        }))
        .collect()
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn place(file: &str, line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{file}:{l}:{}", c.max(1)),
        (Some(l), None) => format!("{file}:{l}"),
        _ => file.to_owned(),
    }
}

fn text(findings: &[Row<'_>], unusable: &[Unusable], style: Style) {
    for u in unusable {
        outln!("{}: {} {}", place(&u.file, u.line, u.column), style.error(&format!("error[{}]:", u.code)), u.message);
    }
    for f in findings {
        let word = severity_word(f.severity);
        let label = format!("{word}[{}]:", f.code);
        let label = if word == "error" { style.error(&label) } else { style.warn(&label) };
        outln!("{}: {label} {}", place(f.file, f.line, f.column), f.message);
    }
    let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
    outln!(
        "{} error{}, {} warning{}{}",
        errors,
        if errors == 1 { "" } else { "s" },
        findings.len() - errors,
        if findings.len() - errors == 1 { "" } else { "s" },
        if unusable.is_empty() { String::new() } else { format!(", {} unusable input(s)", unusable.len()) }
    );
}

fn json(findings: &[Located], gaps: &[LocatedGap], unusable: &[Unusable]) {
    let unusable: Vec<serde_json::Value> = unusable
        .iter()
        .map(|u| serde_json::json!({"file": u.file, "line": u.line, "column": u.column, "code": u.code, "message": u.message}))
        .collect();
    outln!("{}", crate::json(&serde_json::json!({"findings": findings, "calendar_gaps": gaps, "unusable": unusable})));
}

/// GitHub's escaping for a workflow command's message (`%`, CR, LF).
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// ... and for a property value (also `:` and `,`).
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// `::error file=F,line=L,col=C,title=T::message` (docs.github.com, "Workflow commands for
/// GitHub Actions": setting an error / a warning message).
fn annotation(
    kind: &str,
    file: &str,
    line: Option<usize>,
    column: Option<usize>,
    title: &str,
    message: &str,
) -> String {
    let mut properties = vec![format!("file={}", escape_property(file))];
    properties.extend(line.map(|l| format!("line={l}")));
    properties.extend(column.map(|c| format!("col={}", c.max(1))));
    properties.push(format!("title={}", escape_property(title)));
    format!("::{kind} {}::{}", properties.join(","), escape_data(message))
}

fn github(findings: &[Row<'_>], unusable: &[Unusable]) {
    for u in unusable {
        outln!("{}", annotation("error", &u.file, u.line, u.column, &format!("fleetpath {}", u.code), &u.message));
    }
    for f in findings {
        let title = format!("fleetpath {}", f.code);
        outln!("{}", annotation(severity_word(f.severity), f.file, f.line, f.column, &title, f.message));
    }
}

fn sarif(findings: &[Row<'_>], unusable: &[Unusable]) {
    let location = |file: &str, line: Option<usize>, column: Option<usize>| {
        let mut physical = serde_json::json!({"artifactLocation": {"uri": file}});
        if let Some(line) = line {
            physical["region"] = serde_json::json!({"startLine": line, "startColumn": column.unwrap_or(1)});
        }
        serde_json::json!([{"physicalLocation": physical}])
    };
    let mut rules = std::collections::BTreeSet::new();
    let mut results = Vec::new();
    for u in unusable {
        rules.insert(u.code.clone());
        results.push(serde_json::json!({
            "ruleId": u.code, "level": "error", "message": {"text": u.message},
            "locations": location(&u.file, u.line, u.column),
        }));
    }
    for f in findings {
        rules.insert(f.code.to_owned());
        results.push(serde_json::json!({
            "ruleId": f.code, "level": severity_word(f.severity), "message": {"text": f.message},
            "locations": location(f.file, f.line, f.column),
        }));
    }
    let rules: Vec<_> = rules.into_iter().map(|id| serde_json::json!({"id": id, "name": id})).collect();
    let log = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "fleetpath",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/fleetpath/fleetpath",
                "rules": rules,
            }},
            "results": results,
        }],
    });
    outln!("{}", crate::json(&log));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_columns() {
        let text = "{\n  \"releases\": [\n    {\"version\": \"1.0\"},\n  {\"version\": \"2.0\"}]}";
        let locator = Locator::new(text);
        assert_eq!(locator.entry("releases", 0), Some((3, 5)));
        assert_eq!(locator.path("releases[1].version"), Some((4, 3)));
        assert_eq!(locator.subject(&Subject::Release { version: "2.0".into() }), Some((4, 3)));
        assert_eq!(locator.entry("edges", 0), None);
    }

    #[test]
    fn annotations_escape_as_github_documents() {
        let line = annotation("error", "a,b:c.json", Some(3), None, "fleetpath dead_end", "100% bad\nnext");
        assert_eq!(line, "::error file=a%2Cb%3Ac.json,line=3,title=fleetpath dead_end::100%25 bad%0Anext");
    }
}
