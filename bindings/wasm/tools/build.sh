#!/usr/bin/env bash
# Builds the npm package `fleetpath-wasm` into bindings/wasm/pkg/: the Rust crate for
# wasm32-unknown-unknown with Debian's rustc-web (std rebuilt from its source: rustup here has
# only the host target), wasm-bindgen's glue (the CLI pinned to Cargo.lock's wasm-bindgen and
# cached under target/tools/), then the package's JavaScript (tools/package.mjs, with esbuild
# from the package's npm dev dependencies, installed if missing).
#
#   bindings/wasm/tools/build.sh          # release build (profile wasm-release: small)
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$root"

wasm_pkgs=(rustc-web cargo-web rust-web-src rust-web-llvm lld-22)
if ! dpkg -s "${wasm_pkgs[@]}" >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] || { echo "install ${wasm_pkgs[*]} (Debian bookworm-security) or run as root" >&2; exit 1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${wasm_pkgs[@]}" >/dev/null
fi

version=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)
bindgen="$root/target/tools/wasm-bindgen-$version/bin/wasm-bindgen"
if [ ! -x "$bindgen" ]; then
  echo "building wasm-bindgen-cli $version (once; cached in target/tools/)"
  cargo install --quiet wasm-bindgen-cli --version "$version" --root "$root/target/tools/wasm-bindgen-$version"
fi

# `-Z build-std` only here: in a shared config Debian's cargo would apply it to host builds too.
RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 /usr/bin/cargo build --locked --profile wasm-release \
  -Z build-std=std,panic_abort --target wasm32-unknown-unknown -p fleetpath-wasm --target-dir target/wasm32

pkg="$root/bindings/wasm/pkg"
rm -rf "$pkg"
# The profile strips symbols, which drops the target_features section: wasm-bindgen then says
# so on stderr and takes reference types from the module's intrinsics, and returns results
# through the shadow stack (`__wbindgen_add_to_stack_pointer`), which js/setup.mjs also uses to
# put the stack back after a panic.
"$bindgen" --target web --out-dir "$pkg" target/wasm32/wasm32-unknown-unknown/wasm-release/fleetpath_wasm.wasm 2>&1 |
  grep -v 'target_features. custom section is missing' >&2 || true
# tools/package.mjs bundles with esbuild (the package's pinned dev dependency).
if [ ! -d bindings/wasm/node_modules/esbuild ]; then
  (cd bindings/wasm && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
fi
node bindings/wasm/tools/package.mjs
