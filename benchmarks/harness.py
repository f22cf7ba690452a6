"""The benchmark pattern: each workload runs three ways in one process, kit (the real
code path), floor (the least work any implementation must do) and naive (what a
row-at-a-time implementation does); medians and ratios go to benchmarks/RESULTS.md."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

RESULTS = Path(__file__).parent / "RESULTS.md"


@dataclass
class Measure:
    """Timings of one way of doing a workload."""

    way: str
    rows: int
    seconds: list[float] = field(default_factory=list)

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


def render(results: list[Result], versions: dict[str, str]) -> str:
    """RESULTS.md: machine, versions, then one table per workload."""
    out = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m benchmarks`). Ratios are the targets, not seconds:",
        "**kit/floor** is how close the kit's real code path comes to the least work any",
        "implementation must do; **naive/kit** is how much a row-at-a-time implementation loses.",
        "",
        f"- Run: {datetime.now():%Y-%m-%d %H:%M}",
        f"- Machine: {machine()}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        "",
    ]
    for workload in dict.fromkeys(r.workload for r in results):
        out += [f"## {workload}", ""]
        out += ["| backend | way | rows | median s | µs/row | runs |", "|---|---|---:|---:|---:|---:|"]
        group = [r for r in results if r.workload == workload]
        for r in group:
            for m in r.measures.values():
                out.append(f"| {r.backend} | {m.way} | {m.rows:,} | {m.median:.3f} | "
                           f"{m.per_row_us:.2f} | {len(m.seconds)} |")
        out += ["", "| backend | kit/floor | naive/kit |", "|---|---:|---:|"]
        for r in group:
            naive = f"{r.ratio('naive', 'kit'):.1f}x" if "naive" in r.measures else "–"
            out.append(f"| {r.backend} | {r.ratio('kit', 'floor'):.2f}x | {naive} |")
        notes = [n for r in group for n in r.notes]
        if notes:
            out += [""] + [f"- {n}" for n in dict.fromkeys(notes)]
        out.append("")
    return "\n".join(out)
