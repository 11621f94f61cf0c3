#!/usr/bin/env bash
# Lambda-deployable wheels (issue 26), run by scripts/test.sh after the WASM step (which installs
# Debian's rustc-web, used here for aarch64) and runnable alone from the repository root:
#
#   scripts/lambda-wheels.sh
#
# 1. manylinux2014 (glibc 2.17) abi3 wheels with maturin + zig (ziglang from PyPI, venv cached
#    in target/lambda-venv): x86_64 (rustup's stable, target/x86_64-unknown-linux-gnu) and
#    aarch64 (Debian's rustc-web, std rebuilt with -Z build-std, target dir target/lambda-aarch64;
#    ../shared/notes/lambda-wheels.md), each as cp39-abi3 and cp311-abi3 (buffers read in place).
#    Each checked with `auditwheel show`: the manylinux_2_17 tag, no GLIBC_ symbol version above 2.17.
# 2. The x86_64 wheel installed into a fresh venv (target/lambda-test-venv), the Python suite run
#    against it.
# 3. The aarch64 wheels imported under emulation: qemu-user-static and Debian bookworm's arm64
#    python3.11 (its .debs unpacked into target/arm64-python, not installed), smoke test
#    examples/python_lambda/smoke.py on each.
# 4. examples/python_lambda: cfn-lint on template.yaml, package.py for both architectures and a
#    runtime on each side of 3.11 (zip, unzipped size against Lambda's 250 MB).
# Prints the seconds each part takes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }
t0=$(date +%s)
took() { local now; now=$(date +%s); printf '    [%s: %ss]\n' "$1" "$((now - t0))"; t0=$now; }

venv="$root/target/lambda-venv"
if ! "$venv/bin/python" -c 'import maturin, ziglang, auditwheel, cfnlint' >/dev/null 2>&1; then
  rm -rf "$venv"
  python3 -m venv "$venv" || fail "cannot create a venv at $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r bindings/python/requirements-lambda.txt ||
    fail "cannot install maturin, ziglang, auditwheel and cfn-lint from PyPI"
fi
took "tools venv (maturin, ziglang, auditwheel, cfn-lint)"

out="$root/target/lambda-wheels"
rm -rf "$out"
# The test command's Python step builds this exact wheel (cp39-abi3, manylinux2014, zig) into
# target/wheels: take it from there rather than build it twice; build it when run alone.
prebuilt=$(ls "$root"/target/wheels/fleetpath-*-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl 2>/dev/null || true)
if [ -n "$prebuilt" ] && [ "$(wc -l <<<"$prebuilt")" -eq 1 ]; then
  mkdir -p "$out" && cp "$prebuilt" "$out/"
  took "x86_64 manylinux2014 wheel (built by the Python step: target/wheels)"
else
  # maturin finds zig as `python -m ziglang` through PATH.
  PATH="$venv/bin:$PATH" CARGO_TARGET_DIR="$root/target" maturin build --quiet --release --locked \
    -m bindings/python/Cargo.toml -o "$out" --zig --compatibility manylinux2014 ||
    fail "the manylinux2014 x86_64 wheel did not build"
  took "x86_64 manylinux2014 wheel (maturin --zig)"
fi

for pkg in rustc-web cargo-web rust-web-src rust-web-llvm lld-22; do
  dpkg -s "$pkg" >/dev/null 2>&1 || fail "Debian's $pkg is missing: bindings/wasm/tools/build.sh installs it (run it first)"
