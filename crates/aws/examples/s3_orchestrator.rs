//! The field report's orchestrator against a real S3 endpoint: upload the seed firmware (the
//! bridge into Glacier), answer a few devices, prefetch what the rollout needs, and hand out
//! presigned URLs once the restores are done.
//!
//! ```text
//! cargo run -p fleetpath-aws --example s3_orchestrator -- --endpoint http://127.0.0.1:PORT
//! cargo run -p fleetpath-aws --example s3_orchestrator -- --bucket my-firmware-bucket   # AWS
//! ```
//!
//! With `--endpoint` (moto, `MinIO`) it uses path-style addressing, region `us-east-1` and the
//! credentials in `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (or test ones). Without it,
//! the default AWS chain. It creates the bucket if needed, uploads stand-in binaries with the
//! seed manifest's sizes (5.6.14 in `STANDARD`, 5.6.30 in `GLACIER`, 6.15.008 in
//! `DEEP_ARCHIVE`) and the manifest (their SHA-256s written in) to `fleetpath/ip-module.json`.
//! On AWS a restore takes hours: the example then says so and stops; run it again later.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::operation::create_bucket::CreateBucketError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, StorageClass as S3Class};
use fleetpath::decision::{Decider, Decision, DecisionPolicy, DeviceRequest};
use fleetpath::prefetch::{PrefetchPolicy, plan_prefetch};
use fleetpath::{ArtifactStore, Availability, Fleet, RetryState, Rollout, RolloutPolicy, UpgradeGraph, plan_rollout};
use fleetpath_aws::prefetch::{Task, execute, execute_plan};
use fleetpath_aws::{Documents, S3ArtifactStore, S3Settings};
use jiff::Timestamp;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const MANIFEST: &str = include_str!("../../../examples/data/seed-ip-module.json");
const MANIFEST_KEY: &str = "fleetpath/ip-module.json";
const DEVICES: [(&str, &str); 3] = [("press-1-01", "5.6.14"), ("press-1-02", "5.6.30"), ("press-1-03", "6.15.008")];

struct Args {
    endpoint: Option<String>,
    bucket: String,
    polls: u32,
}

fn args() -> Result<Args, String> {
    let mut args = Args { endpoint: None, bucket: "fleetpath-demo".to_owned(), polls: 10 };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--endpoint" => args.endpoint = Some(value()?),
            "--bucket" => args.bucket = value()?,
            "--polls" => args.polls = value()?.parse().map_err(|e| format!("--polls: {e}"))?,
            other => {
                return Err(format!(
                    "unknown argument {other:?}; usage: s3_orchestrator [--endpoint URL] [--bucket NAME] [--polls N]"
                ));
            }
        }
    }
    Ok(args)
}

