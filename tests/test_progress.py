"""The progress bar: on a terminal after its delay, never in a pipe or a log."""

from __future__ import annotations

import io

from rich.console import Console

from villkor_engine.progress import StepProgress


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=terminal, width=100), buf


def test_a_terminal_gets_a_bar_with_the_current_step():
    console, buf = _console(True)
    with StepProgress(3, console, delay=0) as progress:
        progress("läser mottagare.csv")
        progress("steg mot_alla")
    assert "läser mottagare.csv" in buf.getvalue() or "steg mot_alla" in buf.getvalue()


def test_a_pipe_gets_nothing():
    console, buf = _console(False)
    with StepProgress(3, console, delay=0) as progress:
        progress("läser mottagare.csv")
    assert buf.getvalue() == ""


def test_a_quick_run_gets_nothing_even_on_a_terminal():
    console, buf = _console(True)
    with StepProgress(3, console, delay=60) as progress:
        progress("läser mottagare.csv")
        progress("steg mot_alla")
    assert buf.getvalue() == ""
