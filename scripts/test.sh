#!/usr/bin/env bash
# Runs every fleetpath check: format, clippy, unit/integration/property/doc tests, the shared
# JSON vectors, the examples on bundled data, the criterion benches in test mode, the Node
# and WASM packages (the JS suite in Node and headless Chromium), the dashboard in Chromium, the manylinux2014 wheels for
# AWS Lambda (scripts/lambda-wheels.sh). Installs what it needs on a
# fresh Debian bookworm machine (run as root, or with the packages already installed).
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step's header shows the time since the run began (where CI's minutes go).
step() { printf '\n==> [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }
fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }

step "toolchain"
cargo --version
rustc --version
# A full run writes about 10 GB under target/ (debug, release, wasm32, three venvs): say what the
# disk has, so a run that dies of a full disk says so at its top. One-off builds gain nothing from
# incremental compilation, which would add gigabytes.
df -h . | tail -n 1 | awk '{print "disk: " $4 " free of " $2}'
export CARGO_INCREMENTAL=0
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$component" || fail "cargo $component is missing and could not be installed"
  fi
done

step "format"
cargo fmt --all -- --check

step "clippy (workspace, all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "other feature sets: the core as Python, Node and the CLI build it, fleetpath-aws without its SDK (the pure parts), the Python binding for the 3.11 ABI"
# The workspace's build unifies features: the WebAssembly binding's `small-json` leaves the
# core's default JSON readers (graph/plain_entries.rs among them) out of the run above.
cargo clippy --locked -p fleetpath --all-targets -- -D warnings
cargo clippy --locked -p fleetpath-aws --no-default-features --lib -- -D warnings
# The Python binding for the 3.11 stable ABI compiles its buffer-protocol path.
cargo clippy --locked -p fleetpath-python --no-default-features --features abi3-py311 -- -D warnings

step "S3 test server on 127.0.0.1 (moto from PyPI, and the fault-injection proxy)"
# shellcheck source=scripts/s3-servers.sh
source scripts/s3-servers.sh
test_log=$(mktemp)
trap 'rm -f "$test_log"; s3_servers_stop' EXIT
s3_servers_start || fail "the S3 test server did not start (see target/s3-logs)"

step "tests: unit, integration (S3 against moto), property, shared vectors, doc tests"
# Graphviz renders the DOT export of a manifest full of hostile labels (crates/core/tests/graph_export.rs).
if ! command -v dot >/dev/null; then
  [ "$(id -u)" -eq 0 ] || fail "install graphviz (Debian) or run as root"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends graphviz >/dev/null
fi
# Without the WebAssembly binding (it has no host tests: tests/wasm.rs runs on wasm32 below),
# whose `small-json` feature would otherwise apply to the core in this run: the core is
# tested with its default features, as Python, Node and the CLI build it, then its unit tests
# with `small-json`, as the WebAssembly package builds it.
FLEETPATH_REQUIRE_DOT=1 cargo test --workspace --exclude fleetpath-wasm --locked 2>&1 | tee "$test_log"
cargo test --locked -p fleetpath --features small-json --lib 2>&1 | tee -a "$test_log"
passed=$(grep -oE 'test result: ok\. [0-9]+ passed' "$test_log" | awk '{s += $4} END {print s + 0}')
failed=$(grep -oE '[0-9]+ failed' "$test_log" | awk '{s += $1} END {print s + 0}')
[ "$passed" -gt 0 ] || fail "cargo test ran no test"

step "API docs build without warnings (broken links fail)"
RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps -p fleetpath -p fleetpath-aws

step "examples on bundled data"
rm -rf target/dashboard-snapshot
story_out=$(cargo run --quiet --locked --release --example seed_story -- --snapshot target/dashboard-snapshot)
echo "$story_out"
# The dashboard's bundled data is the story's snapshot at the canary's breach: keep it current.
diff -r examples/dashboard/data target/dashboard-snapshot ||
  fail "examples/dashboard/data differs from what seed_story --snapshot writes: copy target/dashboard-snapshot/* over it"
