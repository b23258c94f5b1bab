"""Explanations in Swedish: the chain of reasons behind a row, with citations and inputs read."""

from __future__ import annotations

from .eval.engine import Result, Row
from .eval.trace import Step
from .eval.values import swedish_money
from .model.model import Model


def explain_rows(model: Model, result: Result, rows: list[Row]) -> str:
    out: list[str] = []
    agreement = model.agreement.title if model.agreement else model.file
    out.append(f"Överenskommelse: {agreement}")
    per = result.per.isoformat() if result.per else "senaste"
    out.append(f"Version: {result.version.label} (per {per})")
    for row in rows:
        out.append("")
        amount = swedish_money(row.amount) if row.amount is not None else "inget belopp"
        head = "Summa" if row.villkor == "summa" else f"Villkor {row.villkor}"
        out.append(f"{head} för {row.recipient.name} ({row.recipient.code}): {row.verdict}, "
                   f"{amount}")
        if row.due:
            out.append(f"  betalas senast {row.due.isoformat()}")
        for step in row.steps:
            out.extend(_step(model, step, 1))
    return "\n".join(out) + "\n"


def citation(model: Model, source) -> str:
    """A källa as people read it: the document's title, then where in it. An assumption is
    said as one: `antagande: …`."""
    if source.is_assumption:
        return f"antagande: {source.locator}"
    doc = model.documents.get(source.document)
    title = doc.title if doc else source.document
    return title + (f", {source.locator}" if source.locator else "")


def _step(model: Model, step: Step, depth: int) -> list[str]:
    pad = "  " * depth
    lines = [f"{pad}- {step.label}: {step.result}"]
    where = f"{step.span.file}:{step.span.line}" if step.span and step.span.line else None
    for s in step.sources:
        lines.append(f"{pad}    {'' if s.is_assumption else 'källa: '}{citation(model, s)}")
    if where:
        lines.append(f"{pad}    regel: {where}")
    for r in step.reads:
        value = "tom" if r.value is None else _value(r.value)
        lines.append(f"{pad}    läste {r.what} = {value} ({r.where})")
    for n in step.notes:
        lines.append(f"{pad}    {n}")
    for child in step.children:
        lines.extend(_step(model, child, depth + 1))
    return lines


def _value(v) -> str:
    if isinstance(v, bool):
        return "ja" if v else "nej"
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, str):
        return f"\"{v}\"" if len(v) <= 60 else f"\"{v[:57]}…\""
    return str(v)
