"""What a name in an agreement is: the symbol index, the hover text, the keywords.

Shared by the language server (lsp.py) and the workbench (serve/): both answer "what is this
name?" the same way, and neither needs the other to do it. Columns are UTF-16 code units, as
LSP and the browser count them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .diagnostics import Span
from .eval.interpreter import Env, evaluate
from .eval.values import Missing, exact_text
from .explain import citation
from .io.data import Dataset
from .model.model import Model
from .syntax.parse import TOP_KEYWORDS

KEYWORDS = sorted(set(TOP_KEYWORDS) | {
    "slut", "källa", "gäller", "delvillkor", "krav", "redovisas", "senast", "enligt", "vid",
    "försening", "beslut", "komplettering", "besvaras", "inom", "dagar", "belopp", "till",
    "varje", "mottagare", "pott", "delas", "mellan", "som", "uppfyller", "villkoret",
    "förhållande", "tak", "per", "totalt", "avrundning", "hela", "kronor", "öre", "halvt",
    "uppåt", "största", "rest", "andel", "betalas", "och", "eller", "inte", "är", "ja", "nej",
    "angiven", "antal", "summa", "där", "bland", "poster", "via", "fil", "nyckel", "valfri",
    "obligatorisk", "positiv", "utan", "kräver", "produkt", "pris", "styck", "högst",
    "fakturerat", "intjänat", "beviljat", "uppfyllt", "ej", "underlag", "saknas", "bedömning",
    "krävs", "heltal", "decimaltal", "datum", "text", "kod", "diarienummer", "part", "period",
    "undertecknad", "daterad", "namn", "från", "tolerans", "vecka", "efter", "decimaltecken",
    "komma", "punkt", "antagande", "cirka", "endast", "återbetalning"})
WORD = re.compile(r"[\w.]+")


@dataclass
class Symbol:
    kind: str          # värde, parameter, tabell, kolumn, dokument, mottagargrupp, villkor …
    name: str
    span: Span
    detail: str


def codepoint(line: str, offset: int) -> int:
    """0-based UTF-16 offset → 0-based code-point index."""
    units = 0
    for i, ch in enumerate(line):
        if units >= offset:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line)


def index(model: Model) -> dict[str, Symbol]:
    syms: dict[str, Symbol] = {}
    for d in model.documents.values():
        syms[d.name] = Symbol("dokument", d.name, d.span, d.title)
    for g in model.groups.values():
        syms[g.name] = Symbol("mottagargrupp", g.name, g.span, "mottagargrupp")
    for t in list(model.tables.values()) + list(model.records.values()):
        syms[t.name] = Symbol("tabell", t.name, t.span, f"fil \"{t.file}\"")
        for c in t.columns.values():
            syms[f"{t.name}.{c.name}"] = Symbol("kolumn", f"{t.name}.{c.name}", c.span, c.type)
    for p in model.parameters.values():
        syms[p.name] = Symbol("parameter", p.name, p.span, p.type)
    version = model.version_at(None)
    for name, v in version.values.items():
        syms[name] = Symbol("värde", name, v.span, model.value_types.get(name, ""))
    for vid, vk in version.villkor.items():
        syms[vid] = Symbol("villkor", vid, vk.span, vk.title)
        for s in vk.subs:
            syms[s.vid] = Symbol("delvillkor", s.vid, s.span, s.title)
    for name, pay in version.payments.items():
        syms[name] = Symbol("utbetalning", name, pay.span, pay.title)
    for name, e in version.events.items():
        syms[name] = Symbol("frist", name, e.span, e.title)
    return syms


def word_at(text: str, line_no: int, character: int) -> str | None:
    """The name (`ram`, `redovisning.1.1a`, `1.2`) at a 0-based line and UTF-16 column."""
    lines = text.splitlines()
    if line_no >= len(lines):
        return None
    line = lines[line_no]
    at = codepoint(line, character)
    for m in WORD.finditer(line):
        if m.start() <= at <= m.end():
            return m.group(0).strip(".")
    return None


def _sources(model: Model, sources) -> str:
    return "\n".join(f"- källa: {citation(model, s)}" for s in sources)


def describe(model: Model, sym: Symbol) -> str:
    lines = [f"**{sym.kind}** `{sym.name}`" + (f": {sym.detail}" if sym.detail else "")]
    version = model.version_at(None)
    if sym.kind == "värde":
        v = version.values[sym.name]
        value = evaluate(v.expr, Env(model, version, Dataset({}, {}), {}))
        if not isinstance(value, Missing):
            shown = exact_text(value) if hasattr(value, "denominator") else str(value)
            unit = " kr" if sym.detail == "belopp" else ""
            lines.append(f"värde: {shown}{unit}")
        lines.append(_sources(model, v.sources))
    elif sym.kind == "parameter":
        p = model.parameters[sym.name]
        lines.append("värdet ges vid körning: `--parameter " + sym.name + "=…`" if p.default is None
                     else "har ett värde i filen")
        lines.append(_sources(model, p.sources))
    elif sym.kind == "villkor":
        lines.append(_sources(model, version.villkor[sym.name].sources))
    elif sym.kind == "utbetalning":
        lines.append(_sources(model, version.payments[sym.name].sources))
    return "\n\n".join(x for x in lines if x)
