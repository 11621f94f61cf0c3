//! Integration tests against a real S3 server on 127.0.0.1: moto in server mode, and the
//! fault-injection proxy of `scripts/s3_fault_proxy.py` in front of it (503 `SlowDown`, 500,
//! 409, delays, extra headers). `scripts/test.sh` starts both and exports
//! `FLEETPATH_S3_ENDPOINT` and `FLEETPATH_S3_PROXY`; by hand:
//! `source scripts/s3-servers.sh && s3_servers_start && cargo test -p fleetpath-aws`.
//!
//! Each test uses its own bucket, so they run in parallel. moto is set (once, idempotently)
//! to keep a restore in progress for its first [`RESTORE_ACCESSES`] accesses (the
//! `RestoreObject` itself and the `HEAD`s after it), then to finish it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::config::Credentials;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, StorageClass as S3Class};
use fleetpath::decision::{Decider, Decision, DecisionPolicy, DeviceRequest};
use fleetpath::prefetch::{PrefetchPolicy, plan_prefetch};
use fleetpath::{
    Artifact, ArtifactStore, Availability, Fleet, RestoreTier, Rollout, RolloutPolicy, StorageClass, UpgradeGraph,
    Version, plan_rollout,
};
use fleetpath_aws::object::Sha256Source;
use fleetpath_aws::prefetch::{Outcome, Task, execute, execute_plan};
use fleetpath_aws::{Documents, Loaded, S3ArtifactStore, S3Error, S3Settings};
use jiff::Timestamp;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Accesses after which moto finishes a restore (see the module docs).
const RESTORE_ACCESSES: u32 = 4;
/// A bound no call may exceed; only there to turn a hang into a failure.
const HANG: Duration = Duration::from_mins(1);

struct Servers {
    moto: String,
    proxy: String,
}

fn servers() -> Servers {
    let get = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!(
                "{name} is not set: these tests need the S3 test server. Run ./scripts/test.sh, or \
                 `source scripts/s3-servers.sh && s3_servers_start` before `cargo test -p fleetpath-aws`"
            )
        })
    };
    Servers { moto: get("FLEETPATH_S3_ENDPOINT"), proxy: get("FLEETPATH_S3_PROXY") }
}

/// A plain HTTP/1.1 request (`Connection: close`) over a TCP stream: status, headers, body.
fn http(method: &str, url: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (authority, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let mut stream = TcpStream::connect(authority).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status");
    (status, head, raw[split + 4..].to_vec())
}

fn post_json(url: &str, value: &Value) {
    let (status, _, body) = http("POST", url, value.to_string().as_bytes());
    assert!(status < 300, "POST {url}: {status} {}", String::from_utf8_lossy(&body));
}

/// Adds fault rules to the proxy (they match by bucket path, so tests do not collide).
fn faults(rules: &Value) {
    post_json(&format!("{}/__faults__", servers().proxy), rules);
}

/// The proxy's requests under `/bucket/key…`, as (method, query, status, injected).
fn proxied(path_prefix: &str) -> Vec<Value> {
    let (_, _, body) = http("GET", &format!("{}/__faults__/log", servers().proxy), b"");
    let log: Vec<Value> = serde_json::from_slice(&body).unwrap();
    log.into_iter().filter(|e| e["path"].as_str().unwrap().starts_with(path_prefix)).collect()
}

fn count(log: &[Value], method: &str, query: &str) -> usize {
    log.iter().filter(|e| e["method"] == method && e["query"].as_str().unwrap().contains(query)).count()
}

fn restore_progression() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        post_json(
            &format!("{}/moto-api/state-manager/set-transition", servers().moto),
            &json!({"model_name": "s3::keyrestore", "transition": {"progression": "manual", "times": RESTORE_ACCESSES}}),
        );
    });
}

/// A client straight to moto (no proxy), for setting up buckets and objects.
async fn admin() -> aws_sdk_s3::Client {
    let settings = S3Settings::local("admin", servers().moto);
    fleetpath_aws::s3_client(&settings, Some(test_credentials())).await.unwrap()
}

fn test_credentials() -> Credentials {
    Credentials::new("AKIDFLEETPATHTEST", "fleetpath-test-secret", None, None, "fleetpath-tests")
}

/// Settings for the tests: fast retries, short timeouts.
fn settings(bucket: &str, endpoint: &str) -> S3Settings {
    S3Settings {
        initial_backoff_ms: 10,
        max_backoff_ms: 50,
        connect_timeout_ms: 1_000,
        attempt_timeout_ms: 2_000,
        operation_timeout_ms: 10_000,
        ..S3Settings::local(bucket, endpoint)
    }
}

fn fixed_clock(at: &str) -> fleetpath_aws::Clock {
    let at: Timestamp = at.parse().unwrap();
    Arc::new(move || at)
}

async fn store_at(bucket: &str, endpoint: &str) -> S3ArtifactStore {
    let settings = settings(bucket, endpoint);
    let client = fleetpath_aws::s3_client(&settings, Some(test_credentials())).await.unwrap();
    S3ArtifactStore::new(client, settings)
}

/// A fresh bucket (each test its own).
async fn bucket(name: &str) {
    restore_progression();
    let admin = admin().await;
    admin.create_bucket().bucket(name).send().await.unwrap();
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// Deterministic stand-in firmware of `size` bytes.
fn firmware(name: &str, size: usize) -> Vec<u8> {
    name.bytes().cycle().take(size).collect()
}

/// Uploads `bytes` with a SHA-256 checksum (and the hex digest as `x-amz-meta-sha256`).
async fn put(bucket: &str, key: &str, bytes: &[u8], class: S3Class) -> Artifact {
    let sha256 = sha256_hex(bytes);
    admin()
        .await
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(bytes.to_vec()))
        .storage_class(class)
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .metadata("sha256", &sha256)
        .send()
        .await
        .unwrap();
    Artifact { key: key.to_owned(), sha256, size: Some(bytes.len() as u64) }
}

async fn guard<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(HANG, f).await.expect("the call hung past every configured timeout")
}