grep -q 'prefetch: firmware/ip-module/5.6.30.bin .* restore requested' <<<"$story_out" || fail "seed story: the bridge must be restored ahead"
grep -q 'canary: HEALTH BREACH: breach: memory_leak' <<<"$story_out" || fail "seed story: 6.15.007 must breach in canary"
grep -q 'rollback plan: .* partial to 5.6.30' <<<"$story_out" || fail "seed story: 5.6.14 devices roll back to the bridge"
grep -q 'devices told: 17 x up_to_date (rolled_back)' <<<"$story_out" || fail "seed story: the canary must finish its rollback"
grep -q 'production: healthy' <<<"$story_out" || fail "seed story: production must pass its gate"
grep -q 'fleet: 340 on 6.15.008' <<<"$story_out" || fail "seed story: the plant must end on 6.15.008"
requests_out=$(cargo run --quiet --locked --release --example device_requests)
echo "$requests_out"
grep -q 'retry_after:artifact_archived' <<<"$requests_out" || fail "device requests: archived bridge must defer downloads"
grep -q 'rollout HALTED: {"kind":"abort_rule"' <<<"$requests_out" || fail "device requests: without prefetch the canary times out"
demo_out=$(cargo run --quiet --locked --example upgrade_path -- examples/data/seed-ip-module.json 5.6.14 6.15.008 --model IPM-1)
echo "$demo_out"
grep -q '1. 5.6.14 -> 5.6.30' <<<"$demo_out" || fail "seed demo: the bridge hop is missing"
# The README shows this very output: keep it true.
readme_demo=$(awk '/^\$ cargo run --example upgrade_path/{on=1; next} on && /^```/{exit} on' README.md)
[ "$readme_demo" = "$demo_out" ] || fail "README.md's demo transcript differs from the demo's output"
grep -q '2. 5.6.30 -> 6.15.008' <<<"$demo_out" || fail "seed demo: the MQTT hop is missing"
set +e
refused_out=$(cargo run --quiet --locked --example upgrade_path -- examples/data/seed-ip-module.json 5.6.14 6.15.008 --max-hops 1)
refused_rc=$?
set -e
echo "$refused_out"
[ "$refused_rc" -eq 1 ] || fail "seed demo: a one-hop jump must be refused with exit status 1 (got $refused_rc)"
grep -q 'error \[too_many_hops\]' <<<"$refused_out" || fail "seed demo: the refusal must name its code"
lc_out=$(cargo run --quiet --locked --example upgrade_path -- examples/data/line-controller.json 3.9.0.12 latest --model EC-300)
echo "$lc_out"
grep -q '3. 4.2.0.17 -> 4.3.0.2' <<<"$lc_out" || fail "line-controller demo: unexpected path"
plant_out=$(cargo run --quiet --locked --example plant_rollout)
echo "$plant_out"
grep -q 'canary: 17 devices start updating' <<<"$plant_out" || fail "plant demo: the canary must take one device per line"
grep -q '340 of 340 devices run 6.15.008' <<<"$plant_out" || fail "plant demo: the rollout must complete"
health_out=$(cargo run --quiet --locked --example health_gate)
echo "$health_out"
grep -q 'report at .*: healthy: 5 rules passed on 17 devices' <<<"$health_out" || fail "health demo: healthy firmware must pass"
grep -q 'cycle_time breaches on line' <<<"$health_out" || fail "health demo: the slow line must breach"
grep -q 'memory_leak breaches on device' <<<"$health_out" || fail "health demo: the leak must be found"
grep -q '"verdict":{"verdict":"breach"' <<<"$health_out" || fail "health demo: the breach must reach the rollout"

s3_out=$(cargo run --quiet --locked -p fleetpath-aws --example s3_orchestrator -- \
  --endpoint "$FLEETPATH_S3_ENDPOINT" --bucket fleetpath-example)
echo "$s3_out"
grep -q 'firmware/ip-module/5.6.30.bin: ARCHIVED (GlacierFlexibleRetrieval), sha256 checked' <<<"$s3_out" ||
  fail "s3 orchestrator: the bridge must be seen archived and its checksum checked"
grep -q 'press-1-01 on 5.6.14: retry after .*artifact_archived: firmware/ip-module/5.6.30.bin; host: request_restore' <<<"$s3_out" ||
  fail "s3 orchestrator: the device on 5.6.14 must be told to retry while the bridge is archived"
grep -q 'firmware/ip-module/5.6.30.bin: restore_requested' <<<"$s3_out" || fail "s3 orchestrator: the bridge must be restored"
grep -q 'press-1-01 on 5.6.14: download 5.6.14 -> 5.6.30, URL valid until' <<<"$s3_out" ||
  fail "s3 orchestrator: once restored, the device must get the bridge"
grep -q 'X-Amz-Expires=900&X-Amz-SignedHeaders=host' <<<"$s3_out" || fail "s3 orchestrator: presigned URLs must be printed"