done
# Debian's compiler and cargo (rustup's come first on PATH), scoped to this call; its own target dir.
aarch64_wheel() { # extra maturin arguments (the ABI's features)
  PATH="$venv/bin:$PATH" CARGO_TARGET_DIR="$root/target/lambda-aarch64" RUSTC=/usr/bin/rustc CARGO=/usr/bin/cargo \
    RUSTC_BOOTSTRAP=1 maturin build --quiet --release --locked -m bindings/python/Cargo.toml -o "$out" \
    --zig --compatibility manylinux2014 --target aarch64-unknown-linux-gnu -Z build-std=std,panic_abort "$@"
}
aarch64_wheel || fail "the manylinux2014 cp39-abi3 aarch64 wheel did not build"
took "aarch64 manylinux2014 cp39-abi3 wheel (rustc-web, -Z build-std, maturin --zig)"
# The 3.11+ build (buffers read in place): only pyo3 and the binding rebuild, std and the core are shared.
aarch64_wheel --no-default-features --features abi3-py311 || fail "the manylinux2014 cp311-abi3 aarch64 wheel did not build"
took "aarch64 manylinux2014 cp311-abi3 wheel"

check_wheel() { # $1: wheel, $2: arch
  local report above
  report=$("$venv/bin/auditwheel" show "$1" | tr '\n' ' ' | tr -s ' ')
  echo "$(basename "$1") ($(stat -c %s "$1") bytes): $report"
  grep -q "is consistent with the following platform tag: \"manylinux_2_17_$2\"" <<<"$report" ||
    fail "auditwheel: $(basename "$1") is not manylinux_2_17 (manylinux2014)"
  above=$(grep -oE 'GLIBC_2\.[0-9]+' <<<"$report" | sort -u | awk -F. '$2 > 17' | tr '\n' ' ')
  [ -z "$above" ] || fail "auditwheel: $(basename "$1") needs $above(above 2.17)"
}
# The 3.11+ x86_64 wheel (buffers read in place) is the Python step's, which tests it; built when run alone.
cp311=$(ls "$root"/target/wheels/fleetpath-*-cp311-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl 2>/dev/null || true)
if [ -n "$cp311" ] && [ "$(wc -l <<<"$cp311")" -eq 1 ]; then
  cp "$cp311" "$out/"
else
  PATH="$venv/bin:$PATH" CARGO_TARGET_DIR="$root/target" maturin build --quiet --release --locked \
    -m bindings/python/Cargo.toml -o "$out" --no-default-features --features abi3-py311 \
    --zig --compatibility manylinux2014 || fail "the manylinux2014 cp311-abi3 x86_64 wheel did not build"
fi
for abi in cp39 cp311; do
  for arch in x86_64 aarch64; do
    wheel=$(ls "$out"/fleetpath-*-"$abi"-abi3-manylinux2014_"$arch".manylinux_2_17_"$arch".whl) ||
      fail "no $abi-abi3 manylinux2014 $arch wheel in $out"
    check_wheel "$wheel" "$arch"
  done
done
took "auditwheel show (the four wheels)"

# The x86_64 wheel in a fresh venv (no source tree on sys.path: pytest runs from tests/'s parent,
# which has no fleetpath package of its own), the suite with scripts/test.sh's flags.
test_venv="$root/target/lambda-test-venv"
rm -rf "$test_venv"
python3 -m venv "$test_venv"
"$test_venv/bin/pip" install -q --disable-pip-version-check "$out"/fleetpath-*-cp39-abi3-manylinux2014_x86_64*.whl \
  -r bindings/python/requirements-dev.txt || fail "cannot install the x86_64 wheel and the test tools into $test_venv"
"$test_venv/bin/python" -c 'import fleetpath, sys; assert "lambda-test-venv" in fleetpath.__file__, fleetpath.__file__' ||
  fail "the fresh venv does not import the wheel"
lambda_log=$(mktemp)
(cd bindings/python && "$test_venv/bin/python" -m pytest -q -p no:cacheprovider tests) | tee "$lambda_log"
n=$(grep -oE '[0-9]+ passed' "$lambda_log" | awk '{s += $1} END {print s + 0}')
rm -f "$lambda_log"
[ "$n" -gt 0 ] || fail "pytest ran no test on the manylinux2014 x86_64 wheel"
lambda_wheel_passed=$n
took "fresh venv, x86_64 wheel, bindings/python/tests ($n passed)"