#[tokio::test]
async fn each_storage_class_and_restore_state() {
    let b = "avail-states";
    bucket(b).await;
    let s = servers();
    for (key, class) in [
        ("fw/standard.bin", S3Class::Standard),
        ("fw/ia.bin", S3Class::StandardIa),
        ("fw/ir.bin", S3Class::GlacierIr),
        ("fw/it.bin", S3Class::IntelligentTiering),
        ("fw/it-archive.bin", S3Class::IntelligentTiering),
        ("fw/it-deep.bin", S3Class::IntelligentTiering),
        ("fw/glacier.bin", S3Class::Glacier),
        ("fw/deep.bin", S3Class::DeepArchive),
    ] {
        put(b, key, b"firmware", class).await;
    }
    // moto has no Intelligent-Tiering archive tiers: the proxy adds the header S3 sends.
    faults(&json!([
        {"method": "HEAD", "path": format!("/{b}/fw/it-archive.bin"), "add_headers": {"x-amz-archive-status": "ARCHIVE_ACCESS"}},
        {"method": "HEAD", "path": format!("/{b}/fw/it-deep.bin"), "add_headers": {"x-amz-archive-status": "DEEP_ARCHIVE_ACCESS"}},
    ]));
    let store = store_at(b, &s.proxy).await;
    let seen = |key: &'static str| {
        let store = store.clone();
        async move { guard(store.availability(key)).await.unwrap() }
    };
    let available = |class| Availability::Available { class };
    assert_eq!(seen("fw/standard.bin").await, available(StorageClass::Standard));
    assert_eq!(seen("fw/ia.bin").await, available(StorageClass::InfrequentAccess));
    assert_eq!(seen("fw/ir.bin").await, available(StorageClass::GlacierInstantRetrieval));
    assert_eq!(seen("fw/it.bin").await, available(StorageClass::IntelligentTiering));
    let archived = |class| Availability::Archived { class };
    assert_eq!(seen("fw/it-archive.bin").await, archived(StorageClass::IntelligentTieringArchive));
    assert_eq!(seen("fw/it-deep.bin").await, archived(StorageClass::IntelligentTieringDeepArchive));
    assert_eq!(seen("fw/glacier.bin").await, archived(StorageClass::GlacierFlexibleRetrieval));
    assert_eq!(seen("fw/deep.bin").await, archived(StorageClass::DeepArchive));
    assert_eq!(seen("fw/nothing.bin").await, Availability::Missing);

    // Restoring, then restored: moto's x-amz-restore goes ongoing="true" → "false", expiry.
    let t0 = "2026-12-01T08:00:00Z";
    let clocked = store.clone().with_clock(fixed_clock(t0));
    let restoring = guard(clocked.request_restore("fw/deep.bin", RestoreTier::Standard, 3)).await.unwrap();
    assert_eq!(
        restoring,
        Availability::Restoring {
            class: StorageClass::DeepArchive,
            since: t0.parse().unwrap(),
            ready_by: "2026-12-01T20:00:00Z".parse().unwrap(), // Deep Archive Standard: 12 h
        }
    );
    let mut state = restoring.clone();
    for _ in 0..RESTORE_ACCESSES {
        state = guard(clocked.availability("fw/deep.bin")).await.unwrap();
        if !matches!(state, Availability::Restoring { .. }) {
            break;
        }
        assert_eq!(state, restoring, "the ledger keeps since and ready_by exact");
    }
    let Availability::Restored { class, until } = state else { panic!("not restored: {state:?}") };
    assert_eq!(class, StorageClass::DeepArchive);
    assert!(until > Timestamp::now(), "moto's expiry-date is in the future: {until}");
}

#[tokio::test]
async fn restores_are_idempotent_first_repeated_and_409() {
    let b = "restores";
    bucket(b).await;
    let s = servers();
    put(b, "fw/a.bin", b"bridge firmware", S3Class::Glacier).await;
    put(b, "fw/b.bin", b"other firmware", S3Class::Glacier).await;
    put(b, "fw/deep.bin", b"deep firmware", S3Class::DeepArchive).await;
    put(b, "fw/std.bin", b"standard firmware", S3Class::Standard).await;
    put(b, "fw/it-archive.bin", b"it firmware", S3Class::IntelligentTiering).await;
    let t0 = "2026-12-01T08:00:00Z";
    let store = store_at(b, &s.proxy).await.with_clock(fixed_clock(t0));

    // First request: one RestoreObject with the tier and days.
    let first = guard(store.request_restore("fw/a.bin", RestoreTier::Bulk, 2)).await.unwrap();
    assert!(
        matches!(first, Availability::Restoring { class: StorageClass::GlacierFlexibleRetrieval, .. }),
        "{first:?}"
    );
    let log = proxied(&format!("/{b}/fw/a.bin"));
    assert_eq!(count(&log, "POST", "restore"), 1);
    let body = log.iter().find(|e| e["method"] == "POST").unwrap()["body"].as_str().unwrap().to_owned();
    assert!(body.contains("<Days>2</Days>") && body.contains("<Tier>Bulk</Tier>"), "{body}");

    // Repeated while it runs: observed, not sent again.
    let again = guard(store.request_restore("fw/a.bin", RestoreTier::Bulk, 2)).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(count(&proxied(&format!("/{b}/fw/a.bin")), "POST", "restore"), 1);

    // Once restored, a repeat with fewer days than the copy has left sends nothing; one that
    // needs the copy longer extends it (S3 and moto answer 200).
    while matches!(guard(store.availability("fw/a.bin")).await.unwrap(), Availability::Restoring { .. }) {}
    let restored = guard(store.request_restore("fw/a.bin", RestoreTier::Bulk, 1)).await.unwrap();
    assert!(matches!(restored, Availability::Restored { .. }), "{restored:?}");
    assert_eq!(count(&proxied(&format!("/{b}/fw/a.bin")), "POST", "restore"), 1);
    let extended = guard(store.request_restore("fw/a.bin", RestoreTier::Bulk, 30)).await.unwrap();
    assert!(matches!(extended, Availability::Restored { .. }), "{extended:?}");
    assert_eq!(count(&proxied(&format!("/{b}/fw/a.bin")), "POST", "restore"), 2);

    // 409 RestoreAlreadyInProgress (another host's restore; real S3 sends it, moto does not):
    // accepted, and S3's ongoing restore is reported.
    // The first HEAD (before the request) sees the object archived, the proxy answers the
    // RestoreObject with 409, and the HEADs after it see the other host's restore running.
    faults(&json!([
        {"method": "HEAD", "path": format!("/{b}/fw/b.bin"), "times": 1},
        {"method": "HEAD", "path": format!("/{b}/fw/b.bin"), "add_headers": {"x-amz-restore": "ongoing-request=\"true\""}, "times": 2},
        {"method": "POST", "path": format!("/{b}/fw/b.bin"), "query": "restore", "status": 409,
         "code": "RestoreAlreadyInProgress", "message": "Object restore is already in progress", "times": 1},
    ]));
    let conflict = guard(store.request_restore("fw/b.bin", RestoreTier::Standard, 1)).await.unwrap();
    let log = proxied(&format!("/{b}/fw/b.bin"));
    assert_eq!(count(&log, "POST", "restore"), 1);
    assert_eq!(log.iter().find(|e| e["method"] == "POST").unwrap()["status"], 409);
    assert!(matches!(conflict, Availability::Restoring { .. }), "{conflict:?}");
    // The executor reports it as already running on its next run.
    let reports = guard(execute(&store, &[Task::restore("fw/b.bin", RestoreTier::Standard, 1)])).await;
    assert_eq!(reports[0].outcome.code(), "already_restoring", "{reports:?}");
    assert_eq!(count(&proxied(&format!("/{b}/fw/b.bin")), "POST", "restore"), 1);

    // Refusals, each before any RestoreObject is sent.
    let err = guard(store.request_restore("fw/deep.bin", RestoreTier::Expedited, 1)).await.unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), ("tier_unavailable", false));
    assert_eq!(err.to_string(), "RestoreObject s3://restores/fw/deep.bin: DeepArchive has no Expedited restore");
    let err = guard(store.request_restore("fw/std.bin", RestoreTier::Standard, 1)).await.unwrap_err();
    assert_eq!(err.code(), "not_archived");
    let err = guard(store.request_restore("fw/none.bin", RestoreTier::Standard, 1)).await.unwrap_err();
    assert_eq!(err.code(), "no_such_key");
    for key in ["deep.bin", "std.bin", "none.bin"] {
        assert_eq!(count(&proxied(&format!("/{b}/fw/{key}")), "POST", "restore"), 0, "{key}");
    }

    // Intelligent-Tiering archive tiers: no Days (moto has no such tier: the proxy plays S3).
    faults(&json!([
        {"method": "HEAD", "path": format!("/{b}/fw/it-archive.bin"), "add_headers": {"x-amz-archive-status": "ARCHIVE_ACCESS"}, "times": 1},
        {"method": "POST", "path": format!("/{b}/fw/it-archive.bin"), "query": "restore", "status": 202, "times": 1},
    ]));
    let it = guard(store.request_restore("fw/it-archive.bin", RestoreTier::Standard, 5)).await.unwrap();
    assert_eq!(it, Availability::Available { class: StorageClass::IntelligentTiering });
    let log = proxied(&format!("/{b}/fw/it-archive.bin"));
    let body = log.iter().find(|e| e["method"] == "POST").unwrap()["body"].as_str().unwrap().to_owned();
    assert!(!body.contains("<Days>") && body.contains("<Tier>Standard</Tier>"), "{body}");
}

