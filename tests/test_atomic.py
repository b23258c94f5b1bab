"""Outputs are written atomically: kill -9 in the middle of a write leaves no half-written file.

What a killed write leaves (its temp file, never DuckDB's own `tmp_…` copy) is removed by the
next write into the folder, unless its writer still runs. A write through a symlink replaces the
link's target and keeps the link; an existing file keeps its permission bits.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from villkor_engine.cli import main
from villkor_engine.write.output import remove_stale_temp_files, write_atomic

WRITER = """
import sys, time
from pathlib import Path
from villkor_engine.write.output import atomic_path
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
    """A whole `villkor run` on 300 000 recipients, killed while DuckDB writes the result: no
    result file, no DuckDB `tmp_…` file (DuckDB writes straight into our temp file); our temp
    file is removed by the next run into the folder."""
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
        if out.parent.is_dir() and any(".utfall.csv." in p.name and p.name.endswith(".tmp")
                                       and _size(p) > 0 for p in out.parent.iterdir()):
            break                   # rows are being written into a temp file
        time.sleep(0.002)
    assert proc.poll() is None, "the run ended before its result was being written"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert not out.exists()
    left = [p.name for p in out.parent.iterdir() if p.name.endswith(".tmp")]
    assert left and all(n.startswith(".utfall.csv.") for n in left), left   # no tmp_… copy
    # the same run, not killed, completes: every recipient has its two rows, no temp file left
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    with open(out, encoding="utf-8") as f:
        assert sum(1 for _ in f) == 1 + 2 * 300_000
    assert [p.name for p in out.parent.iterdir() if p.name.endswith(".tmp")] == []


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


# ---- temp files left by dead writers -------------------------------------------------------------

def _start_writer(target: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "skriver"
    return proc


def _temp_files(folder: Path, target: str) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(f".{target}.")
            and p.name.endswith(".tmp")]


def test_next_write_removes_a_dead_writers_temp_file_but_not_a_live_ones(tmp_path: Path):
    killed = _start_writer(tmp_path / "utfall.csv")
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=30)
    left = _temp_files(tmp_path, "utfall.csv")
    assert len(left) == 1
    live = _start_writer(tmp_path / "annan.csv")      # a concurrent run, still writing
    try:
        running = _temp_files(tmp_path, "annan.csv")
        assert len(running) == 1
        other = tmp_path / ".utfall.csv.abc123.tmp"   # not our name pattern: not ours to remove
        other.write_text("x", encoding="utf-8")
        write_atomic(tmp_path / "utfall.potter.csv", "ny\n")
        assert not left[0].exists()
        assert running[0].exists() and other.exists()
        assert live.poll() is None
    finally:
        live.kill()
        live.wait(timeout=30)


def test_an_old_temp_file_from_another_host_is_removed(tmp_path: Path):
    """A run on another machine cannot be asked whether it lives: its temp file is stale once it
    has not changed for an hour."""
    fresh = tmp_path / ".utfall.csv.villkor-123-00000000-abcdefgh.tmp"
    old = tmp_path / ".utfall.potter.csv.villkor-456-00000000-ijklmnop.tmp"
    for p in (fresh, old):
        p.write_text("x", encoding="utf-8")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    assert remove_stale_temp_files(tmp_path) == [old]
    assert fresh.exists() and not old.exists()


def test_temp_file_names_say_whose_they_are(tmp_path: Path):
    seen = []
    from villkor_engine.write.output import atomic_path

    with atomic_path(tmp_path / "utfall.csv") as tmp:
        seen.append(tmp.name)
    assert re.fullmatch(rf"\.utfall\.csv\.villkor-{os.getpid()}-[0-9a-f]{{8}}-\w+\.tmp", seen[0])


# ---- symlinks and permissions ------------------------------------------------------------------

def _needs_formatting(tmp_path: Path) -> tuple[Path, str]:
    from conftest import ROOT

    text = (ROOT / "bench" / "pott.villkor").read_text(encoding="utf-8")
    messy = text.replace("värde pott: belopp = 1 000 000 000 kr",
                         "värde   pott:   belopp =   1 000 000 000 kr")
    assert messy != text
    path = tmp_path / "avtal" / "pott.villkor"
    path.parent.mkdir()
    path.write_text(messy, encoding="utf-8")
    return path, messy


def test_fmt_through_a_symlink_keeps_the_link_and_the_mode(tmp_path: Path):
    real, messy = _needs_formatting(tmp_path)
    os.chmod(real, 0o600)
    link = tmp_path / "länk.villkor"
    link.symlink_to(real)
    result = CliRunner().invoke(main, ["fmt", str(link)])
    assert result.exit_code == 0, result.output
    assert "formaterad" in result.output
    assert link.is_symlink() and os.readlink(link) == str(real)
    formatted = real.read_text(encoding="utf-8")
    assert formatted != messy and "värde pott: belopp = 1 000 000 000 kr" in formatted
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o600
    assert [p.name for p in real.parent.iterdir()] == ["pott.villkor"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["avtal", "länk.villkor"]


def test_fmt_keeps_a_files_mode(tmp_path: Path):
    path, _ = _needs_formatting(tmp_path)
    for mode in (0o600, 0o640, 0o755):
        shutil.copyfile(path, path.with_suffix(".bak"))
        os.chmod(path, mode)
        result = CliRunner().invoke(main, ["fmt", str(path)])
        assert result.exit_code == 0, result.output
        assert stat.S_IMODE(os.stat(path).st_mode) == mode
        path.with_suffix(".bak").replace(path)


def test_a_new_file_gets_the_umask_mode(tmp_path: Path):
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "ny.csv", "a\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "ny.csv").st_mode) == 0o640


def test_a_dangling_symlink_is_written_through(tmp_path: Path):
    target = tmp_path / "mål" / "utfall.csv"
    target.parent.mkdir()
    link = tmp_path / "utfall.csv"
    link.symlink_to(target)
    write_atomic(link, "a\n")
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "a\n"
