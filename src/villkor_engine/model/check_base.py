"""What every part of the checker shares: the state it builds up, how it reports, and sources.

The checker is one object (`model.check._Checker`) assembled from parts by job, one module each:
names and tables (check_names), expressions (check_exprs), values (check_values), villkor and
frister (check_villkor), payments, invoicing and reconciliation (check_payments); `model.check`
runs them in order. They share one state — the model being built, the diagnostics, what was read
— so they are mixins over this base rather than separate passes that hand results along.

`check_sources` is here because every declaration has sources: a `källa` is a citation of a
declared document; an `antagande` is the file's own choice where the source is silent, shown
beside the citations but never counted as one.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..diagnostics import Diagnostics, Span, did_you_mean
from ..syntax import ast
from .model import Model


@dataclass
class Scope:
    """What an expression may see: the recipient group it runs for (None: no recipient)."""

    group: str | None
    villkor_ids: frozenset[str]
    where: str  # for messages: "i villkor 1", "i värdet ram" …
    record: str | None = None  # inside antal/summa/andel: the record table being walked
    constant: bool = False     # a värde or a parameter's default: the same for every recipient


class CheckerBase:
    """The state and the reporting every part of the checker uses."""

    values_by_name: dict[str, ast.Value]   # set by check_values, before any expression is typed
    all_villkor_ids: frozenset[str]        # set by run, before villkor and payments are checked

    def __init__(self, module: ast.Module):
        self.module = module
        self.diags = Diagnostics()
        self.used_tables: set[str] = set()
        self.used_columns: set[tuple[str, str]] = set()
        self.used_params: set[str] = set()
        self.model = Model(module.file, module.text, None, {}, {}, {}, {}, {}, None, [], [])

    def err(self, code: str, msg: str, span: Span | None, hint: str | None = None) -> None:
        self.diags.add(code, msg, span, hint=hint)

    def warn(self, code: str, msg: str, span: Span | None, hint: str | None = None) -> None:
        self.diags.add(code, msg, span, hint=hint, severity="varning")

    def check_sources(self, sources, span: Span, what: str, *, required: bool) -> None:
        """A `källa` (an assumption is no citation: it may stand beside one, not instead)."""
        if not any(not s.is_assumption for s in sources):
            if required:
                self.err("V140", f"{what} saknar `källa`", span,
                         "ange dokument och avsnitt, t.ex. `källa tillägg \"3. Villkor 1\"`")
            else:
                self.warn("V141", f"{what} saknar `källa`", span)
        for s in sources:
            if not s.is_assumption and s.document not in self.model.documents:
                self.err("V104", f"okänt dokument `{s.document}` i källa", s.span,
                         did_you_mean(s.document, self.model.documents)
                         or "deklarera det med `dokument NAMN \"titel\"`")
