#!/usr/bin/env bash
# Stages the functions' source for `terraform apply` (modules/functions/source.tf zips it):
#   build/functions/   the compiled code (package.json `main` points into it)
#   subprocessors/     the sub-processor registry, enforced on every provider call
#   package.json       without `scripts` and `devDependencies`: Cloud Build's `npm ci` must
#                      neither run `prepare` (tsc is a devDependency) nor install the dev tools
#   package-lock.json  pruned to the production dependencies, at the versions the repository locks
# Run from anywhere after `npm ci`; needs the npm registry (to prune the lockfile).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/terraform/.build/functions"
cd "$root"

npm run build
test -f build/functions/src/index.js || {
  echo "package-functions: build/functions/src/index.js is missing after npm run build" >&2
  exit 1
}

rm -rf "$out"
mkdir -p "$out/build"
cp -R build/functions "$out/build/functions"
# The sub-processor registry the functions enforce at runtime (subprocessors/registry.ts finds
# it beside package.json).
cp -R subprocessors "$out/subprocessors"
cp package-lock.json "$out/package-lock.json"
node -e '
  const fs = require("node:fs");
  const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
  delete pkg.scripts;
  delete pkg.devDependencies;
  delete pkg.bin;
  fs.writeFileSync(process.argv[1], JSON.stringify(pkg, null, 2) + "\n");
' "$out/package.json"
# Drops the devDependencies from the lockfile; every remaining version stays as locked.
(cd "$out" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund >/dev/null)
echo "package-functions: staged $(du -sh "$out" | cut -f1) in ${out#"$root"/}"