#[tokio::test]
async fn presigned_urls_download_with_a_plain_http_client() {
    let b = "presign";
    bucket(b).await;
    let s = servers();
    let bytes = firmware("6.15.008", 4096);
    let artifact = put(b, "fw/6.15.008.bin", &bytes, S3Class::Standard).await;
    put(b, "fw/archived.bin", b"cold", S3Class::Glacier).await;
    let store = store_at(b, &s.moto).await.with_clock(fixed_clock("2026-12-01T08:00:00Z"));

    let url = guard(store.presign(&artifact.key, 900)).await.unwrap();
    assert_eq!(url.expires_at, "2026-12-01T08:15:00Z".parse::<Timestamp>().unwrap());
    assert!(url.url.starts_with(&format!("{}/{b}/fw/6.15.008.bin?", s.moto)), "{}", url.url);
    let query: BTreeMap<&str, &str> =
        url.url.split_once('?').unwrap().1.split('&').filter_map(|kv| kv.split_once('=')).collect();
    assert_eq!(query["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
    assert_eq!(query["X-Amz-Expires"], "900");
    assert_eq!(query["X-Amz-Date"], "20261201T080000Z");
    assert_eq!(query["X-Amz-SignedHeaders"], "host", "nothing a device must send besides Host");
    assert!(query["X-Amz-Credential"].ends_with("%2F20261201%2Fus-east-1%2Fs3%2Faws4_request"), "{query:?}");
    assert_eq!(query["X-Amz-Signature"].len(), 64);

    let (status, _, body) = http("GET", &url.url, b"");
    assert_eq!(status, 200);
    assert_eq!(sha256_hex(&body), artifact.sha256, "the device gets the manifest's binary");

    // An archived object's URL signs fine but S3 refuses the GET: decide before presigning.
    let cold = guard(store.presign("fw/archived.bin", 60)).await.unwrap();
    let (status, _, body) = http("GET", &cold.url, b"");
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&body).contains("InvalidObjectState"));

    for lifetime in [0, 3_601] {
        let err = guard(store.presign(&artifact.key, lifetime)).await.unwrap_err();
        assert_eq!(err.code(), "invalid_lifetime");
        assert_eq!(
            err.to_string(),
            format!("presign s3://presign/fw/6.15.008.bin: URL lifetime {lifetime} s is outside 1 to 3600 s")
        );
    }
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried() {
    let b = "retries";
    bucket(b).await;
    let s = servers();
    put(b, "fw/slow.bin", b"x", S3Class::Standard).await;
    put(b, "fw/flaky.bin", b"x", S3Class::Standard).await;
    put(b, "fw/down.bin", b"x", S3Class::Standard).await;
    put(b, "fw/glacier.bin", b"x", S3Class::Glacier).await;
    let store = store_at(b, &s.proxy).await;

    faults(&json!([
        {"method": "HEAD", "path": format!("/{b}/fw/slow.bin"), "status": 503, "code": "SlowDown", "times": 2},
        {"method": "HEAD", "path": format!("/{b}/fw/flaky.bin"), "status": 500, "code": "InternalError", "times": 2},
        {"method": "HEAD", "path": format!("/{b}/fw/down.bin"), "status": 503, "code": "SlowDown"},
        {"method": "POST", "path": format!("/{b}/fw/glacier.bin"), "query": "restore", "status": 500,
         "code": "InternalError", "times": 1},
    ]));
    // Two failures, then the answer: the caller sees only the answer.
    let seen = guard(store.availability("fw/slow.bin")).await.unwrap();
    assert_eq!(seen, Availability::Available { class: StorageClass::Standard });
    assert_eq!(count(&proxied(&format!("/{b}/fw/slow.bin")), "HEAD", ""), 3);
    let seen = guard(store.availability("fw/flaky.bin")).await.unwrap();
    assert_eq!(seen, Availability::Available { class: StorageClass::Standard });
    assert_eq!(count(&proxied(&format!("/{b}/fw/flaky.bin")), "HEAD", ""), 3);
    // A restore that fails once with 500 is sent again and succeeds.
    let restored = guard(store.request_restore("fw/glacier.bin", RestoreTier::Standard, 1)).await.unwrap();
    assert!(matches!(restored, Availability::Restoring { .. }), "{restored:?}");
    assert_eq!(count(&proxied(&format!("/{b}/fw/glacier.bin")), "POST", "restore"), 2);

    // Throttled on every attempt: max_attempts calls, then a retryable error.
    let err = guard(store.availability("fw/down.bin")).await.unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), ("throttled", true), "{err}");
    assert_eq!(count(&proxied(&format!("/{b}/fw/down.bin")), "HEAD", ""), 3);
}

