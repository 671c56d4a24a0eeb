#!/usr/bin/env python3
"""Checks every Beamline import against the layer order in docs/architecture.md.

The order is the table between the markers `<!-- layers:begin -->` and
`<!-- layers:end -->` in docs/architecture.md: one row per band, lowest
first, the band's targets separated by commas. A library target may import
(and depend on, in Package.swift) only targets of a LOWER band: never a
target of its own band or above. Test targets (under Tests/) are exempt.

Two sources are checked:
  * every `import` line (any form: `@_exported import`, `import struct M.T`,
    `internal import`, `@testable import`) in Sources/<target>/**/*.swift;
  * every target dependency in Package.swift, read from
    `swift package dump-package` (skipped with --no-package).

MPI is kept out of the core: only the targets in MPI_USERS may import or
depend on `BeamlineMPI` or `CMPI` (directly or through another target), so
the `Beamline` umbrella and its layers never link Open MPI.

Modules that are not targets of this package (Foundation, Numerics, ...)
are ignored; a target of the package missing from the table is an error, so
a new target cannot slip past the check.

Usage: scripts/check_layers.py [--root DIR] [--no-package]
Exit status 0 when every edge points down, 1 otherwise (each offending edge
is printed as file:line).
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys

IMPORT = re.compile(
    r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|package|internal|fileprivate|private)\s+)?"
    r"import\s+(?:(?:typealias|struct|class|enum|protocol|let|var|func)\s+)?([A-Za-z_][A-Za-z0-9_]*)")


# The only non-test targets that may reach MPI (docs/mpi.md).
MPI_MODULES = {"BeamlineMPI", "CMPI"}
MPI_USERS = {"BeamlineMPI", "BeamlineCLI", "beamline"}


def read_bands(architecture: pathlib.Path):
    text = architecture.read_text()
    match = re.search(r"<!-- layers:begin -->(.*?)<!-- layers:end -->", text, re.S)
    if not match:
        sys.exit(f"{architecture}: no <!-- layers:begin --> ... <!-- layers:end --> table")
    band_of = {}
    band = 0
    for line in match.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].isdigit():
            continue
        band = int(cells[0])
        for name in re.findall(r"`([^`]+)`", cells[1]):
            if name in band_of:
                sys.exit(f"{architecture}: {name} is listed twice")
            band_of[name] = band
    if not band_of:
        sys.exit(f"{architecture}: the layer table lists no targets")
    return band_of


def strip_comments(lines):
    """Yields (line number, line) outside /* */ block comments."""
    depth = 0
    for number, line in enumerate(lines, 1):
        out = ""
        i = 0
        while i < len(line):
            if line.startswith("/*", i):
                depth += 1
                i += 2
            elif depth and line.startswith("*/", i):
                depth -= 1
                i += 2
            elif not depth and line.startswith("//", i):
                break
            else:
                if not depth:
                    out += line[i]
                i += 1
        yield number, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=pathlib.Path(__file__).resolve().parent.parent, type=pathlib.Path)
    parser.add_argument("--no-package", action="store_true", help="do not read Package.swift's dependencies")
    args = parser.parse_args()
    root = args.root
    band_of = read_bands(root / "docs" / "architecture.md")
    problems = []

    sources = root / "Sources"
    targets = sorted(p.name for p in sources.iterdir() if p.is_dir())
    for target in targets:
        if target not in band_of:
            problems.append(f"Sources/{target}: target missing from the layer table in docs/architecture.md")
    project_modules = set(targets) | set(band_of)

    for target in targets:
        if target not in band_of:
            continue
        for path in sorted((sources / target).rglob("*.swift")):
            for number, line in strip_comments(path.read_text().splitlines()):
                match = IMPORT.match(line)
                if not match:
                    continue
                module = match.group(1)
                if module not in project_modules or module == target:
                    continue
                if module in MPI_MODULES and target not in MPI_USERS:
                    problems.append(f"{path.relative_to(root)}:{number}: {target} imports {module}; only "
                                    f"{', '.join(sorted(MPI_USERS))} may use MPI (the core never links it)")
                if module not in band_of:
                    problems.append(f"{path.relative_to(root)}:{number}: imports {module}, which is not in the layer table")
                elif band_of[module] >= band_of[target]:
                    where = "its own band" if band_of[module] == band_of[target] else "a higher band"
                    problems.append(f"{path.relative_to(root)}:{number}: {target} (band {band_of[target]}) imports "
                                    f"{module} (band {band_of[module]}, {where})")

    if not args.no_package:
        dump = subprocess.run(["swift", "package", "dump-package"], cwd=root, capture_output=True, text=True)
        if dump.returncode != 0:
            sys.exit(f"swift package dump-package failed:\n{dump.stderr}")
        package = json.loads(dump.stdout)
        graph = {}
        for target in package["targets"]:
            if target.get("type") == "test" or str(target.get("path") or "").startswith("Tests"):
                continue
            graph[target["name"]] = [next(iter(d.items()))[1][0] for d in target.get("dependencies", [])
                                     if next(iter(d.items()))[0] in ("byName", "target")]
        for name in sorted(graph):
            if name in MPI_USERS or name in MPI_MODULES:
                continue
            seen, stack = set(), list(graph[name])
            while stack:
                module = stack.pop()
                if module in seen:
                    continue
                seen.add(module)
                stack.extend(graph.get(module, []))
            if seen & MPI_MODULES:
                problems.append(f"Package.swift: {name} reaches {', '.join(sorted(seen & MPI_MODULES))}; only "
                                f"{', '.join(sorted(MPI_USERS))} may link MPI")
        for target in package["targets"]:
            name = target["name"]
            if target.get("type") == "test" or str(target.get("path") or "").startswith("Tests"):
                continue
            if name not in band_of:
                problems.append(f"Package.swift: target {name} missing from the layer table in docs/architecture.md")
                continue
            for dependency in target.get("dependencies", []):
                kind, value = next(iter(dependency.items()))
                if kind not in ("byName", "target"):
                    continue  # a product of another package
                module = value[0]
                if module not in band_of:
                    problems.append(f"Package.swift: {name} depends on {module}, which is not in the layer table")
                elif band_of[module] >= band_of[name]:
                    problems.append(f"Package.swift: {name} (band {band_of[name]}) depends on {module} "
                                    f"(band {band_of[module]}): dependencies must point to a lower band")

    if problems:
        print("layer check failed:")
        for problem in problems:
            print("  " + problem)
        return 1
    print(f"layer check passed: {len(targets)} source targets, every Beamline import and dependency points down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
