//! The `fleetpath` command as a user runs it: outputs, exit statuses, typed errors.

use assert_cmd::Command;

const SEED: &str = "../../examples/data/seed-ip-module.json";
const LINE_CONTROLLER: &str = "../../examples/data/line-controller.json";
const FLEET: &str = "../../examples/data/plant-340.csv";
const CALENDAR: &str = "../../examples/data/plant-calendar.json";
const STRANDED: &str = "tests/data/stranded.json";

/// Runs the command; (exit status, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::cargo_bin("fleetpath").unwrap().args(args).env("NO_COLOR", "1").output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (output.status.code().unwrap_or(-1), text(output.stdout), text(output.stderr))
}

/// Writes `text` to `name` in `dir` (a test's own directory, removed when it drops); its path.
fn write_in(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn check_is_clean_on_the_bundled_manifests() {
    let (status, out, err) = run(&["check", SEED, LINE_CONTROLLER, "--fleet", FLEET, "--calendar", CALENDAR]);
    assert_eq!(status, 0, "{out}{err}");
    assert!(out.ends_with("0 errors, 2 warnings\n"), "{out}");
    // Warnings fail only with --deny warn; `lint` is the same command.
    assert_eq!(run(&["lint", LINE_CONTROLLER, "--deny", "warn"]).0, 1);
}

#[test]
fn a_stranded_model_fails_the_check_naming_the_model() {
    let (status, out, _) = run(&["check", STRANDED]);
    assert_eq!(status, 1);
    assert!(
        out.contains("error[model_cannot_reach_latest]: model \"B\" cannot reach its newest release \"3.0\""),
        "{out}"
    );
    // The finding about a release carries its place in the file.
    assert!(out.contains("tests/data/stranded.json:5:5: error[dead_end]: release \"1.0\""), "{out}");
}

#[test]
fn a_calendar_that_cannot_schedule_the_fleet_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    // The plant's calendar, checked against a fleet with a line on a site it does not know and
    // a policy with a stage it gives no windows.
    let fleet = write_in(
        &dir,
        "gaps.csv",
        "id,model,line,site,version\na,IPM-1,press-1,plant-a,5.6.14\nb,IPM-1,press-7,plant-b,5.6.14\n",
    );
    let policy = write_in(
        &dir,
        "gaps-policy.json",
        r#"{"stages": [{"name": "canary", "share": 0.05, "min_per_line": 1}, {"name": "night"}]}"#,
    );
    let at = "2026-11-30T06:00:00Z";
    let args = ["check", SEED, "--fleet", &fleet, "--calendar", CALENDAR, "--policy", &policy, "--at", at];
    let (status, out, err) = run(&args);
    assert_eq!(status, 1, "{out}{err}");
    assert!(
        out.contains(&format!(
            "{CALENDAR}: error[unknown_stage]: site \"plant-a\" (1 device on line \"press-1\"): no windows for stage \"night\""
        )),
        "{out}"
    );
    assert!(
        out.contains("error[unknown_site]: site \"plant-b\" (1 device on line \"press-7\"): not in the calendar"),
        "{out}"
    );
    let (_, out, _) = run(&[&args[..], &["--format", "json"]].concat());
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let gaps = json["calendar_gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 2);
    assert_eq!((gaps[0]["code"].as_str(), gaps[0]["stage"].as_str()), (Some("unknown_stage"), Some("night")));
    assert_eq!((gaps[1]["kind"].as_str(), gaps[1]["devices"].as_u64()), (Some("unknown_site"), Some(1)));
    // The seed's stages on the bundled plant: nothing to say.
    let (status, out, _) = run(&["check", SEED, "--fleet", FLEET, "--calendar", CALENDAR, "--at", at]);
    assert_eq!(status, 0, "{out}");
}

#[test]
fn check_reports_every_problem_of_a_manifest_in_one_pass() {
    let (status, out, _) = run(&["check", "tests/data/many-problems.json"]);
    assert_eq!(status, 2);
    let codes: Vec<&str> =
        out.lines().filter_map(|l| l.split_once("error[")).map(|(_, rest)| rest.split(']').next().unwrap()).collect();
    assert_eq!(
        codes,
        [
            "unexpected_character",
            "empty_models",
            "missing_block_reason",
            "duplicate_release",
            "edge_not_upgrade",
            "unknown_release",
            "duplicate_edge",
            "duplicate_edge"
        ]
    );
    // Each at its entry's place in the file.
    assert!(out.contains("tests/data/many-problems.json:3:102: error[unknown_release]"), "{out}");
}

#[test]
fn github_annotations_follow_the_workflow_command_syntax() {
    let (status, out, _) = run(&["check", STRANDED, "--format", "github"]);
    assert_eq!(status, 1);
    // ::error file={name},line={line},col={col},title={title}::{message} (docs.github.com,
    // "Workflow commands for GitHub Actions"): properties comma-separated, no raw newlines.
    let pattern = |line: &str| {
        let Some(rest) = line.strip_prefix("::error ").or_else(|| line.strip_prefix("::warning ")) else {
            return false;
        };
        let Some((properties, message)) = rest.split_once("::") else { return false };
        let names: Vec<&str> = properties.split(',').map(|p| p.split_once('=').map_or("", |(k, _)| k)).collect();
        names.first() == Some(&"file")
            && names.iter().all(|n| ["file", "line", "col", "title"].contains(n))
            && !message.is_empty()
    };
    assert_eq!(out.lines().count(), 6);
    assert!(out.lines().all(pattern), "{out}");
    assert!(
        out.contains("::error file=tests/data/stranded.json,line=5,col=5,title=fleetpath dead_end::release \"1.0\""),
        "{out}"
    );
}

#[test]
fn json_and_sarif_carry_every_finding() {
    let (_, out, _) = run(&["check", STRANDED, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 6);
    assert_eq!(findings[1]["code"], "dead_end");
    assert_eq!((findings[1]["line"].as_u64(), findings[1]["subject"]["version"].as_str()), (Some(5), Some("1.0")));
    let (_, out, _) = run(&["check", STRANDED, "--format", "sarif"]);
    let sarif: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    assert_eq!(results[1]["ruleId"], "dead_end");
    assert_eq!(results[1]["locations"][0]["physicalLocation"]["region"]["startLine"], 5);
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| r["id"] == "model_cannot_reach_latest"));
}