#[tokio::test]
async fn permanent_errors_are_not_retried() {
    let b = "permanent";
    bucket(b).await;
    let s = servers();
    put(b, "fw/secret.bin", b"x", S3Class::Standard).await;
    put(b, "fw/glacier.bin", b"x", S3Class::Glacier).await;
    let store = store_at(b, &s.proxy).await;
    faults(&json!([
        {"method": "HEAD", "path": format!("/{b}/fw/secret.bin"), "status": 403, "code": "AccessDenied"},
        {"method": "POST", "path": format!("/{b}/fw/glacier.bin"), "query": "restore", "status": 400,
         "code": "InvalidArgument", "message": "bad restore request"},
    ]));
    let err = guard(store.availability("fw/secret.bin")).await.unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), ("access_denied", false), "{err}");
    assert_eq!(count(&proxied(&format!("/{b}/fw/secret.bin")), "HEAD", ""), 1, "403 is not retried");

    let err = guard(store.request_restore("fw/glacier.bin", RestoreTier::Standard, 1)).await.unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), ("rejected", false), "{err}");
    assert_eq!(
        err.to_string(),
        "RestoreObject s3://permanent/fw/glacier.bin: refused (400 InvalidArgument): bad restore request"
    );
    assert_eq!(count(&proxied(&format!("/{b}/fw/glacier.bin")), "POST", "restore"), 1);

    // A missing bucket.
    let other = store_at("no-such-bucket-here", &s.moto).await;
    let err = guard(other.request_restore("fw/x.bin", RestoreTier::Standard, 1)).await.unwrap_err();
    // HEAD has no body, so a missing bucket reads as a missing key there.
    assert_eq!((err.code(), err.is_retryable()), ("no_such_key", false), "{err}");

    // The executor reports each failure with its code and retryability, and goes on.
    let reports = guard(execute(
        &store,
        &[
            Task::check("fw/secret.bin"),
            Task::restore("fw/glacier.bin", RestoreTier::Standard, 1),
            Task::check("fw/none.bin"),
        ],
    ))
    .await;
    let summary: Vec<_> = reports
        .iter()
        .map(|r| match &r.outcome {
            Outcome::Failed { code, retryable, .. } => format!("{} failed {code} retryable={retryable}", r.task.key),
            other => format!("{} {}", r.task.key, other.code()),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "fw/secret.bin failed access_denied retryable=false",
            "fw/glacier.bin failed rejected retryable=false",
            "fw/none.bin missing",
        ]
    );
}

#[tokio::test]
async fn a_server_that_is_down_or_stalls_gives_a_clear_error_quickly() {
    let s = servers();
    // Nothing listens on port 9 (discard) on loopback here.
    let down = store_at("fleet", "http://127.0.0.1:9").await;
    let err = guard(down.availability("fw/a.bin")).await.unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), ("unreachable", true), "{err}");
    assert!(err.to_string().starts_with("HeadObject s3://fleet/fw/a.bin: cannot reach the endpoint: "), "{err}");

    let b = "stalls";
    bucket(b).await;
    put(b, "fw/a.bin", b"x", S3Class::Standard).await;
    faults(&json!([{"method": "HEAD", "path": format!("/{b}/fw/a.bin"), "delay_ms": 5_000}]));
    let settings = S3Settings { attempt_timeout_ms: 300, operation_timeout_ms: 2_000, ..settings(b, &s.proxy) };
    let client = fleetpath_aws::s3_client(&settings, Some(test_credentials())).await.unwrap();
    let stalled = S3ArtifactStore::new(client, settings);
    let err = guard(stalled.availability("fw/a.bin")).await.unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), ("timeout", true), "{err}");
}

#[tokio::test]
async fn integrity_is_checked_against_the_manifest() {
    let b = "integrity";
    bucket(b).await;
    let s = servers();
    let good = put(b, "fw/good.bin", &firmware("good", 2000), S3Class::Glacier).await;
    // Uploaded without an SDK SHA-256 checksum: only the metadata carries it.
    let bytes = firmware("meta", 1500);
    admin()
        .await
        .put_object()
        .bucket(b)
        .key("fw/meta.bin")
        .body(ByteStream::from(bytes.clone()))
        .metadata("sha256", sha256_hex(&bytes))
        .send()
        .await
        .unwrap();
    let meta = Artifact { key: "fw/meta.bin".to_owned(), sha256: sha256_hex(&bytes), size: Some(1500) };
    let store = store_at(b, &s.moto).await;

    let seen = guard(store.observe(&good)).await.unwrap();
    assert_eq!(seen.availability, Availability::Archived { class: StorageClass::GlacierFlexibleRetrieval });
    assert_eq!(seen.integrity.unwrap().sha256, Sha256Source::Checksum);
    assert_eq!(guard(store.observe(&meta)).await.unwrap().integrity.unwrap().sha256, Sha256Source::Metadata);

    let wrong_size = Artifact { size: Some(2001), ..good.clone() };
    let err = guard(store.observe(&wrong_size)).await.unwrap_err();
    assert_eq!(err.code(), "integrity_mismatch");
    assert_eq!(err.to_string(), r#"object "fw/good.bin": size is 2000 in S3 but 2001 in the manifest"#);
    let wrong_sha = Artifact { sha256: "0".repeat(64), ..good.clone() };
    let err = guard(store.observe(&wrong_sha)).await.unwrap_err();
    assert!(err.to_string().contains("sha256 is "), "{err}");

    // A whole set: the bad one is left out of availability (so never downloadable).
    let missing = Artifact { key: "fw/missing.bin".to_owned(), ..good.clone() };
    let observed = guard(store.observe_all(vec![wrong_sha, meta.clone(), missing])).await;
    assert_eq!(observed.availability.keys().collect::<Vec<_>>(), ["fw/meta.bin", "fw/missing.bin"]);
    assert_eq!(observed.availability["fw/missing.bin"], Availability::Missing);
    assert_eq!(observed.errors["fw/good.bin"].code(), "integrity_mismatch");
}

#[tokio::test]
async fn documents_are_parsed_once_per_etag() {
    let b = "documents";
    bucket(b).await;
    let s = servers();
    let admin = admin().await;
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/seed-ip-module.json"))
            .unwrap();
    let upload = |key: &'static str, text: String| {
        let admin = admin.clone();
        async move {
            admin.put_object().bucket(b).key(key).body(ByteStream::from(text.into_bytes())).send().await.unwrap();
        }
    };
    upload("fleetpath/graph.json", manifest.clone()).await;
    let store = store_at(b, &s.proxy).await;
    let docs = Documents::new(store.client().clone(), b);

    let first = guard(docs.graph("fleetpath/graph.json")).await.unwrap();
    assert!(!first.cached);
    assert_eq!(first.value.releases().len(), 3);
    let second = guard(docs.graph("fleetpath/graph.json")).await.unwrap();
    assert!(second.cached, "an unchanged manifest is not fetched or parsed again");
    assert!(Arc::ptr_eq(&first.value, &second.value));
    assert_eq!((docs.fetches(), docs.parses()), (2, 1));
    let log = proxied(&format!("/{b}/fleetpath/graph.json"));
    assert_eq!(log.last().unwrap()["status"], 304);

    // A new version is fetched and parsed; a refused one is a typed error with the core's code.
    let changed = manifest.replace("ip-alarm-module", "ip-alarm-module-v2");
    upload("fleetpath/graph.json", changed).await;
    let third = guard(docs.graph("fleetpath/graph.json")).await.unwrap();
    assert!(!third.cached && third.etag != first.etag);
    assert_eq!(docs.parses(), 2);
    upload("fleetpath/graph.json", manifest.replace("\"format_version\": 1", "\"format_version\": 9")).await;
    let err = guard(docs.graph("fleetpath/graph.json")).await.unwrap_err();
    let S3Error::InvalidDocument { source, .. } = &err else { panic!("{err}") };
    assert_eq!(source.code(), "unsupported_format_version");

    upload("fleetpath/plant.csv", "id,model,line,site,version\npress-1-01,IPM-1,press-1,plant-a,5.6.14\n".to_owned())
        .await;
    let fleet = guard(docs.fleet("fleetpath/plant.csv")).await.unwrap();
    assert_eq!(fleet.value.devices().len(), 1);
    let err = guard(docs.graph("fleetpath/absent.json")).await.unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), ("no_such_key", false));
}

