"""The why behind a result: a tree of steps, each with its rule's span, källa and inputs read.

Every recipient gets its steps, but explanations are read for a few: formatting amounts in
Swedish for all of them cost more than the evaluation. So a step's label, result and notes may
be `Deferred` — the formatting function and the values it needs — and become text the first time
they are read. Readers (explain, report, tests) only ever see strings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from ..diagnostics import Span
from ..syntax import ast
from .interpreter import Read


class Deferred:
    """A trace text not written yet: `write(*args)` gives it, when someone reads it."""

    __slots__ = ("args", "write")

    def __init__(self, write: Callable[..., str], *args: Any):
        self.write, self.args = write, args

    def __str__(self) -> str:
        return self.write(*self.args)

    def __repr__(self) -> str:
        return repr(str(self))


def _deferred_text(slot: str) -> property:
    """A text attribute that may be set deferred and is written out, once, when first read."""

    def get(self) -> str:
        value = getattr(self, slot)
        if type(value) is not str:
            value = str(value)
            setattr(self, slot, value)
        return value

    def set_(self, value) -> None:
        setattr(self, slot, value)

    return property(get, set_)


class Step:
    """One reason: `label: result`, with the rule's span and källa, inputs read, notes, and the
    steps it rests on. Built for every recipient, so plain slots and deferred text."""

    __slots__ = ("_label", "_notes", "_result", "children", "reads", "sources", "span")

    def __init__(self, label: str | Deferred, result: str | Deferred, span: Span | None = None,
                 sources: tuple[ast.Source, ...] = (), reads: list[Read] | None = None,
                 notes: list[str | Deferred] | None = None, children: list[Step] | None = None):
        self._label, self._result, self.span, self.sources = label, result, span, sources
        self.reads = [] if reads is None else reads
        self._notes = [] if notes is None else notes
        self.children = [] if children is None else children

    label = _deferred_text("_label")     # "delvillkor 2.2 Planering av …"
    result = _deferred_text("_result")   # "uppfyllt", "577 898 kr" …

    @property
    def notes(self) -> list[str]:
        """The notes as text; deferred ones are written now, in place, once."""
        notes = self._notes
        for i, n in enumerate(notes):
            if type(n) is not str:
                notes[i] = str(n)
        return cast("list[str]", notes)   # every note is text now

    @notes.setter
    def notes(self, value: list[str | Deferred]) -> None:
        self._notes = value

    def note(self, text: str | Deferred) -> None:
        """Add a note, possibly deferred (the engine's way; readers use `notes`)."""
        self._notes.append(text)

    def raw_notes(self) -> list[str | Deferred]:
        """The notes as stored, for passing on to another step without writing them."""
        return self._notes

    def _fields(self) -> tuple:
        return (self.label, self.result, self.span, self.sources, self.reads, self.notes,
                self.children)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None   # type: ignore[assignment]  # mutable, as the dataclass it replaces

    def __repr__(self) -> str:
        names = ("label", "result", "span", "sources", "reads", "notes", "children")
        return "Step(" + ", ".join(f"{n}={v!r}" for n, v in zip(names, self._fields())) + ")"


__all__ = ["Deferred", "Step"]