#[test]
fn unusable_input_is_the_typed_error_and_status_2_without_a_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    let broken = write_in(
        &dir,
        "broken.json",
        "{\n  \"format_version\": 1,\n  \"releases\": [{\"version\": \"1.0\", \"modles\": []}]\n}\n",
    );
    let (status, out, err) = run(&["check", &broken]);
    assert_eq!(status, 2, "{out}{err}");
    assert!(
        out.contains(":3:") && out.contains("error[invalid_json]:") && out.contains("unknown field `modles`"),
        "{out}"
    );
    let unknown = write_in(
        &dir,
        "unknown.json",
        r#"{"format_version": 1, "releases": [{"version": "1.0"}], "edges": [{"from": "1.0", "to": "2.0"}]}"#,
    );
    let (status, out, _) = run(&["check", &unknown, "--format", "github"]);
    assert_eq!(status, 2);
    assert!(out.starts_with("::error file=") && out.contains("title=fleetpath unknown_release::"), "{out}");
    for args in [
        vec!["path", "/nonexistent.json", "1", "2"],
        vec!["path", SEED, "5.6.x", "6.15.008"],
        vec!["plan", SEED, &broken, "--target", "6.15.008"],
        vec!["decide", &unknown, "--device", "d", "--model", "m", "--version", "1.0"],
    ] {
        let (status, out, err) = run(&args);
        assert_eq!(status, 2, "{args:?}: {out}{err}");
        assert!(err.starts_with("error["), "{args:?}: {err}");
        assert!(!err.contains("panicked") && !err.contains("backtrace"), "{args:?}: {err}");
    }
    // A bad fleet given to check is named with its row.
    let fleet = write_in(&dir, "fleet.csv", "id,model,line,version\na,IPM-1,l1,5.6.14\nb,IPM-1,l1,9.9.9\n");
    let (status, out, _) = run(&["check", SEED, "--fleet", &fleet]);
    assert_eq!(status, 2);
    assert!(out.contains("row 3: device \"b\" runs \"9.9.9\""), "{out}");
}

