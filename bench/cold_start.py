"""Cold start of `villkor check`: whole-process wall time, a new interpreter every run.

    python bench/cold_start.py [--runs N] [--villkor PATH] [--importtime] [--no-cache]

For each agreement in agreements/ runs `villkor check FILE` N times (default 5) after one
untimed warm-up run (it fills the OS file cache and the parser cache, as any second run finds
them) and prints the median and the minimum in seconds; the machine's noise shows in the gap.
`--no-cache` times every run with an empty parser cache (a fresh XDG_CACHE_HOME per run): the
first run after an install or a grammar change. `--importtime` adds the ten slowest imports by
their own time, from `python -X importtime` of one `check`.

Only subprocess and a clock: what a user waits for, interpreter start-up included.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def default_villkor() -> str:
    """The `villkor` script beside this interpreter (a venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("villkor")
    found = str(beside) if beside.exists() else shutil.which("villkor")
    if found is None:
        raise SystemExit("hittar inte kommandot villkor; ange det med --villkor")
    return found


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):   # 1: the agreement has findings, still a full check
        raise SystemExit(f"{' '.join(cmd)} slutade med kod {done.returncode}")
    return seconds


def bench(villkor: str, agreement: Path, runs: int, no_cache: bool) -> list[float]:
    cmd = [villkor, "check", str(agreement)]
    if not no_cache:
        timed(cmd, dict(os.environ))   # warm-up: file cache and parser cache
        return [timed(cmd, dict(os.environ)) for _ in range(runs)]
    out = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            out.append(timed(cmd, dict(os.environ, XDG_CACHE_HOME=cache)))
    return out


def importtime(python: str, agreement: Path, top: int = 10) -> list[tuple[int, int, str]]:
    """(self µs, cumulative µs, module) of the `top` slowest imports by their own time."""
    done = subprocess.run([python, "-X", "importtime", "-m", "villkor_engine.cli", "check",
                           str(agreement)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    rows = []
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((int(m[1]), int(m[2]), m[3][1:] + m[4]))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--villkor", default=None, help="the villkor command (default: beside "
                    "this python, else on PATH)")
    ap.add_argument("--importtime", action="store_true")
    ap.add_argument("--no-cache", action="store_true", help="an empty parser cache every run")
    args = ap.parse_args()
    villkor = args.villkor or default_villkor()
    agreements = sorted((ROOT / "agreements").glob("*.villkor"))
    print(f"villkor check, {args.runs} runs each"
          + (", empty parser cache" if args.no_cache else "") + f" ({villkor})")
    print(f"{'agreement':<32} {'median s':>9} {'min s':>7}")
    for agreement in agreements:
        times = bench(villkor, agreement, args.runs, args.no_cache)
        print(f"{agreement.name:<32} {statistics.median(times):9.3f} {min(times):7.3f}")
    if args.importtime:
        agreement = ROOT / "agreements" / "vgr-narhalsan-2018.villkor"
        print(f"\nslowest imports by own time (-X importtime, check {agreement.name}):")
        print(f"{'self ms':>8} {'cumul. ms':>9}  module")
        for own, cumulative, name in importtime(sys.executable, agreement):
            print(f"{own / 1000:8.1f} {cumulative / 1000:9.1f}  {name}")


if __name__ == "__main__":
    main()
