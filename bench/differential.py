"""The differential test at scale: `python bench/differential.py [N]` (default 100 000 cases).

A case is one data folder for one drawn agreement, run by both engines in process and compared
file by file (tests/differential_harness.py); agreements are drawn from the language
(tests/agreement_strategies.py), 1–4 data folders each. `--jobs` worker processes (default: the
number of cores) draw their own cases; a progress line shows cases per second and the time
left, and a summary ends the run: what was compared, what ran on the reference alone and why,
the constructs drawn (those outside the column engine, and those it has come to cover: review
decisions, tables per villkor, `endast`, two pots, run-time parameters, fixed amounts under
another group's villkor) and in how many compared cases, and milliseconds per case by phase.

    python bench/differential.py 100000 [--jobs 2] [--seed 1] [--kända] [--fortsätt] [--mappar 4]

At the first disagreement hypothesis shrinks the case and the run stops with it (exit 1);
`--fortsätt` goes on and lists one case per kind of disagreement instead. `--kända` also draws
the known disagreements (KNOWN in tests/agreement_strategies.py), which the test avoids.
`--mappar` is the most data folders drawn for one agreement (4: 2.6 on average, 8: 3.4): more
share one agreement's drawing, check and SQL parse among more cases; fewer draw more agreements.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import queue
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
PROGRESS_EVERY = 1.0          # seconds between a worker's reports


def work(index: int, quota: int, seed: int, allow: frozenset[str], keep_going: bool,
         out: mp.Queue, folders: int = 4) -> None:
    """One worker: `quota` cases, reported to `out` as ("framsteg", index, done, kinds) now
    and then, ("avvikelse", index, text) per disagreement and ("klar", index, stats) last."""
    sys.path.insert(0, str(TESTS))
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as seeded

    from agreement_strategies import cases
    from differential_harness import Harness, Mismatch

    done = 0
    last = time.monotonic()
    seen: set[str] = set()
    with Harness() as harness:
        def one(case) -> None:
            nonlocal done, last
            for data in case.data:    # every one, even past the quota: a replay must be the same
                try:
                    harness.compare(case.agreement, data)
                except Exception as exc:   # a Mismatch, or an engine's crash
                    if not keep_going:
                        raise
                    text = str(exc) if isinstance(exc, Mismatch) else \
                        (f"{type(exc).__name__}: {exc}{_where(exc)}\n\n{case.agreement.text}\n"
                         f"{data.shown()}")
                    kind = text.split("\n", 1)[0].split(" (")[0]
                    harness.stats.cases += 1
                    harness.stats.kinds["avvikelse"] += 1
                    if kind not in seen:
                        seen.add(kind)
                        out.put(("avvikelse", index, text))
                done += 1
                if time.monotonic() - last > PROGRESS_EVERY:
                    last = time.monotonic()
                    out.put(("framsteg", index, done, dict(harness.stats.kinds)))

        rounds = 0
        started, cpu = time.perf_counter(), time.process_time()
        try:
            while done < quota:   # (1 + folders) / 2 cases an example; a round draws the rest
                rounds += 1
                runs = settings(max_examples=max(math.ceil((quota - done) * 2 / (1 + folders)), 1),
                                deadline=None, database=None,
                                suppress_health_check=list(HealthCheck))
                seeded(seed * 1000 + index * 100 + rounds)(
                    runs(given(cases(max_data=folders, allow=allow))(one)))()
        except Exception as exc:   # shrunk by hypothesis: the minimal case
            out.put(("avvikelse", index, _said(exc, Mismatch)))
        # the whole worker, drawing included: what the machine's cores bound
        harness.stats.seconds["process"] += time.perf_counter() - started
        harness.stats.seconds["process-cpu"] += time.process_time() - cpu
        out.put(("klar", index, harness.stats))


def _said(exc: BaseException, mismatch: type) -> str:
    """A failure as text; hypothesis's groups (flaky, several failures) with each of theirs;
    a crash with where it happened (the innermost frames)."""
    if isinstance(exc, mismatch):
        return str(exc)
    text = f"{type(exc).__name__}: {exc}{_where(exc)}"
    for sub in getattr(exc, "exceptions", ()):
        text += "\n\n" + _said(sub, mismatch)
    return text


def _where(exc: BaseException, frames: int = 4) -> str:
    """The innermost frames of a crash, file:line and code, one a line."""
    import traceback

    found = traceback.extract_tb(exc.__traceback__)[-frames:]
    return "".join(f"\n  {Path(f.filename).name}:{f.lineno} {f.line}" for f in found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="?", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("--kända", dest="known", action="store_true",
                        help="dra även de kända avvikelserna")
    parser.add_argument("--fortsätt", dest="keep_going", action="store_true",
                        help="fortsätt efter en avvikelse (ett fall per slag)")
    parser.add_argument("--mappar", dest="folders", type=int, default=4,
                        help="högst så många datamappar per överenskommelse")
    args = parser.parse_args()
    sys.path.insert(0, str(TESTS))
    from agreement_strategies import KNOWN
    from differential_harness import Stats

    allow = frozenset(KNOWN) if args.known else frozenset()
    jobs = max(1, min(args.jobs, args.cases))
    quotas = [args.cases // jobs + (i < args.cases % jobs) for i in range(jobs)]
    context = mp.get_context("spawn")   # a fresh interpreter: DuckDB's threads never forked
    out = context.Queue()
    workers = [context.Process(target=work, daemon=True, args=(
        i, q, args.seed, allow, args.keep_going, out, max(args.folders, 1)))
        for i, q in enumerate(quotas)]
    started = time.perf_counter()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.cases:,} fall i {jobs} processer, frö {args.seed}"
          f"{', med kända avvikelser' if allow else ''}".replace(",", " ", 1), file=sys.stderr)
    for w in workers:
        w.start()
    done = [0] * jobs
    kinds: list[dict] = [{} for _ in range(jobs)]
    total = Stats()
    finished = 0
    mismatches: list[str] = []
    while finished < jobs:
        try:
            message = out.get(timeout=5)
        except queue.Empty:
            if not any(w.is_alive() for w in workers):
                break
            continue
        if message[0] == "framsteg":
            _, i, done[i], kinds[i] = message
        elif message[0] == "avvikelse":
            mismatches.append(message[2])
            print(f"\n\nAVVIKELSE (process {message[1]}):\n{message[2]}\n", file=sys.stderr)
        else:
            _, i, stats = message
            done[i] = stats.cases
            total.merge(stats)
            finished += 1
        _progress(sum(done), args.cases, time.perf_counter() - started, len(mismatches))
    for w in workers:
        w.join(timeout=10)
    elapsed = time.perf_counter() - started
    print(file=sys.stderr)
    _summary(total, elapsed, jobs, args.cases, mismatches, load)
    return 1 if mismatches or finished < jobs else 0


def _progress(done: int, wanted: int, elapsed: float, mismatches: int) -> None:
    rate = done / elapsed if elapsed else 0.0
    left = (wanted - done) / rate if rate else float("nan")
    line = (f"\r{done:>9,}/{wanted:,} fall  {rate:6.1f} fall/s  "
            f"{1000 / rate if rate else 0:6.1f} ms/fall  kvar {left / 60:5.1f} min  "
            f"avvikelser {mismatches}").replace(",", " ")
    print(line, end="", file=sys.stderr, flush=True)


def _summary(stats, elapsed: float, jobs: int, wanted: int, mismatches: list[str],
             load: float = float("nan")) -> None:
    n = max(stats.cases, 1)
    seconds = stats.seconds

    def ms(phase: str) -> str:
        return f"{1000 * seconds[phase] / n:.1f}"

    phases = ("check", "write", "referens", "kolumn", "compare")
    drawing = max(seconds["process"] - sum(seconds[p] for p in phases), 0)   # hypothesis
    now = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"{stats.cases} fall ({stats.agreements} överenskommelser) på {elapsed:.0f} s i {jobs} "
        f"processer: {1000 * elapsed / n:.1f} ms/fall väggtid, "
        f"{wanted * elapsed / n / 3600:.2f} h för {wanted} fall",
        f"per fall och process, ms: kontroll {ms('check')}, skriva data {ms('write')}, "
        f"referensen {ms('referens')}, kolumnmotorn {ms('kolumn')}, jämförelsen {ms('compare')}"
        f", dragningen {1000 * drawing / n:.1f} (cpu-tid {ms('process-cpu')}, varav "
        f"jämförelsen {ms('cpu')})",
        # wall time depends on what else the machine runs; CPU time per case does not much
        f"med {jobs} egna kärnor (cpu-tiden): {1000 * seconds['process-cpu'] / n / jobs:.1f} "
        f"ms/fall, {wanted * seconds['process-cpu'] / n / jobs / 3600:.2f} h för {wanted} fall; "
        f"maskinens belastning {load:.1f} före, {now:.1f} efter",
        "utfall: " + ", ".join(f"{k} {v}" for k, v in stats.kinds.most_common()),
        "bara referensen, därför att: " + ("; ".join(
            f"{k} ({v})" for k, v in stats.reasons.most_common(12)) or "-"),
        "konstruktioner som dragits (överenskommelser; utanför kolumnmotorn eller nyss täckta): "
        + (", ".join(f"{k} {v}" for k, v in stats.outside.most_common()) or "-"),
        "… i fall som båda motorerna körde (fall): " + (", ".join(
            f"{k} {v}" for k, v in stats.compared.most_common()) or "-"),
        f"avvikelser: {len(mismatches)}",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
