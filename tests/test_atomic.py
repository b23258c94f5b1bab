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