# aarch64 under emulation: Debian's arm64 python3.11 unpacked (dpkg -x) next to qemu-aarch64-static.
arm_root="$root/target/arm64-python"
arm_debs=(libc6 libgcc-s1 libexpat1 zlib1g libpython3.11-minimal python3.11-minimal libpython3.11-stdlib
  libffi8 libssl3 libbz2-1.0 liblzma5 libcrypt1 libuuid1 libsqlite3-0 libtinfo6 libncursesw6 libreadline8
  libnsl2 libtirpc3 libdb5.3 libgdbm6 libzstd1 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0
  libcom-err2 libkeyutils1)
if ! command -v qemu-aarch64-static >/dev/null || [ ! -x "$arm_root/usr/bin/python3.11" ]; then
  [ "$(id -u)" -eq 0 ] || fail "install qemu-user-static and enable arm64 packages (dpkg --add-architecture arm64), or run as root"
  # arm64 is enabled only for the download (apt-get download: nothing arm64 is installed) and
  # removed again, so later apt-get calls see the machine as it was.
  added_arm64=0
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then dpkg --add-architecture arm64; added_arm64=1; fi
  apt-get update -qq || echo "NOTE: apt-get update reported errors (a source without arm64?); trying the download anyway"
  command -v qemu-aarch64-static >/dev/null ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null
  debs=$(mktemp -d)
  downloaded=0
  (cd "$debs" && apt-get download -qq "${arm_debs[@]/%/:arm64}" media-types) && downloaded=1
  [ "$added_arm64" -eq 0 ] || dpkg --remove-architecture arm64
  [ "$downloaded" -eq 1 ] || fail "cannot download Debian's arm64 python3.11"
  rm -rf "$arm_root" && mkdir -p "$arm_root"
  for deb in "$debs"/*.deb; do dpkg -x "$deb" "$arm_root"; done
  rm -rf "$debs"
fi
# Both aarch64 wheels on the arm64 Python 3.11: the cp311 one must read buffers in place.
for abi in cp39 cp311; do
  arm_site="$root/target/arm64-site-$abi"
  rm -rf "$arm_site" && mkdir -p "$arm_site"
  "$venv/bin/python" -m zipfile -e "$out"/fleetpath-*-"$abi"-abi3-manylinux2014_aarch64*.whl "$arm_site"
  # ELF e_machine 183: AArch64.
  "$venv/bin/python" -c 'import sys; h = open(sys.argv[1], "rb").read(20); sys.exit(h[:4] != b"\x7fELF" or int.from_bytes(h[18:20], "little") != 183)' \
    "$arm_site"/fleetpath/_native*.so || fail "the $abi aarch64 wheel's module is not an AArch64 ELF file"
  smoke=$(PYTHONPATH="$arm_site" qemu-aarch64-static -L "$arm_root" "$arm_root/usr/bin/python3.11" \
    examples/python_lambda/smoke.py examples/data/seed-ip-module.json) ||
    fail "the $abi aarch64 wheel failed its smoke test under qemu"
  echo "$smoke"
  grep -q '^machine aarch64' <<<"$smoke" || fail "the smoke test did not run on aarch64"
  want=$([ "$abi" = cp311 ] && echo True || echo False)
  grep -qx "buffer protocol $want" <<<"$smoke" || fail "the $abi aarch64 wheel: buffers read in place must be $want"
done
took "aarch64 wheels (cp39, cp311) imported and smoke-tested under qemu-aarch64-static"

# The SAM template, offline.
"$venv/bin/cfn-lint" examples/python_lambda/template.yaml || fail "cfn-lint: examples/python_lambda/template.yaml"
took "cfn-lint examples/python_lambda/template.yaml"

for arch in x86_64 arm64; do
  for runtime in python3.9 python3.12; do
    "$venv/bin/python" examples/python_lambda/package.py --arch "$arch" --runtime "$runtime" --wheels "$out" \
      --out "$root/target/lambda-package" || fail "the $arch $runtime deployment package"
  done
done
took "deployment packages (package.py, both architectures, a runtime before and after 3.11)"
echo "lambda wheels: $lambda_wheel_passed passed on the manylinux2014 x86_64 wheel"
