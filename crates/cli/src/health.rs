//! `fleetpath health`: samples into a health state, and the verdict of a policy over it.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use fleetpath::health::{CohortDevice, HealthPolicy, HealthState, HealthStatus, IngestReport, SampleBatch};
use jiff::Timestamp;

use crate::output::outln;
use crate::{Failure, read};

/// Rows ingested at a time: a file of any size is read in bounded memory.
const CHUNK_ROWS: usize = 100_000;
/// Files at least this big show a progress bar (on a terminal).
const PROGRESS_BYTES: u64 = 8 << 20;

#[derive(Subcommand)]
pub(crate) enum HealthCommand {
    /// Adds samples (CSV or JSON lines) to a health state and writes the new state.
    #[command(after_help = "Example:\n  fleetpath health ingest --state state.json samples-*.csv --out state.json\n  \
                            fleetpath health ingest --policy policy.json --cohort cohort.csv samples.csv > state.json\n\n\
                            CSV: a header `device,time,<metric>…`, times as unix seconds or RFC 3339, an empty cell \
                            for a missing value.\nJSON lines: one object a line, {\"device\": …, \"time\": …, \
                            \"<metric>\": number or null…}.\nCohort CSV: `id,line,updated_at`.")]
    Ingest(IngestArgs),
    /// The verdict of a health policy over a state, with its findings.
    #[command(after_help = "Example:\n  fleetpath health evaluate --policy policy.json --state state.json \
                            --at 2026-12-01T13:00:00Z\n\nExit status: 0 healthy, 1 breach or inconclusive, \
                            2 unusable input.")]
    Evaluate {
        /// The health policy (JSON).
        #[arg(long)]
        policy: PathBuf,
        /// The health state (JSON).
        #[arg(long)]
        state: PathBuf,
        /// When the verdict is given (RFC 3339); now when absent.
        #[arg(long)]
        at: Option<Timestamp>,
        /// The report as JSON (the core's form).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub(crate) struct IngestArgs {
    /// Sample files (CSV, or JSON lines when the name ends in `.jsonl` / `.ndjson`).
    #[arg(required = true)]
    samples: Vec<PathBuf>,
    /// The state to add to.
    #[arg(long, conflicts_with_all = ["policy", "cohort"], required_unless_present = "policy")]
    state: Option<PathBuf>,
    /// A new state for this policy (JSON) ...
    #[arg(long, requires = "cohort")]
    policy: Option<PathBuf>,
    /// ... following these devices (CSV: `id,line,updated_at`).
    #[arg(long)]
    cohort: Option<PathBuf>,
    /// Where to write the new state; stdout when absent.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn invalid(what: &Path, at: impl std::fmt::Display, message: impl std::fmt::Display) -> Failure {
    Failure::Input {
        what: format!("{}: {at}", what.display()),
        code: "invalid_samples".to_owned(),
        message: message.to_string(),
    }
}

fn load_policy(path: &Path) -> Result<HealthPolicy, Failure> {
    HealthPolicy::from_json(&read(path)?).map_err(|e| Failure::input(path, e))
}

pub(crate) fn run(command: &HealthCommand) -> Result<ExitCode, Failure> {
    match command {
        HealthCommand::Evaluate { policy, state, at, json } => {
            let policy_doc = load_policy(policy)?;
            let state_doc = HealthState::from_json(&read(state)?).map_err(|e| Failure::input(state, e))?;
            let report = state_doc
                .evaluate(&policy_doc, at.unwrap_or_else(Timestamp::now))
                .map_err(|e| Failure::input(state, e))?;
            if *json {
                outln!("{}", crate::json(&report));
            } else {
                crate::output::write(&report.to_string());
            }
            Ok(if report.status == HealthStatus::Healthy { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        HealthCommand::Ingest(args) => ingest(args),
    }
}

fn ingest(args: &IngestArgs) -> Result<ExitCode, Failure> {
    let mut state = match (&args.state, &args.policy, &args.cohort) {
        (Some(path), _, _) => HealthState::from_json(&read(path)?).map_err(|e| Failure::input(path, e))?,
        (None, Some(policy), Some(cohort)) => {
            let mut state = HealthState::new(&load_policy(policy)?).map_err(|e| Failure::input(policy, e))?;
            for device in read_cohort(cohort)? {
                state.add_device(device).map_err(|e| Failure::input(cohort, e))?;
            }
            state
        }
        _ => unreachable!("clap requires --state, or --policy with --cohort"),
    };
    let mut total = IngestReport::default();
    for path in &args.samples {
        let report = ingest_file(&mut state, path)?;
        eprintln!(
            "{}: {} rows ({} baseline, {} observation, {} before the baseline, {} of unknown devices, {} duplicates)",
            path.display(),
            report.rows,
            report.baseline,
            report.observation,
            report.before_baseline,
            report.unknown_device,
            report.duplicates
        );
        total.rows += report.rows;
    }
    let text = serde_json::to_string(&state).map_err(|e| invalid(Path::new("state"), "", e))?;
    match &args.out {
        Some(out) => std::fs::write(out, text).map_err(|e| invalid(out, "", e))?,
        None => outln!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn read_cohort(path: &Path) -> Result<Vec<CohortDevice>, Failure> {
    let text = read(path)?;
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| invalid(path, "the header", e))?.clone();
    let column = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| invalid(path, "the header", format!("no `{name}` column")))
    };
    let (id, line, updated) = (column("id")?, column("line")?, column("updated_at")?);
    let mut devices = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| invalid(path, format!("row {}", row + 2), e))?;
        let at = format!("row {}", row + 2);
        let updated_at = time(record.get(updated).unwrap_or_default()).map_err(|e| invalid(path, &at, e))?;
        devices.push(CohortDevice {
            id: record.get(id).unwrap_or_default().to_owned(),
            line: record.get(line).unwrap_or_default().to_owned(),
            updated_at,
        });
    }
    Ok(devices)
}

