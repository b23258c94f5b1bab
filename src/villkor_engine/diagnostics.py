"""Source spans and diagnostics: the one error type every stage reports through.

A diagnostic carries a stable code (``V101``), a Swedish message, the span it is about and an
optional hint. Stages collect diagnostics instead of raising, so one run can report several
mistakes; only the CLI decides how to print them and which exit code follows.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable, Literal

Severity = Literal["fel", "varning"]


@dataclass(frozen=True)
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
    def point(cls, file: str, line: int = 1, column: int = 1) -> "Span":
        return cls(file, line, column, line, column + 1)


@dataclass(frozen=True)
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
    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"menade du `{matches[0]}`?" if matches else None


def render(diag: Diagnostic, source: str | None = None) -> str:
    """Render like Rust and Catala: header, the source line, a caret under the span, the hint."""
    lines = [diag.header()]
    if diag.span and source is not None:
        text_lines = source.splitlines()
        if 0 < diag.span.line <= len(text_lines):
            text = text_lines[diag.span.line - 1]
            gutter = f"{diag.span.line} | "
            lines.append(" " * (len(gutter) - 2) + "|")
            lines.append(gutter + text)
            width = (diag.span.end_column - diag.span.column
                     if diag.span.end_line == diag.span.line else len(text) - diag.span.column + 1)
            lines.append(" " * (len(gutter) - 2) + "| " + " " * (diag.span.column - 1)
                         + "^" * max(1, width))
    for note in diag.notes:
        lines.append(f"  = not: {note}")
    if diag.hint:
        lines.append(f"  = tips: {diag.hint}")
    return "\n".join(lines)
