#!/usr/bin/env python3
"""Runs Beamline's benchmarks and the peers' scripts on the same generated
inputs, interleaved, and writes the ratio table into docs/performance.md.

For each group (tensor, sparse, registration, tomography, detector) it runs,
--runs times: the Swift benchmark target, then the peer script; each run
gives a median per benchmark, and the table reports the median over runs of
those medians (interleaving spreads background load over both sides). The
table states the machine, the date, the thread counts and the versions.

Usage (from the repository root; pip install numpy scipy scikit-image, and
for the tomography and detector groups mumott and numba, as
Benchmarks/peers/README.md lists):
  python3 Benchmarks/peers/compare_with_peers.py [--runs 3] [--groups tensor,sparse] [--no-write]
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEERS = os.path.join(ROOT, "Benchmarks", "peers")
BEGIN = "<!-- BEGIN GENERATED PEER TABLE (Benchmarks/peers/compare_with_peers.py) -->"
END = "<!-- END GENERATED PEER TABLE -->"

# group: Swift benchmark target, peer script, peer name, peer threads, and
# optionally a --filter regex for the Swift side and extra peer arguments
# (the default, "quick" selection; --full drops both restrictions where the
# peer script has a full mode).
GROUPS = {
    "tensor": dict(target="TensorBenchmarks", script="numpy_peers.py", peer="NumPy",
                   threads="1 (ufuncs); NumPy's OpenBLAS threads for matmul"),
    "fft": dict(target="TensorBenchmarks", script="pyfftw_peers.py", peer="pyFFTW (FFTW_MEASURE plans)",
                threads="Beamline's", filter=".*fft.*", full_filter=".*fft.*"),
    "sparse": dict(target="SparseBenchmarks", script="scipy_sparse_peers.py", peer="SciPy", threads="1"),
    "registration": dict(target="RegistrationBenchmarks", script="skimage_peers.py", peer="scikit-image",
                         threads="1"),
    # mumott needs seconds per 50³ call and minutes per 128³ call: by default
    # only the 50³ × 120 cases run on both sides.
    "tomography": dict(target="ReconstructionBenchmarks", script="mumott_peers.py", peer="mumott (numba, CPU)",
                       threads="numba default (all cores)", filter="(forward|adjoint|sirt20)_50_120_.*",
                       full_filter="(forward|adjoint|sirt20)_.*", peer_args=["--quick"]),
    # Matrix construction (RaytraceBenchmarks) and deconvolution with it
    # (ReconstructionBenchmarks) against one numba/SciPy script.
    "detector": dict(target=["RaytraceBenchmarks", "ReconstructionBenchmarks"], script="thick_detector_numba.py",
                     peer="numba (corrected algorithm) / SciPy", threads="1",
                     filter="(raytrace|exact|lsmr|mlem)_.*", full_filter="(raytrace|exact|lsmr|mlem)_.*"),
}


def run(args, cwd=ROOT, env=None):
    result = subprocess.run(args, cwd=cwd, text=True, capture_output=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result.stdout


def swift_medians(targets, filter_regex=None):
    """One run of Swift benchmark targets (a name or a list, run one after
    another: the JMH export to stdout holds one target): {name: p50 wall clock in µs}."""
    results = {}
    for target in [targets] if isinstance(targets, str) else targets:
        extra = ["--filter", filter_regex] if filter_regex else []
        out = run(["swift", "package", "benchmark", "--target", target, "--format", "jmh", "--path", "stdout",
                   "--no-progress"] + extra, cwd=os.path.join(ROOT, "Benchmarks"))
        start = out.find("[{")
        if start < 0:
            continue
        for record in json.loads(out[start:out.rfind("]") + 1]):
            name = record["benchmark"].split(".")[-1]
            wall = record.get("secondaryMetrics", {}).get("Time (wall clock)")
            if wall is None:
                continue
            scale = {"ns": 1e-3, "μs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6}.get(wall.get("scoreUnit", "μs"), 1.0)
            results[name] = wall["scorePercentiles"]["50.0"] * scale
    return results


def peer_medians(script, extra_args=()):
    """One run of a peer script (writes --json): {name: median µs}, and its versions."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        path = handle.name
    try:
        run([sys.executable, os.path.join(PEERS, script), "--json", path] + list(extra_args))
        with open(path) as f:
            data = json.load(f)
    finally:
        os.unlink(path)
    versions = {k: v for k, v in data.items() if isinstance(v, str)}
    if isinstance(data.get("median_us"), dict):
        return dict(data["median_us"]), versions
    medians = {}
    for name, value in data.items():
        if isinstance(value, dict) and "median_us" in value:
            medians[name] = value["median_us"]
        elif isinstance(value, (int, float)):
            medians[name] = float(value)
    return medians, versions