/// Unix seconds or RFC 3339.
fn time(text: &str) -> Result<Timestamp, String> {
    match text.parse::<i64>() {
        Ok(seconds) => Timestamp::from_second(seconds).map_err(|e| format!("time {text:?}: {e}")),
        Err(_) => text.parse().map_err(|e| format!("time {text:?} is neither unix seconds nor RFC 3339: {e}")),
    }
}

/// One file's rows, in chunks of [`CHUNK_ROWS`], with a progress bar for big files.
fn ingest_file(state: &mut HealthState, path: &Path) -> Result<IngestReport, Failure> {
    let file = std::fs::File::open(path).map_err(|e| invalid(path, "", e))?;
    let size = file.metadata().map_or(0, |m| m.len());
    let bar = if size >= PROGRESS_BYTES && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        indicatif::ProgressBar::new(size)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let reader = std::io::BufReader::new(bar.wrap_read(file));
    let json_lines = path.extension().is_some_and(|e| e == "jsonl" || e == "ndjson");
    let followed: Vec<String> = state.metrics().iter().map(|m| m.name.clone()).collect();
    let mut total = IngestReport::default();
    let mut flush = |batch: &mut SampleBatch, metrics: &[String]| -> Result<(), Failure> {
        let report = state.ingest(batch).map_err(|e| Failure::input(path, e))?;
        total.rows += report.rows;
        total.baseline += report.baseline;
        total.observation += report.observation;
        total.before_baseline += report.before_baseline;
        total.unknown_device += report.unknown_device;
        total.duplicates += report.duplicates;
        *batch = SampleBatch::new(&metrics.iter().map(String::as_str).collect::<Vec<_>>());
        Ok(())
    };
    if json_lines {
        let mut sorted = followed;
        sorted.sort();
        let mut batch = SampleBatch::new(&sorted.iter().map(String::as_str).collect::<Vec<_>>());
        for (n, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| invalid(path, format!("line {}", n + 1), e))?;
            if line.trim().is_empty() {
                continue;
            }
            let at = format!("line {}", n + 1);
            let serde_json::Value::Object(row) = serde_json::from_str(&line).map_err(|e| invalid(path, &at, e))? else {
                return Err(invalid(path, &at, "not a JSON object"));
            };
            let device =
                row.get("device").and_then(|d| d.as_str()).ok_or_else(|| invalid(path, &at, "no `device` text"))?;
            let when = match row.get("time") {
                Some(serde_json::Value::Number(n)) => n.as_i64().map(|s| s.to_string()),
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                _ => None,
            }
            .ok_or_else(|| invalid(path, &at, "no `time` (unix seconds or RFC 3339)"))?;
            let when = time(&when).map_err(|e| invalid(path, &at, e))?;
            if let Some(key) = row.keys().find(|k| *k != "device" && *k != "time" && !sorted.contains(k)) {
                return Err(invalid(path, &at, format!("unknown metric {key:?} (the state follows {sorted:?})")));
            }
            let values: Vec<f64> =
                sorted.iter().map(|m| row.get(m).and_then(serde_json::Value::as_f64).unwrap_or(f64::NAN)).collect();
            batch.push(device, when.as_second(), &values);
            if batch.len() >= CHUNK_ROWS {
                flush(&mut batch, &sorted)?;
            }
        }
        flush(&mut batch, &sorted)?;
    } else {
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(reader);
        let header = reader.headers().map_err(|e| invalid(path, "the header", e))?.clone();
        if header.get(0) != Some("device") || header.get(1) != Some("time") {
            return Err(invalid(path, "the header", "the first columns must be `device,time`, then one per metric"));
        }
        // Metric columns in name order, as a batch keeps them.
        let mut metrics: Vec<(String, usize)> =
            header.iter().enumerate().skip(2).map(|(i, m)| (m.to_owned(), i)).collect();
        metrics.sort();
        let names: Vec<String> = metrics.iter().map(|(m, _)| m.clone()).collect();
        let mut batch = SampleBatch::new(&names.iter().map(String::as_str).collect::<Vec<_>>());
        let mut values = Vec::with_capacity(metrics.len());
        for (row, record) in reader.records().enumerate() {
            let at = format!("row {}", row + 2);
            let record = record.map_err(|e| invalid(path, &at, e))?;
            let when = time(record.get(1).unwrap_or_default()).map_err(|e| invalid(path, &at, e))?;
            values.clear();
            for (name, i) in &metrics {
                let cell = record.get(*i).unwrap_or_default();
                values.push(if cell.is_empty() {
                    f64::NAN
                } else {
                    cell.parse().map_err(|_| invalid(path, &at, format!("{name}: {cell:?} is not a number")))?
                });
            }
            batch.push(record.get(0).unwrap_or_default(), when.as_second(), &values);
            if batch.len() >= CHUNK_ROWS {
                flush(&mut batch, &names)?;
            }
        }
        flush(&mut batch, &names)?;
    }
    bar.finish_and_clear();
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_unix_seconds_or_rfc3339() {
        assert_eq!(time("1795000000").unwrap().as_second(), 1_795_000_000);
        assert_eq!(time("2026-11-18T11:06:40Z").unwrap().as_second(), 1_795_000_000);
        assert!(time("yesterday").unwrap_err().contains("neither unix seconds nor RFC 3339"));
    }

    #[test]
    fn documents_read_as_the_core_reads_them() {
        // The policy through its document entry point gives its typed errors.
        let err = HealthPolicy::from_json("{\"baseline_hours\": -1}").unwrap_err();
        assert!(!err.code().is_empty());
    }
}
