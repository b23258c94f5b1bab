"""Where a table's `fil "…"` may point: a plain relative name inside the data folder, nothing else.

An agreement is text written by policy staff and passed around; it must not be able to make a run
read a file outside `--data` (`../lön.csv`, `/etc/passwd`, a symlink that leads out). Both engines
and the checker ask here: `name_problem` says what is wrong with the name itself (the checker can
say it without a data folder), `data_file` also follows symlinks and refuses a file whose real
place is outside the data folder. Subfolders (`2020/intyg.csv`) are fine.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from .readers import ReadError

HINT = "lägg filen i datamappen och skriv namnet inifrån den, t.ex. `intyg.csv` eller " \
       "`2020/intyg.csv`"
_DRIVE = re.compile(r"[A-Za-z]:")
# control characters (NUL, newline, ESC, DEL, C1), format characters that reorder or hide text
# (right-to-left override, zero-width), line and paragraph separators, lone surrogates
_HIDDEN = ("Cc", "Cf", "Cs", "Zl", "Zp")


def name_problem(name: str) -> str | None:
    """Why `name` is not a plain relative name inside the data folder (in Swedish), or None."""
    if name == "":
        return "namnet är tomt"
    hidden = next((ch for ch in name if unicodedata.category(ch) in _HIDDEN), None)
    if hidden is not None:
        return f"namnet innehåller ett styrtecken (U+{ord(hidden):04X})"
    if "\\" in name:
        return "namnet innehåller `\\`; undermappar skrivs med `/`"
    if _DRIVE.match(name):
        return f"namnet börjar med en enhetsbeteckning (`{name[:2]}`)"
    if name.startswith("/"):
        return "namnet är en absolut sökväg"
    if ".." in name.split("/"):
        return "namnet går ut ur datamappen med `..`"
    return None


def shown(name: str) -> str:
    """The name as it can be printed: control and hidden characters as `\\uXXXX`."""
    return "".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _HIDDEN else ch
                   for ch in name)


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