step "Python package: two abi3 wheels, pip install, generated errors, pytest on the shared vectors, stubs, the Lambda example"
py_venv="$PWD/target/py-venv"
if ! "$py_venv/bin/python" -c 'import maturin, pytest, mypy, numpy, pyarrow, polars, ziglang' >/dev/null 2>&1; then
  python3 -m venv "$py_venv" || fail "cannot create a venv at $py_venv"
  "$py_venv/bin/pip" install -q --disable-pip-version-check -r bindings/python/requirements-dev.txt ||
    fail "cannot install the Python build and test tools from PyPI"
fi
rm -rf target/wheels
# Two abi3 wheels: Python 3.9+ (columns given as buffers copied once) and 3.11+ (buffers read
# in place); pip picks the newest ABI a Python supports. The 3.9+ one is the manylinux2014 wheel
# (linked by zig, glibc 2.17) that Lambda runtimes load: the Lambda step checks and tests it.
PATH="$py_venv/bin:$PATH" CARGO_TARGET_DIR="$PWD/target" "$py_venv/bin/maturin" build --quiet --release --locked \
  -m bindings/python/Cargo.toml -o target/wheels --zig --compatibility manylinux2014
PATH="$py_venv/bin:$PATH" CARGO_TARGET_DIR="$PWD/target" "$py_venv/bin/maturin" build --quiet --release --locked \
  -m bindings/python/Cargo.toml -o target/wheels --no-default-features --features abi3-py311 \
  --zig --compatibility manylinux2014
ls target/wheels/fleetpath-*-cp39-abi3-*.whl >/dev/null || fail "maturin built no cp39-abi3 wheel"
# The native module's type stubs are generated from the module itself (pyo3's introspection):
# the committed file must be what the build writes.
rm -rf target/stubs
CARGO_TARGET_DIR="$PWD/target" "$py_venv/bin/maturin" generate-stubs --quiet --profile release --locked \
  -m bindings/python/Cargo.toml -o target/stubs
diff -u bindings/python/python/fleetpath/_native.pyi target/stubs/fleetpath/_native.pyi ||
  fail "bindings/python/python/fleetpath/_native.pyi is not what maturin generate-stubs writes: copy target/stubs/fleetpath/_native.pyi over it"
ls target/wheels/fleetpath-*-cp311-abi3-*.whl >/dev/null || fail "maturin built no cp311-abi3 wheel"
py_passed=0
py_tests() { # $1: what is installed
  local log
  log=$(mktemp)
  (cd bindings/python && "$py_venv/bin/python" -m pytest -q -p no:cacheprovider tests) | tee "$log"
  local n
  n=$(grep -oE '[0-9]+ passed' "$log" | awk '{s += $1} END {print s + 0}')
  rm -f "$log"
  [ "$n" -gt 0 ] || fail "pytest ran no test ($1)"
  py_passed=$((py_passed + n))
}
# What a user runs: pip builds the package from source (sharing the target dir) and installs it.
CARGO_TARGET_DIR="$PWD/target" "$py_venv/bin/pip" install -q --disable-pip-version-check --force-reinstall \
  ./bindings/python || fail "pip install ./bindings/python failed"
"$py_venv/bin/python" -c 'import fleetpath, sys; sys.exit(fleetpath.BUFFER_PROTOCOL)' ||
  fail "the source build (Python 3.9 ABI) must not claim the buffer protocol"
(cd bindings/python && "$py_venv/bin/python" tools/gen_errors.py --check) ||
  fail "bindings/python/python/fleetpath/errors.py is out of date with the core's ERROR_CODES"
py_tests "source build, abi3-py39"
"$py_venv/bin/python" -m pytest -q -p no:cacheprovider --doctest-modules --pyargs fleetpath
"$py_venv/bin/python" -m mypy.stubtest fleetpath
"$py_venv/bin/python" -m mypy --strict --no-incremental -p fleetpath
# The Lambda example: its handlers invoked with the sample events, S3 and DynamoDB in moto.
"$py_venv/bin/pip" install -q --disable-pip-version-check -r examples/python_lambda/requirements-test.txt ||
  fail "cannot install the Lambda example's test tools (boto3, moto) from PyPI"
lambda_log=$(mktemp)
(cd examples/python_lambda && "$py_venv/bin/python" -m pytest -q -p no:cacheprovider tests) | tee "$lambda_log"
lambda_passed=$(grep -oE '[0-9]+ passed' "$lambda_log" | awk '{s += $1} END {print s + 0}')
rm -f "$lambda_log"
[ "$lambda_passed" -gt 0 ] || fail "the Lambda example's tests ran no test"
(cd examples/python_lambda && "$py_venv/bin/python" -m mypy --strict --no-incremental --ignore-missing-imports orchestrator.py) ||
  fail "the Lambda example does not type-check against the fleetpath package"
