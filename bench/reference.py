"""Time the reference evaluator, whole process CSV → CSV, with its explanations.

    python bench/reference.py [--sizes 1000,20000,100000] [--repeat 3] [--villkor CMD]

For each size: seeded data (bench/generate.py) for bench/pott.villkor, then
`villkor run --motor referens` timed by /usr/bin/time (wall time and peak memory of the whole
process: start-up, reading the CSV, evaluating, writing the result and the run ledger). Prints
recipients per second (median of --repeat runs) and, between consecutive sizes, the marginal
rate — what each further recipient costs once start-up is paid. `--villkor` runs another build,
e.g. `--villkor "python -m villkor_engine.cli"` or a wrapper around an older checkout.
"""

from __future__ import annotations

import argparse
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402 - after the sys.path line above


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak MB) of one process; without /usr/bin/time, getrusage of children
    (a peak over all runs so far, not of this one)."""
    if Path("/usr/bin/time").is_file():
        done = subprocess.run(["/usr/bin/time", "-f", "%e %M", *cmd], capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:])
        secs, kb = done.stderr.strip().splitlines()[-1].split()
        return float(secs), int(kb) / 1024
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    secs = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return secs, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,20000,100000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--villkor", default=None, help="the command to time (default: villkor)")
    args = ap.parse_args()
    villkor = shlex.split(args.villkor) if args.villkor else \
        [shutil.which("villkor") or str(Path(sys.executable).parent / "villkor")]
    work = Path(tempfile.mkdtemp(prefix="villkor-referens-"))
    print("| mottagare | tid (median) s | mottagare/s | topp-minne MB |")
    print("|---:|---:|---:|---:|")
    done: list[tuple[int, float]] = []
    try:
        for n in (int(x) for x in args.sizes.split(",")):
            data = work / f"n{n}"
            generate(n, data)
            cmd = [*villkor, "run", str(HERE / "pott.villkor"), "--data", str(data),
                   "--out", str(data / "ref.csv"), "--motor", "referens"]
            runs = [timed(cmd) for _ in range(args.repeat)]
            secs = statistics.median(s for s, _ in runs)
            peak = max(mb for _, mb in runs)
            done.append((n, secs))
            print(f"| {n:,} | {secs:.2f} | {n / secs:,.0f} | {peak:,.0f} |".replace(",", " "))
    finally:
        shutil.rmtree(work)
    for (n1, t1), (n2, t2) in pairwise(done):
        if t2 > t1:
            print(f"marginellt {n1:,}–{n2:,}: {(n2 - n1) / (t2 - t1):,.0f} mottagare/s "
                  f"(utan uppstart)".replace(",", " "))


if __name__ == "__main__":
    main()
