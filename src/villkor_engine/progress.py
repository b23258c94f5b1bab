"""A progress bar for long runs: shown on a terminal once a run has taken a second, else silent.

Runs are usually quick, and a bar that flashes for 0.2 s is noise; CI logs and pipes get nothing
at all (rich's `Console.is_terminal`). The bar is transient: it leaves no trace in the output.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class StepProgress:
    def __init__(self, total: int, console: Console, delay: float = 1.0):
        self.total, self.console, self.delay = total, console, delay
        self.started = time.monotonic()
        self.done = 0
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, description: str) -> None:
        """One step begins (`description`, in Swedish); the previous one is done."""
        self.done += 1
        if not self.console.is_terminal:
            return
        if self.bar is None and time.monotonic() - self.started >= self.delay:
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                                console=self.console, transient=True)
            self.bar.start()
            self.task = self.bar.add_task(description, total=self.total)
        if self.bar is not None and self.task is not None:   # set together
            self.bar.update(self.task, completed=self.done - 1, total=self.total,
                            description=description)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
