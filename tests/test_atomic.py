"""Outputs are written atomically: kill -9 in the middle of a write leaves no half-written file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

WRITER = """
import sys, time
from pathlib import Path
from villkor_engine.io.output import atomic_path
target = Path(sys.argv[1])
with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8") as f:
    for i in range(10_000):
        f.write(f"rad {i}\\n")
        f.flush()
        if i == 100:
            print("skriver", flush=True)   # the parent kills us from here on
        time.sleep(0.001)
"""


def test_kill_during_write_leaves_the_old_file_or_none(tmp_path: Path):
    for existing in (False, True):
        folder = tmp_path / f"fall-{existing}"
        folder.mkdir()
        target = folder / "utfall.csv"
        if existing:
            target.write_text("tidigare resultat\n", encoding="utf-8")
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "skriver"
        time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        if existing:
            assert target.read_text(encoding="utf-8") == "tidigare resultat\n"
        else:
            assert not target.exists()
        # what is left is only the temp file, never the target under its own name
        names = [p.name for p in folder.iterdir()]
        assert set(names) - {target.name} <= {n for n in names if n.startswith(".utfall.csv.")
                                              and n.endswith(".tmp")}


def test_kill_during_a_large_run_leaves_no_result_file(tmp_path: Path):
    """A whole `villkor run` on 300 000 recipients, killed while DuckDB writes the result."""
    import csv

    from conftest import ROOT

    data = tmp_path / "data"
    data.mkdir()
    with open(data / "mottagare.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "befolkning", "a", "b"])
        w.writerows((f"m{i}", 1 + i % 997, "ja", "ja" if i % 7 else "nej")
                    for i in range(300_000))
    out = tmp_path / "ut" / "utfall.csv"
    cmd = [sys.executable, "-m", "villkor_engine.cli", "run", str(ROOT / "bench" / "pott.villkor"),
           "--data", str(data), "--out", str(out), "--motor", "kolumn"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.parent.is_dir() and any(p.name.startswith(".utfall.csv.")
                                       for p in out.parent.iterdir()):
            break                   # the result's temp file exists: the write has begun
        time.sleep(0.002)
    assert proc.poll() is None, "the run ended before its result was being written"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert not out.exists()
    # the same run, not killed, completes: every recipient has its two rows
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    with open(out, encoding="utf-8") as f:
        assert sum(1 for _ in f) == 1 + 2 * 300_000
