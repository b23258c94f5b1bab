"""How one input cell is read: the one rule both engines follow.

The reference evaluator reads cells in Python (io/data.py `parse_cell`); the column engine types
them in SQL (batch/sql.py `_typed`). Both take their rules from here, so a cell means the same
in either, whichever engine `villkor run` chooses:

- **Trimming.** Every cell and every header name loses its leading and trailing white space:
  the characters `WHITESPACE` (what Python's `str.strip()` strips — space, tab, line breaks,
  no-break and narrow no-break space, the ideographic space, …). A cell that is empty after
  trimming is blank: a missing value, never 0 or `nej`.
- **Blank rows.** A row whose every cell — declared or not — is blank is no row: it is neither
  read nor an error. A row with something in any cell is a row, even if only an undeclared
  column is filled (its blank `obligatorisk` cells are then errors).
- **Digits.** Only ASCII digits 0–9: full-width (`２０２０`) and Arabic-Indic (`١٢٣`) digits are
  no numbers.
- **heltal.** An optional `-` and at most 18 digits (`MAX_INTEGER_DIGITS`), spaces and no-break
  spaces between them allowed (`1 000`): every such value fits in 64 bits, where the column
  engine computes. More digits is an error that says how many there are.
- **datum.** `ÅÅÅÅ-MM-DD` only, a real calendar date from year 0001: no compact `20200101`, no
  week date `2020-W01-1`, no time of day.
- **decimaltecken.** A table that declares its mark (`komma` or `punkt`) reads a number with that
  mark only (`DECLARED`): thousands may be parted by a space of `NUMBER_SPACES` (`1 234,50`),
  and the other mark is an error of its own (`wrong_mark`).
- **Messages.** The reasons below are the Swedish texts of error V204 after
  "rad N, kolumn `K`: "; the SQL forms give the same texts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date

# Every character `str.isspace()` holds true for (Python 3.10-3.13): what `str.strip()` strips.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
              "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
              "\u2028\u2029\u202f\u205f\u3000")
INTEGER_SPACES = (" ", "\u00a0")    # allowed between a heltal's digits: `1 000`, `1 000`
MAX_INTEGER_DIGITS = 18             # every 18-digit integer fits in 64 bits (BIGINT)

INTEGER_DIGITS = r"-?[0-9]+"                             # digits only: a heltal's shape
INTEGER = rf"-?[0-9]{{1,{MAX_INTEGER_DIGITS}}}"          # … and not too many of them
DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"                     # ÅÅÅÅ-MM-DD, ASCII digits

# a number under `decimaltecken`: the spaces that may part thousands (and stand around it),
# and per mark (its character, the other one, the other's word, an example)
NUMBER_SPACES = " \u00a0\u202f"   # space, no-break space, narrow no-break space (Excel, Word)
MARKS = {"komma": (",", ".", "punkt", "1 234,50"), "punkt": (".", ",", "komma", "1234.50")}
_SPACE_CLASS = "[" + NUMBER_SPACES + "]"
# (a class, not an escape, for the mark: one pattern for Python, RE2 and Java, no backslash)
DECLARED = {mark: rf"-?(?:[0-9]{{1,3}}(?:{_SPACE_CLASS}[0-9]{{3}})+|[0-9]+)(?:[{c}][0-9]+)?"
            for mark, (c, *_) in MARKS.items()}

_INTEGER_DIGITS = re.compile(INTEGER_DIGITS)
_INTEGER = re.compile(INTEGER)
_DATE = re.compile(DATE)


class CellError(ValueError):
    """A cell that does not read as its type, with a hint of its own for the diagnostic."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


# ---- the messages (V204, after "rad N, kolumn `K`: ") ---------------------------------------

REQUIRED = "värdet saknas men kolumnen är obligatorisk"
NOT_YES_NO = "är inte ja eller nej"
NOT_INTEGER = "är inget heltal"
NOT_POSITIVE = "ska vara större än 0"
NOT_DATE = "är inget datum"
TOO_MANY_DIGITS = f"siffror, men ett heltal får ha högst {MAX_INTEGER_DIGITS}"
TOO_MANY_DIGITS_HINT = (f"ett heltal har högst {MAX_INTEGER_DIGITS} siffror; kontrollera att "
                        "cellen inte är två tal som skrivits ihop")


def wrong_mark(raw: str, decimal: str) -> tuple[str, str]:
    """The message and hint for a number with the other mark than its table declares."""
    _, wrong, word, example = MARKS[decimal]
    return (f"`{raw}` har `{wrong}`, men tabellen har decimaltecken {decimal}",
            f"skriv talet som {example} (decimaltecken {decimal}"
            + (", mellanslag mellan tusental" if decimal == "komma" else "")
            + f"), eller ändra tabellens `decimaltecken` till {word}")


def declared_text(raw: str) -> tuple[str, bool]:
    """A number's text under `decimaltecken`: the spaces around it and a `%` (or else a `kr`)
    taken off; and whether it had the `%`."""
    text = raw.strip(NUMBER_SPACES)
    percent = text.endswith("%")
    text = text.removesuffix("%").rstrip(NUMBER_SPACES)
    if not percent:
        text = text.removesuffix("kr").rstrip(NUMBER_SPACES)
    return text, percent