/// The field report, against S3: a device on 5.6.14 asks; the bridge's binary is in Glacier,
/// so it is told to retry; the prefetch executor restores it; the device asks again and gets
/// a URL that downloads the manifest's binary. Then the same for 6.15.008 in Deep Archive.
#[tokio::test]
async fn seed_flow_archived_bridge_restored_then_downloaded() {
    let b = "seed-flow";
    bucket(b).await;
    let s = servers();
    // The seed manifest, with stand-in binaries of the manifest's sizes (their real SHA-256s
    // written into the manifest uploaded to S3).
    let mut manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/seed-ip-module.json"))
            .unwrap(),
    )
    .unwrap();
    let mut binaries = BTreeMap::new();
    for release in manifest["releases"].as_array_mut().unwrap() {
        let version = release["version"].as_str().unwrap().to_owned();
        let size = release["artifact"]["size"].as_u64().unwrap();
        let bytes = firmware(&version, usize::try_from(size).unwrap());
        let class = match version.as_str() {
            "5.6.30" => S3Class::Glacier,
            "6.15.008" => S3Class::DeepArchive,
            _ => S3Class::Standard,
        };
        let key = release["artifact"]["key"].as_str().unwrap().to_owned();
        let artifact = put(b, &key, &bytes, class).await;
        release["artifact"]["sha256"] = json!(artifact.sha256);
        binaries.insert(key, artifact.sha256);
    }
    admin()
        .await
        .put_object()
        .bucket(b)
        .key("fleetpath/ip-module.json")
        .body(ByteStream::from(manifest.to_string().into_bytes()))
        .send()
        .await
        .unwrap();

    let store = store_at(b, &s.moto).await;
    let docs = Documents::new(store.client().clone(), b);
    let graph = guard(docs.graph("fleetpath/ip-module.json")).await.unwrap().value;
    let policy = DecisionPolicy::default();
    let ask = |version: &str, at: Timestamp| DeviceRequest {
        device: "press-1-01".to_owned(),
        model: "IPM-1".to_owned(),
        version: version.parse().unwrap(),
        at,
        retry: fleetpath::RetryState::default(),
        labels: None,
    };
    let decide = |graph: &UpgradeGraph, observed: &BTreeMap<String, Availability>, request: &DeviceRequest| {
        Decider::new(graph, policy.clone()).unwrap().with_availability(observed.clone()).decide(request)
    };

    // 1. The device on 5.6.14 asks: the bridge is archived.
    let observed = guard(store.observe_graph(&graph)).await;
    assert!(observed.errors.is_empty(), "{:?}", observed.errors);
    let first = decide(&graph, &observed.availability, &ask("5.6.14", Timestamp::now()));
    let Decision::RetryAfter { ref key, host_action: Some(ref action), .. } = first else { panic!("{first:?}") };
    assert_eq!((first.reason(), key.as_str()), ("artifact_archived", "firmware/ip-module/5.6.30.bin"));

    // 2. The prefetch executor carries out the host action: one restore.
    let reports = guard(execute(&store, &[Task::from_host_action(action)])).await;
    assert_eq!(reports[0].outcome.code(), "restore_requested", "{reports:?}");

    // 3. Until the restore finishes, the device is told to wait for it (not a failure).
    let observed = guard(store.observe_graph(&graph)).await;
    let waiting = decide(&graph, &observed.availability, &ask("5.6.14", Timestamp::now()));
    assert_eq!(waiting.reason(), "artifact_restoring");

    // 4. Restored: the device gets the bridge, with a URL that downloads the right binary.
    let observed = wait_until_restored(&store, &graph, "firmware/ip-module/5.6.30.bin").await;
    let bridge = decide(&graph, &observed, &ask("5.6.14", Timestamp::now()));
    let Decision::Download { step, url_lifetime_seconds } = bridge else { panic!("{bridge:?}") };
    assert_eq!(step.to.to_string(), "5.6.30");
    let url = guard(store.presign(&step.artifact.key, url_lifetime_seconds)).await.unwrap();
    let (status, _, body) = http("GET", &url.url, b"");
    assert_eq!(status, 200);
    assert_eq!(sha256_hex(&body), binaries["firmware/ip-module/5.6.30.bin"]);
    assert_eq!(sha256_hex(&body), step.artifact.sha256);

    // 5. Later, on the bridge: 6.15.008 is in Deep Archive. This time the rollout's prefetch
    // plan finds it before any device asks, and the executor restores it (twice run: once sent).
    let fleet = Fleet::from_csv("id,model,line,site,version\npress-1-01,IPM-1,press-1,plant-a,5.6.30\n").unwrap();
    let target: Version = "6.15.008".parse().unwrap();
    let rollout_policy = RolloutPolicy::default();
    let plan = plan_rollout(&graph, &fleet, &target, &rollout_policy, "mqtt-migration").unwrap();
    let rollout = Rollout::new(&plan, &fleet, &graph, &rollout_policy).unwrap();
    let observed = guard(store.observe_graph(&graph)).await;
    let prefetch =
        plan_prefetch(&rollout, &graph, None, &observed.availability, &PrefetchPolicy::default(), Timestamp::now());
    let due: Vec<_> = prefetch.due().map(|i| i.artifact.key.as_str()).collect();
    assert_eq!(due, ["firmware/ip-module/6.15.008.bin"], "{prefetch:?}");
    let run = guard(execute_plan(&store, &prefetch)).await;
    assert_eq!(run.iter().map(|r| r.outcome.code()).collect::<Vec<_>>(), ["restore_requested"]);
    let rerun = guard(execute_plan(&store, &prefetch)).await;
    assert_eq!(rerun.iter().map(|r| r.outcome.code()).collect::<Vec<_>>(), ["already_restoring"]);

    let observed = wait_until_restored(&store, &graph, "firmware/ip-module/6.15.008.bin").await;
    let mqtt = decide(&graph, &observed, &ask("5.6.30", Timestamp::now()));
    let Decision::Download { step, url_lifetime_seconds } = mqtt else { panic!("{mqtt:?}") };
    assert_eq!(step.to.to_string(), "6.15.008");
    let url = guard(store.presign(&step.artifact.key, url_lifetime_seconds)).await.unwrap();
    let (status, _, body) = http("GET", &url.url, b"");
    assert_eq!(status, 200);
    assert_eq!(sha256_hex(&body), step.artifact.sha256);
}

