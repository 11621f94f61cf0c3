#!/usr/bin/env bash
# What a user does: `npm pack` the built package, install the tarball in an empty folder, and
# import it in Node (the `node` export: pkg/node.mjs); the tarball must hold the browser entry
# and the .wasm too.
set -euo pipefail
pkg="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$pkg" && npm pack --silent --ignore-scripts --pack-destination "$work" >/dev/null)
tarball=$(ls "$work"/fleetpath-wasm-*.tgz)
listing=$(tar -tzf "$tarball")
for f in pkg/index.mjs pkg/node.mjs pkg/index.d.ts pkg/fleetpath_wasm_bg.wasm; do
  grep -qx "package/$f" <<<"$listing" || { echo "the tarball has no $f" >&2; exit 1; }
done
mkdir "$work/app"
cd "$work/app"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent "$tarball"
node --input-type=module -e "
import fp, { UpgradeGraph, NoPathError } from 'fleetpath-wasm';
const g = UpgradeGraph.load('{\"format_version\": 1, \"releases\": [{\"version\": \"1.0\"}, {\"version\": \"2.0\"}]}');
let refused = false;
try { g.resolve('1.0', '2.0'); } catch (e) { refused = e instanceof NoPathError && e instanceof fp.FleetpathError; }
if (g.size !== 2 || !refused) process.exit(1);"
echo "npm pack: $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KB) installs and imports in Node"
