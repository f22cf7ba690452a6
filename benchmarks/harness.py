"""The benchmark pattern: each workload runs three ways, kit (the real code path), floor
(the least work any implementation must do) and naive (what a row-at-a-time
implementation does); medians, peak memory and ratios go to benchmarks/RESULTS.md.

Each workload's numbers are kept in benchmarks/results/NAME.json, so one workload can be
run again (`python -m benchmarks --only intake`) and RESULTS.md still shows them all.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "RESULTS.md"
STORE = Path(__file__).parent / "results"


@dataclass
class Measure:
    """Timings (and peak memory, when measured in its own process) of one way of a workload."""

    way: str
    rows: int
    seconds: list[float] = field(default_factory=list)
    peak_mb: float | None = None

    @property
    def median(self) -> float:
        """Median seconds over the runs."""
        return statistics.median(self.seconds)

    @property
    def per_row_us(self) -> float:
        """Median microseconds per row."""
        return self.median / self.rows * 1e6


@dataclass
class Result:
    """One workload on one backend: its three measures and notes."""

    workload: str
    backend: str
    measures: dict[str, Measure]
    notes: list[str] = field(default_factory=list)

    def ratio(self, a: str, b: str) -> float:
        """Per-row time of way a over way b (sizes may differ: naive runs on a sample)."""
        return self.measures[a].per_row_us / self.measures[b].per_row_us


def timed(
    way: str, rows: int, run: Callable[[], None], *, repeat: int = 3,
    setup: Callable[[], None] | None = None,
) -> Measure:
    """Run `run` `repeat` times (after `setup` each time) and keep the wall-clock seconds."""
    measure = Measure(way, rows)
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        run()
        measure.seconds.append(time.perf_counter() - start)
    return measure


def _child(target: Callable[..., None], args: tuple, out: Any) -> None:
    start = time.perf_counter()
    target(*args)
    seconds = time.perf_counter() - start
    out.send((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    out.close()


def isolated(way: str, rows: int, target: Callable[..., None], args: tuple = (), *,
             repeat: int = 1) -> Measure:
    """Run `target(*args)` in a fresh process each time: its wall time and its peak memory
    (the largest resident size any run reached), unaffected by what ran before."""
    ctx = mp.get_context("spawn")
    measure = Measure(way, rows)
    peaks = []
    for _ in range(repeat):
        receive, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(target, args, send))
        proc.start()
        seconds, peak = receive.recv()
        proc.join()
        if proc.exitcode != 0:
            raise RuntimeError(f"{way} failed in its process (exit {proc.exitcode})")
        measure.seconds.append(seconds)
        peaks.append(peak)
    measure.peak_mb = max(peaks)
    return measure


def save(name: str, results: list[Result]) -> None:
    """Keep one workload's results for RESULTS.md."""
    STORE.mkdir(exist_ok=True)
    payload = {"run": datetime.now().strftime("%Y-%m-%d %H:%M"), "machine": machine(),
               "results": [{"workload": r.workload, "backend": r.backend, "notes": r.notes,
                            "measures": {k: asdict(m) for k, m in r.measures.items()}}
                           for r in results]}
    (STORE / f"{name}.json").write_text(json.dumps(payload, ensure_ascii=False, indent=1), "utf-8")


def load_all() -> tuple[list[Result], list[str]]:
    """Every saved workload's results, and when each was run."""
    results, runs = [], []
    for path in sorted(STORE.glob("*.json")):
        payload = json.loads(path.read_text("utf-8"))
        runs.append(f"{path.stem}: {payload['run']} on {payload['machine']}")
        for r in payload["results"]:
            results.append(Result(r["workload"], r["backend"],
                                  {k: Measure(**m) for k, m in r["measures"].items()}, r["notes"]))
    return results, runs


def machine() -> str:
    """One line about the machine the numbers come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}"


def kit_commit() -> str:
    """The kit's git commit, marked when kit/ has uncommitted changes (the numbers belong to one version)."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).parent, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "kit"], capture_output=True, text=True,
                               cwd=Path(__file__).parent.parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out + (" with uncommitted changes" if dirty else "")


def render(results: list[Result], versions: dict[str, str], runs: list[str]) -> str:
    """RESULTS.md: machine, versions, then one table per workload."""
    out = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m benchmarks`). Ratios are the targets, not seconds:",
        "**kit/floor** is how close the kit's real code path comes to the least work any",
        "implementation must do; **naive/kit** is how much a row-at-a-time implementation loses.",
        "Peak memory is measured where a way runs in a process of its own.",
        "",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        *[f"- Run {r}" for r in runs],
        "",
    ]
    for workload in dict.fromkeys(r.workload for r in results):
        out += [f"## {workload}", ""]
        out += ["| backend | way | rows | median s | µs/row | peak MB | runs |",
                "|---|---|---:|---:|---:|---:|---:|"]
        group = [r for r in results if r.workload == workload]
        for r in group:
            for m in r.measures.values():
                peak = f"{m.peak_mb:,.0f}" if m.peak_mb is not None else "–"
                out.append(f"| {r.backend} | {m.way} | {m.rows:,} | {m.median:.3f} | "
                           f"{m.per_row_us:.2f} | {peak} | {len(m.seconds)} |")
        out += ["", "| backend | kit/floor | naive/kit |", "|---|---:|---:|"]
        for r in group:
            naive = f"{r.ratio('naive', 'kit'):.1f}x" if "naive" in r.measures else "–"
            out.append(f"| {r.backend} | {r.ratio('kit', 'floor'):.2f}x | {naive} |")
        notes = [n for r in group for n in r.notes]
        if notes:
            out += [""] + [f"- {n}" for n in dict.fromkeys(notes)]
        out.append("")
    return "\n".join(out)