/// Observes the graph until `key` is restored (moto finishes after a few accesses).
async fn wait_until_restored(
    store: &S3ArtifactStore,
    graph: &UpgradeGraph,
    key: &str,
) -> BTreeMap<String, Availability> {
    for _ in 0..=RESTORE_ACCESSES {
        let observed = guard(store.observe_graph(graph)).await;
        if matches!(observed.availability.get(key), Some(Availability::Restored { .. })) {
            return observed.availability;
        }
    }
    panic!("{key} was never restored");
}

/// Signed manifests from S3: verified before they are parsed or cached; a replayed older
/// version, a forged one and an expired one are refused, and the accepted version survives a
/// cold start.
#[tokio::test]
async fn signed_documents_are_verified_and_never_rolled_back() {
    use fleetpath::trust::{self, DocumentKind, SigningKey, TrustedKeys};
    let b = "signed-documents";
    bucket(b).await;
    let s = servers();
    let admin = admin().await;
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/seed-ip-module.json"))
            .unwrap(),
    )
    .unwrap();
    let key = SigningKey::from_seed(&[9; 32]);
    let trusted = TrustedKeys::new([key.public_key()], 1).unwrap();
    let expires: Timestamp = "2027-01-01T00:00:00Z".parse().unwrap();
    let now: Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
    let signed = |version: u64, doc: Value, by: &SigningKey| {
        let text = serde_json::to_string(&doc).unwrap();
        serde_json::to_string(&trust::sign(DocumentKind::Manifest, version, expires, &text, &[by])).unwrap()
    };
    let upload = |text: String| {
        let admin = admin.clone();
        async move {
            let body = ByteStream::from(text.into_bytes());
            admin.put_object().bucket(b).key("fleetpath/graph.signed.json").body(body).send().await.unwrap();
        }
    };
    let store = store_at(b, &s.proxy).await;
    let docs = Documents::new(store.client().clone(), b).with_trust(trusted.clone());
    let code = |err: &S3Error| match err {
        S3Error::InvalidDocument { source, .. } => source.code(),
        other => panic!("{other}"),
    };

    // Version 2 is accepted.
    upload(signed(2, manifest.clone(), &key)).await;
    let v2 = guard(docs.signed_graph("fleetpath/graph.signed.json", now)).await.unwrap();
    assert_eq!((v2.signed.map(|s| s.0), v2.value.releases().len()), (Some(2), 3));
    // Replaying version 1 (say, before a release was recalled) is refused; v2 stays cached.
    upload(signed(1, manifest.clone(), &key)).await;
    let err = guard(docs.signed_graph("fleetpath/graph.signed.json", now)).await.unwrap_err();
    assert_eq!(code(&err), "rolled_back");
    // Whoever can write the bucket but has no key: a changed digest, or another signer.
    let mut forged = manifest.clone();
    forged["releases"][1]["artifact"]["sha256"] = json!("0".repeat(64));
    let mut text: Value = serde_json::from_str(&signed(3, manifest.clone(), &key)).unwrap();
    text["document"] = json!(serde_json::to_string(&forged).unwrap());
    upload(text.to_string()).await;
    assert_eq!(
        code(&guard(docs.signed_graph("fleetpath/graph.signed.json", now)).await.unwrap_err()),
        "document_mismatch"
    );
    text["signed"]["version"] = json!(4);
    upload(text.to_string()).await;
    assert_eq!(code(&guard(docs.signed_graph("fleetpath/graph.signed.json", now)).await.unwrap_err()), "bad_signature");
    upload(signed(3, forged, &SigningKey::from_seed(&[8; 32]))).await;
    assert_eq!(code(&guard(docs.signed_graph("fleetpath/graph.signed.json", now)).await.unwrap_err()), "unknown_key");
    upload(serde_json::to_string(&manifest).unwrap()).await;
    assert_eq!(
        code(&guard(docs.signed_graph("fleetpath/graph.signed.json", now)).await.unwrap_err()),
        "malformed_envelope",
        "an unsigned manifest is refused"
    );
    // Version 3, then an unchanged object read after it expired.
    upload(signed(3, manifest.clone(), &key)).await;
    let v3 = guard(docs.signed_graph("fleetpath/graph.signed.json", now)).await.unwrap();
    assert_eq!(v3.signed.map(|s| s.0), Some(3));
    let later: Timestamp = "2027-01-02T00:00:00Z".parse().unwrap();
    assert_eq!(code(&guard(docs.signed_graph("fleetpath/graph.signed.json", later)).await.unwrap_err()), "expired");
    // A cold start seeded with the persisted versions refuses the replay too.
    let versions = docs.accepted_versions();
    assert_eq!(versions.get("fleetpath/graph.signed.json"), Some(&3));
    upload(signed(2, manifest, &key)).await;
    let cold = Documents::new(store.client().clone(), b).with_trust(trusted);
    cold.accept_versions(versions);
    assert_eq!(code(&guard(cold.signed_graph("fleetpath/graph.signed.json", now)).await.unwrap_err()), "rolled_back");
}

/// The proxy's log entries for requests under `path`, by method.
fn attempts(path: &str, method: &str) -> usize {
    count(&proxied(path), method, "")
}