py_passed=$((py_passed + lambda_passed))
# The 3.11 wheel: the same suite, now reading buffers in place.
"$py_venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps \
  target/wheels/fleetpath-*-cp311-abi3-*.whl || fail "cannot install the cp311-abi3 wheel"
"$py_venv/bin/python" -c 'import fleetpath, sys; sys.exit(not fleetpath.BUFFER_PROTOCOL)' ||
  fail "the abi3-py311 wheel must read buffers in place"
py_tests "cp311-abi3 wheel"
"$py_venv/bin/python" -m pytest -q -p no:cacheprovider --doctest-modules --pyargs fleetpath
passed=$((passed + py_passed))

step "Node package: napi-rs build from source, the JS suite on the shared vectors, types, npm pack and install"
command -v node >/dev/null && command -v npm >/dev/null || fail "Node 20 and npm are needed for the Node package"
(cd bindings/node && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) ||
  fail "cannot install the Node package's build tools (@napi-rs/cli, typescript) from npm"
(cd bindings/node && npm run --silent build) || fail "the Node addon did not build"
node_log=$(mktemp)
(cd bindings/node && node --test ../js-tests/ tests/) 2>&1 | tee "$node_log" | grep -E '^(not ok|# (tests|pass|fail))' || true
node_passed=$(grep -oE '^# pass [0-9]+' "$node_log" | awk '{print $3}')
node_failed=$(grep -oE '^# fail [0-9]+' "$node_log" | awk '{print $3}')
rm -f "$node_log"
[ "${node_failed:-1}" -eq 0 ] && [ "${node_passed:-0}" -gt 0 ] || fail "the JS suite failed on the Node package"
(cd bindings/node && npx --no-install tsc -p .) || fail "the Node package's declarations do not type-check (tsc --strict)"
bindings/node/tools/pack-test.sh || fail "npm pack / install / require / import / README example"
passed=$((passed + node_passed))
# The Node update-check service example, against moto: the AWS SDK v3 and fleetpath.
(cd examples/node_service && npm ci --no-audit --no-fund --loglevel=error) ||
  fail "cannot install the Node service example's dependencies (@aws-sdk/client-s3) from npm"
service_log=$(mktemp)
(cd examples/node_service && node --test test/) 2>&1 | tee "$service_log" | grep -E '^(not ok|# (tests|pass|fail|skipped))' || true
grep -qE '^# fail 0' "$service_log" && grep -qE '^# skipped 0' "$service_log" || fail "the Node service example's tests failed"
passed=$((passed + $(grep -oE '^# pass [0-9]+' "$service_log" | awk '{print $3}')))
rm -f "$service_log"

step "minimum supported Rust version (the workspace's rust-version, what the AWS SDK needs)"
msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
if rustup toolchain install "$msrv" --profile minimal >/dev/null 2>&1; then
  cargo "+$msrv" check --workspace --all-targets --locked --target-dir target/msrv
  echo "the workspace builds with Rust $msrv"
else
  echo "NOTE: rustup could not install Rust $msrv here: the MSRV was NOT checked in this run (stable only)"
fi

step "benches in test mode (each bench runs once, release build)"
cargo bench --locked -p fleetpath-benches -- --test

step "WASM package: wasm32 build (the core with it), the JS suite in Node and in headless Chromium, wasm-bindgen-test, size"
# rustup here has only the host target and cannot download others; Debian's rustc-web ships
# the std source, so std is rebuilt for wasm32 (tools/build.sh installs it; docs/development.md).
bindings/wasm/tools/build.sh || fail "the WASM package did not build"
(cd bindings/wasm && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) ||
  fail "cannot install the WASM package's test tools (esbuild, playwright-core, assert, buffer, typescript) from npm"
# The package's declarations are precise (the Node package's types): tsc --strict over examples/typed.ts.
(cd bindings/wasm && npx --no-install tsc -p .) || fail "the WASM package's declarations do not type-check (tsc --strict)"
wasm_log=$(mktemp)
(cd bindings/wasm && FLEETPATH_JS=./pkg/node.mjs node --test ../js-tests/ tests/) 2>&1 | tee "$wasm_log" |
  grep -E '^(not ok|# (tests|pass|fail))' || true
wasm_node_passed=$(grep -oE '^# pass [0-9]+' "$wasm_log" | awk '{print $3}')
grep -qE '^# fail 0' "$wasm_log" && [ "${wasm_node_passed:-0}" -gt 0 ] || fail "the JS suite failed on the WASM package in Node"
if ! command -v chromium >/dev/null; then
  [ "$(id -u)" -eq 0 ] || fail "install chromium (Debian) or run as root"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