#[test]
fn path_with_labels_and_accepted_risks() {
    const RISKS: &str = "tests/data/risks.json";
    let (status, _, err) = run(&["path", RISKS, "1.0", "2.0", "--label", "bootloader=1"]);
    assert_eq!(status, 1);
    assert!(err.contains("withheld by risk \"OldBoot\""), "{err}");
    // Labels unknown: the risk applies too.
    let (status, _, _) = run(&["path", RISKS, "1.0", "2.0"]);
    assert_eq!(status, 1);
    let (status, out, _) = run(&["path", RISKS, "1.0", "2.0", "--label", "bootloader=2"]);
    assert_eq!((status, out.starts_with("1.0 -> 2.0 (1 hop")), (0, true), "{out}");
    let (status, _, _) = run(&["path", RISKS, "1.0", "2.0", "--label", "bootloader=1", "--accept-risk", "OldBoot"]);
    assert_eq!(status, 0);
    let (status, _, err) = run(&["path", RISKS, "1.0", "2.0", "--label", "bootloader"]);
    assert_eq!(status, 2, "{err}");
}

#[test]
fn path_route_table_and_graph() {
    let (status, out, _) = run(&["path", SEED, "v5.6.14", "latest", "--model", "IPM-1"]);
    assert_eq!(status, 0);
    assert!(out.starts_with("5.6.14 -> 5.6.30 -> 6.15.008 (2 hops)\n"), "{out}");
    let (_, out, _) = run(&["path", SEED, "5.6.14", "6.15.008", "--json"]);
    let path: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(path["hops"].as_array().unwrap().len(), 2);
    // No path: status 1 and the core's reason.
    let (status, _, err) = run(&["path", SEED, "5.6.14", "6.15.008", "--max-hops", "1"]);
    assert_eq!(status, 1);
    assert!(err.starts_with("error[too_many_hops]"), "{err}");
    let (status, _, err) = run(&["path", SEED, "5.6.14", "latest"]);
    assert_eq!(status, 2, "latest needs a model: {err}");

    let (_, out, _) = run(&["route-table", SEED, "6.15.008"]);
    assert_eq!(out, "FROM      NEXT      HOPS\n5.6.14    5.6.30    2\n5.6.30    6.15.008  1\n6.15.008  (target)  0\n");
    let (_, out, _) = run(&["graph", SEED, "--dot", "--path", "5.6.14", "6.15.008"]);
    assert!(out.starts_with("digraph"), "{out}");
    let (_, out, _) = run(&["graph", SEED]);
    assert!(out.starts_with("flowchart") || out.starts_with("graph"), "{out}");
}

#[test]
fn plan_shows_stages_per_line_with_windows_in_site_time() {
    let args = ["plan", SEED, FLEET, "--target", "6.15.008", "--calendar", CALENDAR, "--from", "2026-11-30T06:00:00Z"];
    let (status, out, err) = run(&args);
    assert_eq!(status, 0, "{err}");
    assert!(out.starts_with("STAGE"), "{out}");
    // Berlin is UTC+1 in winter: the 14:00 shift in site time.
    assert!(out.contains("canary      press-1     1        Mon 2026-11-30 14:00 – Mon 22:00 (UTC+01)"), "{out}");
    let (_, csv, _) = run(&[&args[..], &["--format", "csv"]].concat());
    assert!(csv.starts_with("stage,line,devices,next_window\ncanary,assembly-1,1,"), "{csv}");
    let (_, json, _) = run(&[&args[..], &["--format", "json"]].concat());
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(plan["stages"].as_array().unwrap().len(), 3);
}