/// A store through the proxy with short timeouts: 300 ms to connect, `attempt_ms` per attempt,
/// `operation_ms` per call, three attempts.
async fn impatient_store(b: &str, attempt_ms: u64, operation_ms: u64) -> S3ArtifactStore {
    let settings = S3Settings {
        connect_timeout_ms: 300,
        attempt_timeout_ms: attempt_ms,
        operation_timeout_ms: operation_ms,
        ..settings(b, &servers().proxy)
    };
    let client = fleetpath_aws::s3_client(&settings, Some(test_credentials())).await.unwrap();
    S3ArtifactStore::new(client, settings)
}

/// Uploads a small text document (straight to moto).
async fn put_text(b: &str, key: &str, text: &str) {
    admin()
        .await
        .put_object()
        .bucket(b)
        .key(key)
        .body(ByteStream::from(text.as_bytes().to_vec()))
        .send()
        .await
        .unwrap();
}

/// Loads `key` as plain text (the fault cases do not depend on the document kind).
// `Documents::load` takes the core's error, large like every core error (as in the crate).
#[allow(clippy::result_large_err)]
async fn load_text(docs: &Documents, key: &str) -> (Result<Loaded<String>, S3Error>, Duration) {
    let started = std::time::Instant::now();
    let result = guard(docs.load(key, |text| Ok(text.to_owned()))).await;
    (result, started.elapsed())
}

/// A body that drips one byte every 50 ms (10 s for 200 bytes) is cut off at the operation
/// timeout (1.5 s) with a `timeout` naming the object and how much was read.
#[tokio::test]
async fn a_dripping_document_body_times_out_at_the_operation_timeout() {
    let b = "fault-drip";
    bucket(b).await;
    let text = "x".repeat(200);
    put_text(b, "fleetpath/drip.json", &text).await;
    faults(&json!([{"method": "GET", "path": format!("/{b}/fleetpath/drip.json"), "drip_ms": 50}]));
    let store = impatient_store(b, 1_000, 1_500).await;
    let docs = Documents::from_settings(store.client().clone(), store.settings());
    let (result, elapsed) = load_text(&docs, "fleetpath/drip.json").await;
    let err = result.unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), ("timeout", true), "{err}");
    let message = err.to_string();
    assert!(
        message.starts_with("GetObject s3://fault-drip/fleetpath/drip.json: timed out: body not read within the operation timeout (1500 ms): "),
        "{message}"
    );
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert_eq!(attempts(&format!("/{b}/fleetpath/drip.json"), "GET"), 1);
}

/// Documents above `max_document_bytes` are refused: from the announced `Content-Length`
/// before the body is read, and while streaming a body that announces none (chunked).
#[tokio::test]
async fn documents_above_the_size_cap_are_refused() {
    let b = "fault-size";
    bucket(b).await;
    let big = "y".repeat(4_096);
    put_text(b, "fleetpath/big.json", &big).await;
    put_text(b, "fleetpath/chunked.json", &big).await;
    put_text(b, "fleetpath/exact.json", &"z".repeat(1_024)).await;
    faults(&json!([{"method": "GET", "path": format!("/{b}/fleetpath/chunked.json"), "chunked": true}]));
    let store = impatient_store(b, 2_000, 5_000).await;
    let settings = S3Settings { max_document_bytes: 1_024, ..store.settings().clone() };
    let docs = Documents::from_settings(store.client().clone(), &settings);

    let (result, _) = load_text(&docs, "fleetpath/big.json").await;
    let err = result.unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), ("document_too_large", false), "{err}");
    assert_eq!(
        err.to_string(),
        "load s3://fault-size/fleetpath/big.json: 4096 bytes announced, above the 1024-byte limit (max_document_bytes)"
    );
    assert_eq!(err.fields()["size"], 4_096);
    assert_eq!(err.fields()["limit"], 1_024);
    assert_eq!(attempts(&format!("/{b}/fleetpath/big.json"), "GET"), 1);

    let (result, _) = load_text(&docs, "fleetpath/chunked.json").await;
    let err = result.unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), ("document_too_large", false), "{err}");
    let size = err.fields()["size"].as_u64().unwrap();
    assert!(size > 1_024 && size < 4_096, "reading stops at the first chunk past the limit: {size}");
    assert_eq!(
        err.to_string(),
        format!(
            "load s3://fault-size/fleetpath/chunked.json: {size} bytes read, above the 1024-byte limit (max_document_bytes)"
        )
    );
    assert_eq!(attempts(&format!("/{b}/fleetpath/chunked.json"), "GET"), 1);

    // At the limit exactly: read.
    let (result, _) = load_text(&docs, "fleetpath/exact.json").await;
    assert_eq!(result.unwrap().value.len(), 1_024);
}

/// A body cut short (the connection closed before `Content-Length` bytes, or reset after the
/// headers) is `bad_response`, retryable, after one attempt (the SDK does not retry a body).
#[tokio::test]
async fn truncated_and_reset_bodies_are_bad_responses() {
    let b = "fault-truncated";
    bucket(b).await;
    put_text(b, "fleetpath/cut.json", &"c".repeat(300)).await;
    put_text(b, "fleetpath/reset.json", &"r".repeat(300)).await;
    faults(&json!([
        {"method": "GET", "path": format!("/{b}/fleetpath/cut.json"), "truncate": 100},
        {"method": "GET", "path": format!("/{b}/fleetpath/reset.json"), "reset": "mid_body"},
    ]));
    let store = impatient_store(b, 2_000, 5_000).await;
    let docs = Documents::from_settings(store.client().clone(), store.settings());
    for key in ["fleetpath/cut.json", "fleetpath/reset.json"] {
        let (result, elapsed) = load_text(&docs, key).await;
        let err = result.unwrap_err();
        assert_eq!((err.code(), err.is_retryable()), ("bad_response", true), "{key}: {err}");
        assert!(
            err.to_string().starts_with(&format!("GetObject s3://{b}/{key}: unreadable response: body: ")),
            "{err}"
        );
        assert!(elapsed < Duration::from_secs(5), "{key} took {elapsed:?}");
        assert_eq!(attempts(&format!("/{b}/{key}"), "GET"), 1, "{key}");
    }
}

/// A connection reset before any answer is retried by the SDK, then `unreachable` (retryable).
#[tokio::test]
async fn a_connection_reset_before_the_answer_is_retried() {
    let b = "fault-reset";
    bucket(b).await;
    put(b, "fw/a.bin", b"x", S3Class::Standard).await;
    put_text(b, "fleetpath/doc.json", "{}").await;
    faults(&json!([
        {"method": "HEAD", "path": format!("/{b}/fw/a.bin"), "reset": "before_headers"},
        {"method": "GET", "path": format!("/{b}/fleetpath/doc.json"), "reset": "before_headers", "times": 2},
    ]));
    let store = impatient_store(b, 2_000, 5_000).await;
    let started = std::time::Instant::now();
    let err = guard(store.availability("fw/a.bin")).await.unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), ("unreachable", true), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert_eq!(attempts(&format!("/{b}/fw/a.bin"), "HEAD"), 3, "max_attempts");
    // Twice reset, then answered: the caller sees the document.
    let docs = Documents::from_settings(store.client().clone(), store.settings());
    let (result, _) = load_text(&docs, "fleetpath/doc.json").await;
    assert_eq!(result.unwrap().value.as_str(), "{}");
    assert_eq!(attempts(&format!("/{b}/fleetpath/doc.json"), "GET"), 3);
}

