#!/usr/bin/env python3
"""Interleaved timing comparison of two git revisions' benchmarks.

Builds the Benchmarks package of revision A and of revision B (each in its
own git worktree under a scratch folder), then runs them alternately
A, B, A, B, ... on this machine and compares, per benchmark, the median over
runs of each run's p50 wall-clock time. Interleaving spreads the machine's
background load over both sides; on a shared machine a single run moves by
2x or more, medians of interleaved runs by a few percent.

Exit status: 1 when some benchmark of B is slower than A's by more than
--threshold percent (a throughput regression), 0 otherwise; 2 on usage or
build errors.

Usage (from the repository root):
  python3 Benchmarks/scripts/compare_revisions.py main HEAD --runs 5 --filter 'sum_.*' --threshold 10

A side may also be an existing checkout (a folder holding Benchmarks/), for
example one kept with --keep or built beforehand; it is used as it is, its
release build reused, and never removed.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile


def sh(args, cwd, capture=False):
    result = subprocess.run(args, cwd=cwd, text=True,
                            stdout=subprocess.PIPE if capture else None,
                            stderr=subprocess.PIPE if capture else None)
    if result.returncode != 0:
        if capture:
            sys.stderr.write(result.stdout or "")
            sys.stderr.write(result.stderr or "")
        raise RuntimeError(f"command failed ({result.returncode}): {' '.join(args)} in {cwd}")
    return result.stdout if capture else ""


def checkout(repo, revision, folder):
    sh(["git", "worktree", "add", "--detach", folder, revision], cwd=repo, capture=True)
    return folder


def run_once(folder, filter_regex, target):
    """One benchmark run; returns {name: p50 wall clock in microseconds}."""
    args = ["swift", "package", "benchmark", "--format", "jmh", "--path", "stdout", "--no-progress",
            "--time-units", "microseconds"]
    if filter_regex:
        args += ["--filter", filter_regex]
    if target:
        args += ["--target", target]
    out = sh(args, cwd=os.path.join(folder, "Benchmarks"), capture=True)
    start = out.find("[{")
    if start < 0:
        return {}
    results = {}
    for record in json.loads(out[start:out.rfind("]") + 1]):
        name = record["benchmark"].split(".", 2)[-1]
        wall = record.get("secondaryMetrics", {}).get("Time (wall clock)")
        if wall is None and "Time (wall clock)" in record.get("primaryMetric", {}).get("scoreUnit", ""):
            wall = record["primaryMetric"]
        if wall is None:
            continue
        p50 = wall["scorePercentiles"]["50.0"]
        unit = wall.get("scoreUnit", "μs")
        scale = {"ns": 1e-3, "μs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6}.get(unit, 1.0)
        results[name] = p50 * scale
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revision_a", help="baseline revision (e.g. main)")
    parser.add_argument("revision_b", help="candidate revision (e.g. HEAD or a branch)")
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs per side (default 5)")
    parser.add_argument("--filter", default="", help="regex over benchmark names (must match the whole name)")
    parser.add_argument("--target", default="", help="regex over benchmark targets")
    parser.add_argument("--threshold", type=float, default=10.0,
                        help="percent slowdown of B's median that fails the comparison (default 10)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch worktrees")
    args = parser.parse_args()
    if args.runs < 1 or args.threshold < 0:
        parser.error("--runs must be at least 1 and --threshold non-negative")

    repo = sh(["git", "rev-parse", "--show-toplevel"], cwd=os.getcwd(), capture=True).strip()
    scratch = tempfile.mkdtemp(prefix="beamline-compare-")
    sides = {}
    existing = {}
    try:
        for label, revision in (("A", args.revision_a), ("B", args.revision_b)):
            if os.path.isdir(os.path.join(revision, "Benchmarks")):
                folder = os.path.abspath(revision)
                print(f"building {label} = checkout {folder} ...", flush=True)
                sh(["swift", "package", "benchmark", "list"], cwd=os.path.join(folder, "Benchmarks"), capture=True)
                existing[label] = folder
                continue
            folder = checkout(repo, revision, os.path.join(scratch, label))
            print(f"building {label} = {revision} ...", flush=True)
            sh(["swift", "package", "benchmark", "list"], cwd=os.path.join(folder, "Benchmarks"), capture=True)
            sides[label] = folder
        sides.update(existing)
        samples = {"A": {}, "B": {}}
        for run in range(args.runs):
            for label in ("A", "B"):
                print(f"run {run + 1}/{args.runs} {label}", flush=True)
                for name, value in run_once(sides[label], args.filter, args.target).items():
                    samples[label].setdefault(name, []).append(value)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        if not args.keep:
            for label, folder in sides.items():
                if label in existing:
                    continue
                subprocess.run(["git", "worktree", "remove", "--force", folder], cwd=repo,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            shutil.rmtree(scratch, ignore_errors=True)

    names = sorted(set(samples["A"]) & set(samples["B"]))
    if not names:
        print("error: no benchmark ran on both sides (check --filter: it must match whole names)", file=sys.stderr)
        return 2
    regressions = []
    print(f"\n{'benchmark':40s} {'A median p50':>14s} {'B median p50':>14s} {'B/A':>7s}")
    for name in names:
        a = statistics.median(samples["A"][name])
        b = statistics.median(samples["B"][name])
        ratio = b / a if a > 0 else float("inf")
        flag = ""
        if ratio > 1 + args.threshold / 100:
            flag = "  SLOWER"
            regressions.append(name)
        print(f"{name:40s} {a:12.1f}us {b:12.1f}us {ratio:7.3f}{flag}")
    print(f"\n{args.runs} interleaved runs per side; threshold {args.threshold}% slower")
    if regressions:
        print("regressions: " + ", ".join(regressions))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
