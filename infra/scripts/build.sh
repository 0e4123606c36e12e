#!/usr/bin/env bash
# Compiles every Bicep entry point with the Bicep CLI, which catches type and
# property errors the offline syntax test (test/infra) cannot. The CLI is a
# downloaded binary, so this runs where it exists (a workstation, a pipeline with
# the Azure CLI) and is skipped elsewhere; it is not part of `npm test`.
set -euo pipefail

infra_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out_dir="$(mktemp -d)"
trap 'rm -rf "$out_dir"' EXIT

if command -v az >/dev/null 2>&1 && az bicep version >/dev/null 2>&1; then
  compile() { az bicep build --file "$1" --outdir "$out_dir"; }
elif command -v bicep >/dev/null 2>&1; then
  compile() { bicep build "$1" --outdir "$out_dir"; }
else
  echo "build.sh: neither 'az bicep' nor 'bicep' is installed; skipping compilation." >&2
  echo "          Install with 'az bicep install' and run again." >&2
  exit 0
fi

# main.bicep compiles its modules too; building them alone also lints each one.
find "$infra_dir" -name '*.bicep' -print0 | sort -z | while IFS= read -r -d '' file; do
  echo "compiling ${file#"$infra_dir"/}"
  compile "$file"
done
echo "build.sh: all Bicep files compiled."
