#!/usr/bin/env bash
# What a user does: `npm pack` the package, install the tarball in an empty folder, then
# `require` and `import` it, and run README.md's Node example as written.
set -euo pipefail
pkg="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$pkg/../.." && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$pkg" && npm pack --silent --ignore-scripts --pack-destination "$work" >/dev/null)
tarball=$(ls "$work"/fleetpath-*.tgz)
listing=$(tar -tzf "$tarball")
grep -qx "package/fleetpath.linux-x64-gnu.node" <<<"$listing" || { echo "the tarball has no addon" >&2; exit 1; }
mkdir "$work/app"
cd "$work/app"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent "$tarball"
node -e "const fp = require('fleetpath'); if (fp.UpgradeGraph.load('{\"format_version\": 1, \"releases\": [{\"version\": \"1.0\"}]}').size !== 1) process.exit(1)"
node --input-type=module -e "import fp, { Version, NoPathError } from 'fleetpath'; if (new Version('v1.2').normalized() !== '1.2' || NoPathError !== fp.NoPathError) process.exit(1)"
# README.md's example, run from the repository root (it reads examples/data/).
awk '/<!-- node-example/{on=1; next} on && /^```js/{code=1; next} code && /^```/{exit} code' "$root/README.md" > example.js
[ -s example.js ] || { echo "README.md has no Node example" >&2; exit 1; }
out=$(cd "$root" && node "$work/app/example.js")
echo "$out"
expected="[ '5.6.14', '5.6.30', '6.15.008' ]
retry_after artifact_archived request_restore
true 2"
[ "$out" = "$expected" ] || { echo "README.md's Node example printed something else" >&2; exit 1; }
echo "npm pack: $(basename "$tarball") installs, requires, imports and runs the README example"