/// Headers that trickle in (one line every 400 ms) hit the attempt timeout; each attempt is
/// retried, and the call ends with `timeout` within the operation timeout.
#[tokio::test]
async fn slow_headers_time_out_per_attempt() {
    let b = "fault-slow-headers";
    bucket(b).await;
    put(b, "fw/a.bin", b"x", S3Class::Standard).await;
    put_text(b, "fleetpath/doc.json", "{}").await;
    faults(&json!([
        {"method": "HEAD", "path": format!("/{b}/fw/a.bin"), "slow_headers_ms": 400},
        {"method": "GET", "path": format!("/{b}/fleetpath/doc.json"), "slow_headers_ms": 400},
    ]));
    let store = impatient_store(b, 300, 3_000).await;
    let started = std::time::Instant::now();
    let err = guard(store.availability("fw/a.bin")).await.unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), ("timeout", true), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert_eq!(attempts(&format!("/{b}/fw/a.bin"), "HEAD"), 3);
    let docs = Documents::from_settings(store.client().clone(), store.settings());
    let (result, elapsed) = load_text(&docs, "fleetpath/doc.json").await;
    let err = result.unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), ("timeout", true), "{err}");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert_eq!(attempts(&format!("/{b}/fleetpath/doc.json"), "GET"), 3);
}

/// 429 Too Many Requests, with a body (GET) or without (HEAD): `throttled`, after the SDK's
/// retries.
#[tokio::test]
async fn too_many_requests_is_throttled_after_retries() {
    let b = "fault-429";
    bucket(b).await;
    put(b, "fw/a.bin", b"x", S3Class::Standard).await;
    put_text(b, "fleetpath/doc.json", "{}").await;
    faults(&json!([
        {"method": "HEAD", "path": format!("/{b}/fw/a.bin"), "status": 429, "code": "TooManyRequests"},
        {"method": "GET", "path": format!("/{b}/fleetpath/doc.json"), "status": 429, "code": "TooManyRequests",
         "message": "slow down"},
    ]));
    let store = impatient_store(b, 2_000, 5_000).await;
    let err = guard(store.availability("fw/a.bin")).await.unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), ("throttled", true), "{err}");
    assert_eq!(attempts(&format!("/{b}/fw/a.bin"), "HEAD"), 3);
    let docs = Documents::from_settings(store.client().clone(), store.settings());
    let (result, _) = load_text(&docs, "fleetpath/doc.json").await;
    let err = result.unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), ("throttled", true), "{err}");
    assert_eq!(
        err.to_string(),
        "GetObject s3://fault-429/fleetpath/doc.json: throttled (429 TooManyRequests): slow down"
    );
    assert_eq!(attempts(&format!("/{b}/fleetpath/doc.json"), "GET"), 3);
}

/// 400 `RequestTimeout`: on a GET its body names the code (the SDK retries it); a HEAD's answer
/// has no body, and a body-less 400 is classified `timeout` too (the SDK does not retry it).
#[tokio::test]
async fn request_timeout_is_a_timeout_with_or_without_a_body() {
    let b = "fault-400-timeout";
    bucket(b).await;
    put(b, "fw/a.bin", b"x", S3Class::Standard).await;
    put_text(b, "fleetpath/doc.json", "{}").await;
    faults(&json!([
        {"method": "HEAD", "path": format!("/{b}/fw/a.bin"), "status": 400, "code": "RequestTimeout"},
        {"method": "GET", "path": format!("/{b}/fleetpath/doc.json"), "status": 400, "code": "RequestTimeout"},
    ]));
    let store = impatient_store(b, 2_000, 5_000).await;
    let err = guard(store.availability("fw/a.bin")).await.unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), ("timeout", true), "{err}");
    assert_eq!(
        err.to_string(),
        "HeadObject s3://fault-400-timeout/fw/a.bin: timed out: 400 without an error code (a HEAD's answer has no body; S3's RequestTimeout)"
    );
    assert_eq!(attempts(&format!("/{b}/fw/a.bin"), "HEAD"), 1);
    let docs = Documents::from_settings(store.client().clone(), store.settings());
    let (result, _) = load_text(&docs, "fleetpath/doc.json").await;
    let err = result.unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), ("timeout", true), "{err}");
    assert_eq!(err.to_string(), "GetObject s3://fault-400-timeout/fleetpath/doc.json: timed out: 400 RequestTimeout");
    assert_eq!(attempts(&format!("/{b}/fleetpath/doc.json"), "GET"), 3);
}

/// Two `Content-Length` headers that disagree: a malformed answer (`bad_response`, retryable).
/// hyper refuses it on a GET; on a HEAD (no body to frame) the SDK cannot parse the header.
#[tokio::test]
async fn conflicting_content_lengths_are_a_bad_response() {
    let b = "fault-content-length";
    bucket(b).await;
    put(b, "fw/a.bin", b"x", S3Class::Standard).await;
    put_text(b, "fleetpath/doc.json", "{}").await;
    faults(&json!([
        {"method": "HEAD", "path": format!("/{b}/fw/a.bin"), "conflicting_content_length": true},
        {"method": "GET", "path": format!("/{b}/fleetpath/doc.json"), "conflicting_content_length": true},
    ]));
    let store = impatient_store(b, 2_000, 5_000).await;
    let err = guard(store.availability("fw/a.bin")).await.unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), ("bad_response", true), "{err}");
    assert!(
        err.to_string().starts_with("HeadObject s3://fault-content-length/fw/a.bin: unreadable response: "),
        "{err}"
    );
    // Neither is retried within the call (the SDK retries no malformed answer).
    assert_eq!(attempts(&format!("/{b}/fw/a.bin"), "HEAD"), 1);
    let docs = Documents::from_settings(store.client().clone(), store.settings());
    let (result, _) = load_text(&docs, "fleetpath/doc.json").await;
    let err = result.unwrap_err();
    assert_eq!((err.code(), err.is_retryable()), ("bad_response", true), "{err}");
    assert!(err.to_string().contains("invalid content-length parsed"), "{err}");
    assert_eq!(attempts(&format!("/{b}/fleetpath/doc.json"), "GET"), 1);
}
