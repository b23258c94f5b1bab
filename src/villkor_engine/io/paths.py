"""Where a table's `fil "…"` may point: a plain relative name inside the data folder, nothing else.

An agreement is text written by policy staff and passed around; it must not be able to make a run
read a file outside `--data` (`../lön.csv`, `/etc/passwd`, a symlink that leads out). Both engines
and the checker ask: `name_problem` says what is wrong with the name itself (the checker can say
it without a data folder, so it lives below the checker, in `datafiles`, and is re-exported
here), `data_file` also follows symlinks and refuses a file whose real place is outside the data
folder. Subfolders (`2020/intyg.csv`) are fine.
"""

from __future__ import annotations

from pathlib import Path

from ..datafiles import HINT, name_problem, shown
from .readers import ReadError  # the class data.py and the column engine catch

__all__ = ["HINT", "data_file", "name_problem", "shown"]


def data_file(base: Path, name: str) -> Path:
    """The path to read for `fil "name"` in the data folder `base` (as `base / name`, so messages
    name it as the user wrote it). ReadError V214 if the name is not a plain relative one, or if
    the file, symlinks followed, is not inside the data folder."""
    problem = name_problem(name)
    if problem is None:
        path = Path(base) / name
        try:
            inside = path.resolve().is_relative_to(Path(base).resolve())
        except (OSError, RuntimeError, ValueError):   # a symlink loop, an unreadable folder
            inside = False
        if inside:
            return path
        problem = "den leder via en länk ut ur datamappen"
    raise ReadError("V214", f"filen `{shown(name)}` ska ligga i datamappen: {problem}",
                    hint=HINT)
