"""What a table's `fil "…"` may name: a plain relative name inside the data folder, in a format
the readers know (by extension). Nothing here opens a file.

Both the checker (`villkor check`, which has no data folder) and the readers need these rules,
and the checker sits below the readers: so the rules live here, below both, and `io.paths` and
`io.readers` re-export them. An agreement is text written by policy staff and passed around; it
must not be able to make a run read a file outside `--data` (`../lön.csv`, `/etc/passwd`).
`name_problem` says what is wrong with the name itself; `io.paths.data_file` also follows
symlinks, which needs the folder. Subfolders (`2020/intyg.csv`) are fine.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path


class ReadError(Exception):
    """A file that cannot be read, as a diagnostic: code, Swedish message, where, hint."""

    def __init__(self, code: str, message: str, line: int = 1, column: int = 1,
                 hint: str | None = None):
        super().__init__(message)
        self.code, self.message, self.line, self.column, self.hint = \
            code, message, line, column, hint


# ---- the format, by extension

FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}
FORMAT_HINT = "indatafiler kan vara .csv (UTF-8), .xlsx (Excel-arbetsbok) eller .parquet"


def input_format(path: str | Path) -> str:
    """`csv`, `xlsx` or `parquet` by the file's extension (any case); else ReadError V211."""
    suffix = Path(path).suffix.lower()
    if suffix in FORMATS:
        return FORMATS[suffix]
    what = f"filändelsen `{suffix}`" if suffix else "ingen filändelse"
    hint = FORMAT_HINT
    if suffix in (".xls", ".xlsm", ".xlsb", ".ods"):
        hint += f"; spara {suffix}-filen som Excel-arbetsbok (.xlsx) eller CSV UTF-8"
    raise ReadError("V211", f"filen `{Path(path).name}` har {what} och kan inte läsas som "
                    "indata", hint=hint)


# ---- the name: inside the data folder

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