/// The system clock, to the second (the library never reads a clock; the host does).
fn now() -> Timestamp {
    Timestamp::now().round(jiff::Unit::Second).unwrap_or_else(|_| Timestamp::now())
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// Uploads the stand-in firmware and the manifest that names it.
async fn upload(store: &S3ArtifactStore) -> Result<(), String> {
    let client = store.client();
    let bucket = &store.settings().bucket;
    match client.create_bucket().bucket(bucket).send().await {
        Ok(_) => println!("bucket {bucket}: created"),
        Err(err) if err.as_service_error().is_some_and(CreateBucketError::is_bucket_already_owned_by_you) => {
            println!("bucket {bucket}: exists");
        }
        Err(err) => return Err(format!("create bucket {bucket}: {}", aws_sdk_s3::error::DisplayErrorContext(&err))),
    }
    let mut manifest: Value = serde_json::from_str(MANIFEST).map_err(|e| e.to_string())?;
    for release in manifest["releases"].as_array_mut().ok_or("manifest without releases")? {
        let version = release["version"].as_str().unwrap_or_default().to_owned();
        let key = release["artifact"]["key"].as_str().unwrap_or_default().to_owned();
        let size = usize::try_from(release["artifact"]["size"].as_u64().unwrap_or(0)).map_err(|e| e.to_string())?;
        let bytes: Vec<u8> = version.bytes().cycle().take(size).collect();
        let sha256 = sha256_hex(&bytes);
        let class = match version.as_str() {
            "5.6.30" => S3Class::Glacier,
            "6.15.008" => S3Class::DeepArchive,
            _ => S3Class::Standard,
        };
        client
            .put_object()
            .bucket(bucket)
            .key(&key)
            .body(ByteStream::from(bytes))
            .storage_class(class.clone())
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .metadata("sha256", &sha256)
            .send()
            .await
            .map_err(|e| format!("upload {key}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)))?;
        println!("uploaded {key} ({size} bytes, {}, sha256 {}…)", class.as_str(), &sha256[..12]);
        release["artifact"]["sha256"] = json!(sha256);
    }
    client
        .put_object()
        .bucket(bucket)
        .key(MANIFEST_KEY)
        .content_type("application/json")
        .body(ByteStream::from(serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?))
        .send()
        .await
        .map_err(|e| format!("upload {MANIFEST_KEY}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)))?;
    println!("uploaded {MANIFEST_KEY}");
    Ok(())
}

fn show(availability: &Availability) -> String {
    match availability {
        Availability::Available { class } => format!("available ({class:?})"),
        Availability::Archived { class } => format!("ARCHIVED ({class:?})"),
        Availability::Restoring { class, ready_by, .. } => format!("restoring ({class:?}), ready by {ready_by}"),
        Availability::Restored { class, until } => format!("restored ({class:?}) until {until}"),
        Availability::Missing => "MISSING".to_owned(),
        other => format!("{other:?}"),
    }
}

/// Answers every device; presigns downloads; returns the host actions asked for.
async fn answer(
    store: &S3ArtifactStore,
    graph: &UpgradeGraph,
    observed: &BTreeMap<String, Availability>,
) -> Result<Vec<Task>, String> {
    let decider =
        Decider::new(graph, DecisionPolicy::default()).map_err(|e| e.to_string())?.with_availability(observed.clone());
    let mut tasks = Vec::new();
    for (device, version) in DEVICES {
        let request = DeviceRequest {
            device: device.to_owned(),
            model: "IPM-1".to_owned(),
            version: version.parse().map_err(|e: fleetpath::VersionError| e.to_string())?,
            at: now(),
            retry: RetryState::default(),
            labels: None,
        };
        let decision = decider.decide(&request);
        let line = match &decision {
            Decision::Download { step, url_lifetime_seconds } => {
                let url = store.presign(&step.artifact.key, *url_lifetime_seconds).await.map_err(|e| e.to_string())?;
                format!("download {} -> {}, URL valid until {}:\n    {}", step.from, step.to, url.expires_at, url.url)
            }
            Decision::RetryAfter { at, key, host_action, .. } => {
                if let Some(action) = host_action {
                    tasks.push(Task::from_host_action(action));
                }
                let action = host_action.as_ref().map_or("none", |action| action.code());
                format!("retry after {at} ({}: {key}; host: {action})", decision.reason())
            }
            other => format!("{} ({})", other.kind(), other.reason()),
        };
        println!("  {device} on {version}: {line}");
    }
    Ok(tasks)
}

async fn run() -> Result<(), String> {
    let args = args()?;
    let (settings, credentials) = match &args.endpoint {
        Some(endpoint) => {
            let key = std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_else(|_| "fleetpath-demo".to_owned());
            let secret = std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|_| "fleetpath-demo-secret".to_owned());
            (S3Settings::local(&args.bucket, endpoint), Some(Credentials::new(key, secret, None, None, "example")))
        }
        None => (S3Settings::new(&args.bucket), None),
    };
    let client = fleetpath_aws::s3_client(&settings, credentials).await.map_err(|e| e.to_string())?;
    let store = S3ArtifactStore::new(client, settings);
    upload(&store).await?;

    let documents = Documents::from_settings(store.client().clone(), store.settings());
    let graph = documents.graph(MANIFEST_KEY).await.map_err(|e| e.to_string())?.value;
    let again = documents.graph(MANIFEST_KEY).await.map_err(|e| e.to_string())?;
    println!(
        "manifest {MANIFEST_KEY}: {} releases; read again: {} (ETag {}, {} parse)",
        graph.releases().len(),
        if again.cached { "304 Not Modified, cached" } else { "changed" },
        again.etag,
        documents.parses()
    );

    let observed = store.observe_graph(&graph).await;
    println!("\nartifacts:");
    for (key, availability) in &observed.availability {
        let integrity = observed.integrity.get(key).map(|i| format!(", sha256 checked ({:?})", i.sha256));
        println!("  {key}: {}{}", show(availability), integrity.unwrap_or_default());
    }
    for (key, err) in &observed.errors {
        println!("  {key}: ERROR [{}] {err}", err.code());
    }

    println!("\ndevices ask:");
    let tasks = answer(&store, &graph, &observed.availability).await?;
    println!("\nhost actions carried out:");
    for report in execute(&store, &tasks).await {
        println!("  {}: {}", report.task.key, report.outcome.code());
    }

    // The rollout to 6.15.008: its prefetch plan restores what the stages need before they start.
    let fleet_csv = DEVICES.iter().fold("id,model,line,site,version\n".to_owned(), |mut csv, (id, version)| {
        let _ = writeln!(csv, "{id},IPM-1,press-1,plant-a,{version}");
        csv
    });
    let fleet = Fleet::from_csv(&fleet_csv).map_err(|e| e.to_string())?;
    let target = graph.latest_for("IPM-1").map_err(|e| e.to_string())?.version().clone();
    let policy = RolloutPolicy::default();
    let plan = plan_rollout(&graph, &fleet, &target, &policy, "mqtt-migration").map_err(|e| e.to_string())?;
    let rollout = Rollout::new(&plan, &fleet, &graph, &policy).map_err(|e| e.to_string())?;
    let observed = store.observe_graph(&graph).await;
    let prefetch = plan_prefetch(&rollout, &graph, None, &observed.availability, &PrefetchPolicy::default(), now());
    println!(
        "\nprefetch for rollout {} to {target}: {} artifact(s) ready, {} to act on, {} due now",
        rollout.id,
        prefetch.ready,
        prefetch.items.len(),
        prefetch.due().count()
    );
    for report in execute_plan(&store, &prefetch).await {
        println!("  {}: {}", report.task.key, report.outcome.code());
    }

    for poll in 1..=args.polls {
        let observed = store.observe_graph(&graph).await;
        let waiting: Vec<&str> = observed
            .availability
            .iter()
            .filter(|(_, a)| matches!(a, Availability::Restoring { .. } | Availability::Archived { .. }))
            .map(|(k, _)| k.as_str())
            .collect();
        if waiting.is_empty() {
            println!("\nall artifacts downloadable; devices ask again:");
            answer(&store, &graph, &observed.availability).await?;
            return Ok(());
        }
        println!("poll {poll}: still restoring: {}", waiting.join(", "));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    println!("\nrestores still running (S3 Glacier takes hours): run this again later");
    Ok(())
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