#[test]
fn decide_answers_with_kind_and_reason() {
    let args =
        ["decide", SEED, "--device", "d1", "--model", "IPM-1", "--version", "5.6.14", "--at", "2026-11-30T06:00:00Z"];
    let (status, out, _) = run(&args);
    assert_eq!(status, 0);
    assert!(out.starts_with("download: next_hop\n"), "{out}");
    let (_, out, _) = run(&[&args[..], &["--json"]].concat());
    let decision: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((decision["kind"].as_str(), decision["step"]["to"].as_str()), (Some("download"), Some("5.6.30")));
    let (_, out, _) = run(&[
        "decide",
        SEED,
        "--device",
        "d1",
        "--model",
        "IPM-1",
        "--version",
        "6.15.008",
        "--at",
        "2026-11-30T06:00:00Z",
    ]);
    assert!(out.starts_with("up_to_date:"), "{out}");
}

#[test]
fn help_shows_an_example_for_each_command_and_completions_generate() {
    for command in ["check", "path", "route-table", "graph", "plan", "decide", "sign", "verify", "completions"] {
        let (status, out, _) = run(&[command, "--help"]);
        assert_eq!(status, 0);
        assert!(out.contains("Example:\n  fleetpath "), "{command}: {out}");
    }
    let (status, out, _) = run(&["completions", "bash"]);
    assert_eq!(status, 0);
    assert!(out.contains("_fleetpath()") && out.contains("route-table"), "{}", &out[..200.min(out.len())]);
}

#[test]
fn health_ingest_then_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let policy = "tests/data/health-policy.json";
    let state = dir.path().join("state.json");
    let state = state.to_str().unwrap();
    let ingest = |samples: &str| {
        run(&["health", "ingest", "--policy", policy, "--cohort", "tests/data/cohort.csv", samples, "--out", state])
    };
    let evaluate =
        || run(&["health", "evaluate", "--policy", policy, "--state", state, "--at", "2026-11-18T13:06:40Z"]);
    // CSV: 100 ms before the update, 150 after: a breach, exit 1.
    let (status, _, err) = ingest("tests/data/samples-breach.csv");
    assert_eq!(status, 0, "{err}");
    assert!(err.contains("16 rows (8 baseline, 8 observation"), "{err}");
    let (status, out, _) = evaluate();
    assert_eq!(status, 1);
    assert!(out.starts_with("breach: cycle_time on stage: mean cycle_time_ms 100 -> 150"), "{out}");
    // JSON lines, steady: healthy, exit 0; the report as JSON is the core's.
    assert_eq!(ingest("tests/data/samples-steady.jsonl").0, 0);
    let (status, out, _) = evaluate();
    assert_eq!(status, 0, "{out}");
    let (_, json, _) =
        run(&["health", "evaluate", "--policy", policy, "--state", state, "--at", "2026-11-18T13:06:40Z", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["status"], "healthy");
    // A bad cell names its file and row.
    let bad = write_in(&dir, "bad.csv", "device,time,cycle_time_ms\nd1,1794999520,fast\n");
    let (status, _, err) = ingest(&bad);
    assert_eq!(status, 2);
    assert!(err.contains("row 2: cycle_time_ms: \"fast\" is not a number"), "{err}");
}