def fftw_medians():
    """FFTW's own planned execution (C), with Beamline's thread count."""
    threads = os.environ.get("BEAMLINE_NUM_THREADS") or str(os.cpu_count() or 1)
    out = run(["sh", os.path.join(PEERS, "run_fftw_peer.sh"), threads])
    medians = {}
    for line in out.splitlines():
        m = re.match(r"(\S+) ([0-9.]+) us \(threads (\d+)\)", line)
        if m and m.group(3) == threads:
            medians[m.group(1)] = float(m.group(2))
    return medians


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
            memory = f", {kib / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({model}){memory}, {platform.system()} {platform.release()}"


def fmt(us):
    if us is None:
        return "—"
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.0f} µs"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--groups", default=",".join(GROUPS))
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--full", action="store_true",
                        help="every case of every group (mumott's 128³ cases take minutes per call)")
    args = parser.parse_args()
    groups = [g for g in args.groups.split(",") if g]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown or args.runs < 1:
        parser.error(f"unknown groups {unknown}; choose from {list(GROUPS)}; --runs ≥ 1")

    swift_version = run(["swift", "--version"]).splitlines()[0]
    threads = os.environ.get("BEAMLINE_NUM_THREADS") or f"{os.cpu_count()} (all cores)"
    sections = []
    for group in groups:
        config = GROUPS[group]
        target, script, peer, peer_threads = config["target"], config["script"], config["peer"], config["threads"]
        swift_filter = config.get("full_filter") if args.full else config.get("filter")
        peer_args = [] if args.full else config.get("peer_args", [])
        if not os.path.exists(os.path.join(PEERS, script)):
            sections.append(f"### {group}\n\nPeer script {script} is not present; skipped.\n")
            continue
        ours, theirs, fftw, versions = {}, {}, {}, {}
        try:
            for r in range(args.runs):
                print(f"[{group}] run {r + 1}/{args.runs}: Beamline", flush=True)
                for name, value in swift_medians(target, swift_filter).items():
                    ours.setdefault(name, []).append(value)
                print(f"[{group}] run {r + 1}/{args.runs}: {peer}", flush=True)
                medians, versions = peer_medians(script, peer_args)
                for name, value in medians.items():
                    theirs.setdefault(name, []).append(value)
                if group == "tensor":
                    for name, value in fftw_medians().items():
                        fftw.setdefault(name, []).append(value)
        except RuntimeError as error:
            sections.append(f"### {group}\n\nNot measured: {str(error).splitlines()[0]}\n")
            print(error, file=sys.stderr)
            continue
        version_text = ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) or peer
        header = f"| benchmark | Beamline | {peer} | ratio |" + (" FFTW's own (C) | ratio |" if fftw else "")
        rule = "|---|---|---|---|" + ("---|---|" if fftw else "")
        rows = []
        for name in sorted(set(ours) | set(theirs)):
            a = statistics.median(ours[name]) if name in ours else None
            b = statistics.median(theirs[name]) if name in theirs else None
            ratio = f"{b / a:.2f}" if a and b else "—"
            row = f"| `{name}` | {fmt(a)} | {fmt(b)} | {ratio} |"
            if fftw:
                c = statistics.median(fftw[name]) if name in fftw else None
                row += f" {fmt(c)} | {f'{c / a:.2f}' if a and c else '—'} |"
            rows.append(row)
        target_text = target if isinstance(target, str) else "` + `".join(target)
        sections.append(f"### {group}: Beamline `{target_text}` vs {peer}\n\n"
                        f"{peer} threads: {peer_threads}; versions: {version_text}.\n\n"
                        + "\n".join([header, rule] + rows) + "\n")

    today = datetime.date.today().isoformat()
    table = (f"{BEGIN}\n\nMeasured {today} on {machine()}; {swift_version}; Beamline threads: {threads}. "
             f"Each figure is the median over {args.runs} interleaved runs of each run's median (Beamline: p50 "
             f"wall clock); ratio = peer ÷ Beamline (above 1: Beamline is faster).\n\n"
             + "\n".join(sections) + f"\n{END}")
    print(table)
    if args.no_write:
        return 0
    path = os.path.join(ROOT, "docs", "performance.md")
    text = open(path).read() if os.path.exists(path) else "# Performance\n"
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + table + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n## Side by side with the peers\n\n" + table + "\n"
    with open(path, "w") as f:
        f.write(text)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