def no_declared_number_hint(decimal: str, raw: str) -> str:
    """The hint for a cell that is no number under `decimaltecken`: a space in it that does not
    part thousands is named."""
    spaced = any(c in declared_text(raw)[0] for c in NUMBER_SPACES)
    return f"skriv talet som {MARKS[decimal][3]}" + (
        " (mellanslag får bara stå mellan tusental)" if spaced else "")


def shown(raw: str) -> str:
    """A cell's value as a message quotes it."""
    return f"`{raw}`"


def not_one_of(values: Sequence[str]) -> str:
    return "är inte ett av " + ", ".join(values)


def too_many_digits(raw: str, digits: int) -> str:
    return f"{shown(raw)} har {digits} {TOO_MANY_DIGITS}"


# ---- the rules in Python ---------------------------------------------------------------------

def trim(text: str) -> str:
    """A cell or header name without its leading and trailing white space."""
    return text.strip(WHITESPACE)


def is_blank(cells: Iterable[str]) -> bool:
    """True when every cell is blank after trimming: no row at all."""
    return not any(trim(c) for c in cells)


def integer(raw: str) -> int:
    """A trimmed heltal cell's value, or CellError: not an integer, or more than 18 digits."""
    compact = raw
    for space in INTEGER_SPACES:
        compact = compact.replace(space, "")
    if not _INTEGER_DIGITS.fullmatch(compact):
        raise CellError(f"{shown(raw)} {NOT_INTEGER}")
    if not _INTEGER.fullmatch(compact):
        raise CellError(too_many_digits(raw, len(compact.lstrip("-"))), TOO_MANY_DIGITS_HINT)
    return int(compact)


def calendar_date(raw: str) -> date:
    """A trimmed datum cell's value (ÅÅÅÅ-MM-DD, a real date), or CellError."""
    try:
        # Python 3.11's fromisoformat would also take `20201211` and `2020-W50-1`; the pattern
        # keeps the one reading on every Python and in SQL
        if _DATE.fullmatch(raw):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise CellError(f"{shown(raw)} {NOT_DATE}")


# ---- the same rules in SQL (DuckDB's dialect, as batch/sql.py writes its steps) -------------

def sql_lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_trim(expr: str) -> str:
    """`trim` in SQL: the runs of WHITESPACE at either end removed, by a regular expression
    (RE2 in DuckDB, Java's in Spark: `\\x{…}` is a code point in both). DuckDB's TRIM with a
    set of characters is twenty times slower, and its TRIM alone strips spaces only.

    A cell that begins and ends with a printable ASCII character (nearly every cell) has
    nothing to trim, and `ascii` of it and of it reversed says so at a fraction of the
    expression's cost (10M Parquet cells: 0.7 s against 1.7 s). The test holds whether an
    engine's `ascii` gives the first code point or the first byte: no byte of a longer UTF-8
    character lies in 33–126."""
    plain = f"ascii({expr}) BETWEEN 33 AND 126 AND ascii(reverse({expr})) BETWEEN 33 AND 126"
    return (f"CASE WHEN {plain} THEN {expr} ELSE "
            f"regexp_replace({expr}, {sql_lit(_SQL_TRIM)}, '', 'g') END")


def _ranges(chars: str) -> str:
    """A regular expression's class of `chars`, consecutive code points as ranges."""
    codes = sorted(map(ord, chars))
    parts: list[str] = []
    start = prev = codes[0]
    for code in [*codes[1:], -1]:
        if code != prev + 1:
            parts.append(f"\\x{{{start:x}}}" + (f"-\\x{{{prev:x}}}" if prev > start else ""))
            start = code
        prev = code
    return "[" + "".join(parts) + "]"


_SQL_WHITESPACE = _ranges(WHITESPACE)
_SQL_TRIM = f"^{_SQL_WHITESPACE}+|{_SQL_WHITESPACE}+$"


def sql_integer_compact(text: str) -> str:
    """A trimmed text without the spaces allowed between a heltal's digits."""
    for space in INTEGER_SPACES:
        text = f"REPLACE({text}, {sql_lit(space)}, '')"
    return text


SQL_INTEGER_DIGITS = f"^{INTEGER_DIGITS}$"
SQL_INTEGER = f"^{INTEGER}$"
SQL_DATE = f"^{DATE}$"
# the smallest integer with more digits than a heltal may have
INTEGER_LIMIT = 10 ** MAX_INTEGER_DIGITS


def sql_too_many_digits(raw: str, compact: str) -> str:
    """The message of `too_many_digits` in SQL: `raw` the trimmed cell (as shown), `compact`
    the same without its spaces (whose digits are counted)."""
    return (f"'`' || {raw} || '` har ' || CAST(LENGTH(LTRIM({compact}, '-')) AS VARCHAR) || "
            f"{sql_lit(' ' + TOO_MANY_DIGITS)}")


__all__ = ["WHITESPACE", "MAX_INTEGER_DIGITS", "CellError", "trim", "is_blank", "integer",
           "calendar_date", "sql_trim", "sql_integer_compact", "SQL_INTEGER", "SQL_DATE",
           "SQL_INTEGER_DIGITS", "INTEGER_LIMIT", "sql_too_many_digits", "REQUIRED",
           "NOT_YES_NO", "NOT_INTEGER", "NOT_POSITIVE", "NOT_DATE", "not_one_of"]