#[test]
fn sign_then_verify_and_refuse_what_does_not_hold() {
    let dir = tempfile::tempdir().unwrap();
    let (status, envelope, err) = run(&[
        "sign",
        SEED,
        "--kind",
        "manifest",
        "--version",
        "3",
        "--expires",
        "2027-01-01T00:00:00Z",
        "--key",
        "tests/data/key-a.json",
    ]);
    assert_eq!(status, 0, "{err}");
    let signed = write_in(&dir, "signed.json", &envelope);
    let out_doc = dir.path().join("doc.json");
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", &signed, "--kind", "manifest", "--trusted", "tests/data/trusted-a.json"];
        args.extend_from_slice(extra);
        run(&args)
    };
    let (status, out, _) = verify(&["--at", "2026-12-01T00:00:00Z", "--document-out", out_doc.to_str().unwrap()]);
    assert_eq!(status, 0);
    assert!(out.starts_with("verified: version 3, expires 2027-01-01T00:00:00Z, signed by 7ab6b86c"), "{out}");
    assert_eq!(std::fs::read_to_string(&out_doc).unwrap(), std::fs::read_to_string(SEED).unwrap());
    // Expired, rolled back, another kind, a changed document: status 1 and the core's code.
    for (extra, code) in [
        (vec!["--at", "2027-02-01T00:00:00Z"], "expired"),
        (vec!["--at", "2026-12-01T00:00:00Z", "--last-accepted", "4"], "rolled_back"),
    ] {
        let (status, _, err) = verify(&extra);
        assert_eq!(status, 1, "{err}");
        assert!(err.starts_with(&format!("error[{code}]")), "{err}");
    }
    let tampered = write_in(&dir, "tampered.json", &envelope.replace("5.6.30", "5.6.31"));
    let (status, _, err) = run(&[
        "verify",
        &tampered,
        "--kind",
        "manifest",
        "--trusted",
        "tests/data/trusted-a.json",
        "--at",
        "2026-12-01T00:00:00Z",
    ]);
    assert_eq!(status, 1, "{err}");
    // A key file that is not one: status 2.
    let (status, _, err) = run(&[
        "sign",
        SEED,
        "--kind",
        "manifest",
        "--version",
        "1",
        "--expires",
        "2027-01-01T00:00:00Z",
        "--key",
        SEED,
    ]);
    assert_eq!(status, 2, "{err}");
}

#[test]
fn the_readme_examples_run_as_written() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = readme.split("### Command line").nth(1).unwrap();
    let block = section.split("```sh\n").nth(1).unwrap().split("```").next().unwrap();
    let mut examples = 0;
    for example in block.split("$ ").skip(1) {
        let (command, expected) = example.split_once('\n').unwrap();
        let args: Vec<&str> = command.split_whitespace().skip(1).collect();
        let output = Command::cargo_bin("fleetpath")
            .unwrap()
            .args(&args)
            .current_dir(&root)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(output.status.success(), "{command}");
        assert_eq!(String::from_utf8(output.stdout).unwrap(), expected, "{command}");
        examples += 1;
    }
    assert_eq!(examples, 2);
}

#[test]
fn decide_within_a_rollout_follows_its_stages_and_calendar() {
    use fleetpath::{Calendar, Event, Fleet, Rollout, RolloutPolicy, UpgradeGraph, Version, plan_rollout};
    let dir = tempfile::tempdir().unwrap();
    let graph = UpgradeGraph::from_json(&std::fs::read_to_string(SEED).unwrap()).unwrap();
    let fleet = Fleet::from_csv(&std::fs::read_to_string(FLEET).unwrap()).unwrap();
    let calendar = Calendar::from_json(&std::fs::read_to_string(CALENDAR).unwrap()).unwrap();
    let policy = RolloutPolicy::default();
    let plan = plan_rollout(&graph, &fleet, &Version::parse("6.15.008").unwrap(), &policy, "r-1").unwrap();
    let start = "2026-11-30T13:00:00Z".parse().unwrap();
    let rollout = Rollout::new(&plan, &fleet, &graph, &policy).unwrap();
    let (rollout, _) = rollout.apply(&Event::Start { at: start }, Some(&calendar)).unwrap();
    let state = write_in(&dir, "rollout.json", &serde_json::to_string(&rollout).unwrap());
    let ask = |stage: usize| {
        let id = plan.stages[stage].devices.get(0).unwrap().id;
        let device = fleet.get(id).unwrap();
        let version = device.version.to_string();
        let args = [
            "decide",
            SEED,
            "--device",
            id,
            "--model",
            device.model,
            "--version",
            &version,
            "--rollout",
            &state,
            "--calendar",
            CALENDAR,
            "--at",
            "2026-11-30T13:00:00Z",
            "--json",
        ];
        let (status, out, err) = run(&args);
        assert_eq!(status, 0, "{err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let canary = ask(0);
    assert_eq!(canary["kind"], "download", "{canary}");
    let production = ask(2);
    assert_eq!((production["kind"].as_str(), production["reason"].as_str()), (Some("wait"), Some("stage_not_started")));
}
