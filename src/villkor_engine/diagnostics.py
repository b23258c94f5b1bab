"""Source spans and diagnostics: the one error type every stage reports through.

A diagnostic carries a stable code (``V101``), a Swedish message, the span it is about and an
optional hint. Stages collect diagnostics instead of raising, so one run can report several
mistakes; only the CLI decides how to print them and which exit code follows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from .frozen import frozen

Severity = Literal["fel", "varning"]


@frozen
class Span:
    """Where something stands in a source file: 1-based line and column, 0-based offsets."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    start: int = 0
    end: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    @classmethod
    def point(cls, file: str, line: int = 1, column: int = 1) -> Span:
        return cls(file, line, column, line, column + 1)


@frozen
class Diagnostic:
    code: str
    message: str
    span: Span | None
    severity: Severity = "fel"
    hint: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity == "fel"

    def header(self) -> str:
        where = f"{self.span}: " if self.span else ""
        return f"{where}{self.severity}[{self.code}]: {self.message}"


class VillkorError(Exception):
    """Raised only to carry diagnostics across a boundary that cannot return them."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.header() for d in self.diagnostics))


@dataclass
class Diagnostics:
    """A collector with a cap, so a broken file cannot flood the terminal."""

    items: list[Diagnostic] = field(default_factory=list)
    limit: int = 50
    dropped: int = 0

    def add(self, code: str, message: str, span: Span | None, *, hint: str | None = None,
            severity: Severity = "fel", notes: tuple[str, ...] = ()) -> None:
        self.extend([Diagnostic(code, message, span, severity, hint, notes)])

    def extend(self, items: Iterable[Diagnostic]) -> None:
        for d in items:
            if len(self.items) < self.limit:
                self.items.append(d)
            elif self.dropped == 0:
                self.dropped = 1
                self.items.append(Diagnostic("V009", f"fler än {self.limit} fynd; resten visas "
                                             "inte", None, d.severity,
                                             "rätta de första och kör igen"))
            else:
                self.dropped += 1

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)


def utf8_error_span(file: str, raw: bytes, offset: int) -> Span:
    """Line and character column (as an editor counts) of a bad byte in undecodable input."""
    line = raw.count(b"\n", 0, offset) + 1
    start = raw.rfind(b"\n", 0, offset) + 1
    column = len(raw[start:offset].decode("utf-8", errors="replace")) + 1
    return Span.point(file, line, column)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The 'menade du …?' hint: the closest known name, if one is close enough."""
    import difflib  # only when there is a mistake to hint at

    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"menade du `{matches[0]}`?" if matches else None


QUOTE_WIDTH = 200   # characters of a source line quoted under a diagnostic

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """`text` with control characters (escape sequences, bidi overrides) shown as `\\x1b`,
    `\\u202e`: data printed to a terminal never moves the cursor, recolours or hides text.
    Newlines and tabs are kept."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                        else f"\\u{ord(m.group()):04x}", text)


def source_line(source: str, number: int) -> str | None:
    """Line `number` (1-based, lines split at `\\n` like the parser counts them) without its
    line break, or None; found without splitting the whole (perhaps huge) source."""
    if number < 1:
        return None
    start = 0
    for _ in range(number - 1):
        start = source.find("\n", start) + 1
        if start == 0:
            return None
    end = source.find("\n", start)
    line = source[start:] if end < 0 else source[start:end]
    if end < 0 and not line and number > 1:
        return None          # the empty "line" after a final line break
    return line[:-1] if line.endswith("\r") else line


def _window(text: str, column: int, width: int) -> tuple[str, int, int]:
    """At most QUOTE_WIDTH characters of `text` around `column` (1-based), with `…` where cut
    and control characters made visible: (shown text, where the caret starts in it, how many
    carets fit under the span)."""
    at = max(0, min(column - 1, len(text)))
    if len(text) <= QUOTE_WIDTH:
        start, end = 0, len(text)
    else:
        start = 0 if at < QUOTE_WIDTH - 20 else at - 40
        end = min(len(text), start + QUOTE_WIDTH)
    head = "…" if start > 0 else ""
    body = visible(text[start:end])
    shown = head + body + ("…" if end < len(text) else "")
    caret_at = len(head) + len(visible(text[start:at]))
    spanned = len(visible(text[at:min(end, at + max(1, width))]))
    return shown, caret_at, max(1, spanned)


def render(diag: Diagnostic, source: str | None = None) -> str:
    """Render like Rust and Catala: header, the source line, a caret under the span, the hint.

    A long line is quoted in part (QUOTE_WIDTH characters around the span, `…` where cut), so
    a huge one-line file does not echo itself."""
    lines = [diag.header()]
    if diag.span and source is not None:
        text = source_line(source, diag.span.line)
        if text is not None:
            gutter = f"{diag.span.line} | "
            width = (diag.span.end_column - diag.span.column
                     if diag.span.end_line == diag.span.line else len(text) - diag.span.column + 1)
            shown, caret_at, width = _window(text, max(1, diag.span.column), width)
            lines.append(" " * (len(gutter) - 2) + "|")
            lines.append(gutter + shown)
            lines.append(" " * (len(gutter) - 2) + "| " + " " * caret_at + "^" * max(1, width))
    for note in diag.notes:
        lines.append(f"  = not: {note}")
    if diag.hint:
        lines.append(f"  = tips: {diag.hint}")
    return "\n".join(lines)
