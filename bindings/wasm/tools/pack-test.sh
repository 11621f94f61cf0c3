#!/usr/bin/env bash
# What a user does: `npm pack` the built package, install the tarball in an empty folder, and
# import it in Node (the `node` export: pkg/node.mjs); the tarball must hold the browser entry
# and the .wasm too. Then TypeScript (tsc --strict, the package's own .d.ts checked too) on a
# module that imports it: the tarball must hold every declaration file the types refer to.
set -euo pipefail
pkg="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$pkg" && npm pack --silent --ignore-scripts --pack-destination "$work" >/dev/null)
tarball=$(ls "$work"/fleetpath-wasm-*.tgz)
listing=$(tar -tzf "$tarball")
for f in pkg/index.mjs pkg/node.mjs pkg/index.d.ts pkg/fleetpath_wasm.d.ts pkg/errors.d.ts pkg/fleetpath_wasm_bg.wasm; do
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
tsc="$pkg/node_modules/.bin/tsc"
[ -x "$tsc" ] || { echo "no $tsc: npm ci in bindings/wasm first (typescript is a dev dependency)" >&2; exit 1; }
cat >tsconfig.json <<'EOF'
{
  "compilerOptions": {
    "strict": true, "noEmit": true, "skipLibCheck": false, "types": [],
    "target": "es2022", "module": "node16", "moduleResolution": "node16", "lib": ["es2022", "dom", "esnext.disposable"]
  },
  "files": ["app.mts"]
}
EOF
cat >app.mts <<'EOF'
import fp, { NoPathError, UpgradeGraph, type Decision, type Path } from 'fleetpath-wasm';
const graph: UpgradeGraph = UpgradeGraph.load('{"format_version": 1, "releases": [{"version": "1.0"}]}');
const path: Path = graph.resolve('1.0', '1.0');
const decision: Decision = new fp.Decider(graph).decide({ device: 'd', model: 'm', version: '1.0', at: 0 });
// @ts-expect-error: a path's versions are text
const wrong: number[] = path.versions;
console.log(decision.reason, wrong, NoPathError.name);
EOF
"$tsc" -p . || { echo "the installed package's declarations do not type-check (tsc --strict)" >&2; exit 1; }
echo "npm pack: $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KB) installs and imports in Node; its types check (tsc --strict)"
