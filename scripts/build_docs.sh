#!/usr/bin/env bash
# Builds the DocC documentation of every public library module, with
# warnings as errors (a broken ``Symbol`` link, an undocumented parameter or
# an ambiguous reference fails the build).
#
# Each module under Sources/ that a library product names has a catalog,
# Sources/<Module>/<Module>.docc; its symbol graph comes from
# `swift package dump-symbol-graph` (no plug-in dependency), and the
# toolchain's `docc convert` writes the archive to .build/docs/<Module>.doccarchive.
# Links to another module's symbols cannot resolve in a per-module build:
# name those in code font (`Parallel`), not as ``links``.
#
# Usage: scripts/build_docs.sh            (all modules)
#        scripts/build_docs.sh BeamlineTensor ...
set -euo pipefail
cd "$(dirname "$0")/.."

# Test targets may fail to emit a graph before they are built; only the
# library modules' graphs are needed, and their absence is reported below.
swift package dump-symbol-graph --minimum-access-level public >/dev/null 2>&1 || true
graphs=$(find .build -path '*/symbolgraph' -type d -newer Package.swift | head -1)
graphs=${graphs:-$(find .build -path '*/symbolgraph' -type d | head -1)}

if [ $# -gt 0 ]; then
    modules=("$@")
else
    # Every library product's target must have a catalog.
    mapfile -t modules < <(swift package dump-package | python3 -c '
import json, sys
package = json.load(sys.stdin)
names = sorted({t for p in package["products"] if "library" in p["type"] for t in p["targets"]})
print("\n".join(names))')
fi

mkdir -p .build/docs
status=0
for module in "${modules[@]}"; do
    catalog="Sources/$module/$module.docc"
    if [ ! -d "$catalog" ]; then
        echo "error: $module has no DocC catalog ($catalog)"
        status=1
        continue
    fi
    if [ ! -f "$graphs/$module.symbols.json" ]; then
        echo "error: no symbol graph for $module in $graphs (does it build?)"
        status=1
        continue
    fi
    staging=$(mktemp -d)
    cp "$graphs/$module.symbols.json" "$staging/"
    cp "$graphs/$module"@*.symbols.json "$staging/" 2>/dev/null || true
    if docc convert "$catalog" --additional-symbol-graph-dir "$staging" \
        --fallback-display-name "$module" --fallback-bundle-identifier "org.beamline.$module" \
        --output-path ".build/docs/$module.doccarchive" --warnings-as-errors >"$staging/log" 2>&1; then
        echo "docs: $module ok"
    else
        sed "s|^|  $module: |" "$staging/log"
        echo "docs: $module FAILED"
        status=1
    fi
    rm -rf "$staging"
done
exit $status