node bindings/wasm/browser/run.mjs 2>&1 | tee "$wasm_log" | grep -vE '^ok ' || true
wasm_browser_passed=$(grep -oE '^# pass [0-9]+' "$wasm_log" | awk '{print $3}')
grep -qE '^# fail 0' "$wasm_log" && [ "${wasm_browser_passed:-0}" -gt 0 ] || fail "the JS suite failed on the WASM package in Chromium"
# Inside wasm32, in Node: what only the wasm build has (bindings/wasm/tests/wasm.rs).
RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$(ls "$PWD"/target/tools/wasm-bindgen-*/bin/wasm-bindgen-test-runner)" \
  /usr/bin/cargo test --locked -Z build-std=std,panic_abort --target wasm32-unknown-unknown -p fleetpath-wasm \
  --target-dir target/wasm32 2>&1 | tee "$wasm_log"
wasm_rust_passed=$(grep -oE 'test result: ok\. [0-9]+ passed' "$wasm_log" | awk '{s += $4} END {print s + 0}')
[ "$wasm_rust_passed" -gt 0 ] || fail "wasm-bindgen-test ran no test"
rm -f "$wasm_log"
wasm_file=bindings/wasm/pkg/fleetpath_wasm_bg.wasm
wasm_raw=$(stat -c %s "$wasm_file")
wasm_gz=$(gzip -9 -c "$wasm_file" | wc -c)
echo "fleetpath_wasm_bg.wasm: $wasm_raw bytes, $wasm_gz gzipped (-9)"
bindings/wasm/tools/pack-test.sh || fail "the WASM package does not pack, install or import"
[ "$wasm_gz" -le 1000000 ] || fail "the .wasm is over 1 MB (10^6 bytes) gzipped ($wasm_gz bytes)"
echo "JS suite: $node_passed passed on the Node addon, $wasm_node_passed on the WASM package in Node (with its own tests), $wasm_browser_passed in Chromium"
passed=$((passed + wasm_node_passed + wasm_browser_passed + wasm_rust_passed))

step "dashboard: the static page on the WASM package, built with esbuild, tested in headless Chromium (screenshots into docs/dashboard/)"
(cd examples/dashboard && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) ||
  fail "cannot install the dashboard's dependencies (chart.js, @viz-js/viz, esbuild) from npm"
node examples/dashboard/tools/build.mjs || fail "the dashboard did not build"
dashboard_log=$(mktemp)
node --test examples/dashboard/test/ 2>&1 | tee "$dashboard_log" | grep -E '^(not ok|# )' || true
dashboard_passed=$(grep -oE '^# pass [0-9]+' "$dashboard_log" | awk '{print $3}')
grep -qE '^# fail 0' "$dashboard_log" && [ "${dashboard_passed:-0}" -gt 0 ] || fail "the dashboard's browser tests failed"
rm -f "$dashboard_log"
passed=$((passed + dashboard_passed))

step "Lambda wheels: manylinux2014 x86_64 and aarch64 (maturin + zig), auditwheel, the suite on x86_64, aarch64 under qemu, the SAM template, deployment packages"
# After the WASM step: the aarch64 build uses the Debian rustc-web that bindings/wasm/tools/build.sh
# installed. Prints the seconds of each part (scripts/lambda-wheels.sh; issue 26).
lambda_start=$(date +%s)
lambda_log=$(mktemp)
scripts/lambda-wheels.sh 2>&1 | tee "$lambda_log" || fail "the Lambda wheels (scripts/lambda-wheels.sh)"
lambda_passed=$(sed -n 's/^lambda wheels: \([0-9]*\) passed.*/\1/p' "$lambda_log")
rm -f "$lambda_log"
[ "${lambda_passed:-0}" -gt 0 ] || fail "the suite ran no test on the manylinux2014 wheel"
passed=$((passed + lambda_passed))
echo "Lambda wheels step: $(($(date +%s) - lambda_start))s"

step "fuzzing: every cargo-fuzz target for a bounded time from its seed corpus (fuzz/run.sh)"
# Coverage-guided (libFuzzer), stable Rust; a crash fails the run and leaves its input in
# fuzz/artifacts/. Longer local runs: FUZZ_SECONDS=600 fuzz/run.sh [targets].
FUZZ_SECONDS="${FUZZ_SECONDS:-15}" fuzz/run.sh || fail "a fuzz target crashed"

step "all checks passed"
echo "fleetpath: $passed passed, $failed failed"
