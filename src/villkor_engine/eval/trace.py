"""The why behind a result: a tree of steps, each with its rule's span, källa and inputs read."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import Span
from ..syntax import ast
from .interpreter import Read


@dataclass
class Step:
    label: str                                 # "delvillkor 2.2 Planering av …"
    result: str                                # "uppfyllt", "577 898 kr" …
    span: Span | None = None
    sources: tuple[ast.Source, ...] = ()
    reads: list[Read] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    children: list["Step"] = field(default_factory=list)
