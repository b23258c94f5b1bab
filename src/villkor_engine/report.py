"""Reports people read: HTML and Excel, like Försäkringskassan's Bilaga 2.

One row per recipient, one column per villkor, amounts in Swedish format (space as thousands
separator); each column's total is set against its pot with the rounding difference shown; a
summary of verdicts; each cell links to its explanation further down the page.

Recipient codes and names, villkor and notes are data: in HTML every such string is escaped
(attribute values with quotes), anchors are an encoding of code and villkor into [A-Za-z0-9_-],
and a Content-Security-Policy forbids every script (the page needs none). In Excel every text is
a text cell, never a formula.
"""

from __future__ import annotations

import html
from collections import Counter
from fractions import Fraction
from pathlib import Path

from .eval.engine import Result, Row
from .eval.trace import Step
from .eval.values import VERDICTS, swedish_money
from .explain import explain_rows
from .io.data import Recipient
from .model.model import Model
from .write.output import xlsx_text

CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b}
h1{font-size:1.4rem} h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;margin:1rem 0} th,td{border:1px solid #bbb;padding:.3rem .6rem}
th{background:#eef2f6;text-align:left} td.belopp{text-align:right;white-space:nowrap}
td a{color:inherit;text-decoration:none} td a:hover{text-decoration:underline}
.uppfyllt{background:#e7f5e9} .ej-uppfyllt{background:#fbe9e7}
.underlag-saknas{background:#fff7d6} .bedomning-kravs{background:#e8eaf6}
small{color:#555} pre{white-space:pre-wrap;background:#f7f7f7;padding:.8rem;border:1px solid #ddd}
tfoot td{font-weight:600;background:#f4f4f4}
"""
# The page runs no script and loads nothing: only its own inline <style> is allowed.
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
HEAD = ('<!doctype html>\n<html lang="sv"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(CSP)}">'
        '<meta name="referrer" content="no-referrer">')
CLASS = {"uppfyllt": "uppfyllt", "ej uppfyllt": "ej-uppfyllt",
         "underlag saknas": "underlag-saknas", "bedömning krävs": "bedomning-kravs"}


def _anchor(row: Row) -> str:
    """The id of a row's explanation: `f-<code>-<villkor>`, each part encoded by `_id_part`, so
    the id holds only [A-Za-z0-9_-] whatever the data, and two rows never share one."""
    return f"f-{_id_part(row.recipient.code)}-{_id_part(row.villkor)}"


def _id_part(text: str) -> str:
    """ASCII letters and digits as they are; every other character (`_` and `-` too) as `_`
    and the hex of its UTF-8 bytes, two digits a byte: `4.1` is `4_2e1`, `Ö` is `_c3_96`."""
    return "".join(c if c.isascii() and c.isalnum() else
                   "".join(f"_{b:02x}" for b in c.encode("utf-8")) for c in text)


def _columns(result: Result) -> list[str]:
    seen: list[str] = []
    for r in result.rows:
        if r.villkor not in seen and r.villkor != "summa":
            seen.append(r.villkor)
    return seen + ["summa"]


def _matrix(result: Result) -> tuple[list, dict[tuple[str, str], Row]]:
    recipients: dict[str, Recipient] = {}
    cells: dict[tuple[str, str], Row] = {}
    for r in result.rows:
        recipients.setdefault(r.recipient.code, r.recipient)
        cells[(r.recipient.code, r.villkor)] = r
    return list(recipients.values()), cells


def _e(value) -> str:
    """Any value as HTML text or attribute value (`&`, `<`, `>`, `"` and `'` escaped)."""
    return html.escape(str(value), quote=True)


def render_html(model: Model, result: Result) -> str:
    e = _e
    title = model.agreement.title if model.agreement else model.file
    columns = _columns(result)
    recipients, cells = _matrix(result)
    out = [HEAD, f"<title>Utfall – {e(title)}</title><style>{CSS}</style></head><body>",
           f"<h1>Utfall: {e(title)}</h1>",
           (f"<p>Version: {e(result.version.label)}. Per: "
            f"{e(result.per.isoformat()) if result.per else 'senaste'}.</p>")]
    counts = Counter(r.verdict.value for r in result.rows if r.villkor != "summa")
    out.append('<h2>Sammanfattning</h2><table id="sammanfattning"><tr><th>utfall</th>'
               "<th>antal</th></tr>")
    for v in VERDICTS:
        out.append(f'<tr class="{e(CLASS[v])}"><td>{e(v)}</td><td>{e(counts.get(v, 0))}</td>'
                   "</tr>")
    out.append("</table>")
    out.append('<h2>Per mottagare och villkor</h2><table id="utfall"><thead><tr>'
               "<th>mottagare</th><th>namn</th>")
    out += [f"<th>villkor {e(c)}</th>" if c != "summa" else "<th>summa</th>" for c in columns]
    out.append("</tr></thead><tbody>")
    for who in recipients:
        out.append(f"<tr><td>{e(who.code)}</td><td>{e(who.name)}</td>")
        for c in columns:
            row = cells.get((who.code, c))
            if row is None:
                out.append("<td></td>")
                continue
            amount = swedish_money(row.amount) if row.amount is not None else "–"
            out.append(f'<td class="belopp {e(CLASS[row.verdict.value])}" '
                       f'title="{e(row.verdict.value)}"><a href="#{e(_anchor(row))}">'
                       f"{e(amount)}<br><small>{e(row.verdict.value)}</small></a></td>")
        out.append("</tr>")
    out.append("</tbody><tfoot><tr><td colspan=2>totalt</td>")
    for c in columns:
        known = [amt for w in recipients
                 if (w.code, c) in cells and (amt := cells[(w.code, c)].amount) is not None]
        out.append(f'<td class="belopp">{e(swedish_money(sum(known, Fraction(0))))}</td>')
    out.append("</tr></tfoot></table>")
    out.append('<h2>Potter och avrundning</h2><table id="potter"><tr><th>utbetalning</th>'
               "<th>villkor</th><th>pott</th><th>exakt fördelat</th><th>utbetalt</th>"
               "<th>avrundningsdifferens</th><th>anmärkning</th></tr>")
    for p in result.pots:
        pot = swedish_money(p.pot) if p.pot is not None else "–"
        out.append(f"<tr><td>{e(p.payment.title)}</td><td>{e(p.villkor or '')}</td>"
                   f'<td class="belopp">{e(pot)}</td>'
                   f'<td class="belopp">{e(swedish_money(p.exact_total))}</td>'
                   f'<td class="belopp">{e(swedish_money(p.paid_total))}</td>'
                   f'<td class="belopp">{e(swedish_money(p.rounding_difference))}</td>'
                   f"<td>{e('; '.join(p.notes))}</td></tr>")
    out.append("</table>")
    if result.invoices:
        bad = [x for x in result.invoices if x.findings]
        out.append(f'<h2>Fakturor</h2><p>{len(result.invoices)} rader, '
                   f"{len(result.invoices) - len(bad)} godkända, {len(bad)} avvisade.</p>"
                   '<table id="fakturor"><tr><th>fil</th><th>rad</th><th>produktkod</th>'
                   "<th>månad</th><th>belopp</th><th>anmärkning</th></tr>")
        for x in bad:
            amount = swedish_money(x.amount) if x.amount is not None else "–"
            out.append(f"<tr><td>{e(x.file)}</td><td>{e(x.line)}</td><td>{e(x.product)}</td>"
                       f'<td>{e(x.month)}</td><td class="belopp">{e(amount)}</td>'
                       f"<td>{e('; '.join(x.findings))}</td></tr>")
        out.append("</table>")
    out.append("<h2>Förklaringar</h2>")
    for row in result.rows:
        out.append(f'<section id="{e(_anchor(row))}"><h3>{e(row.recipient.name)} '
                   f"({e(row.recipient.code)}), "
                   f"{'summa' if row.villkor == 'summa' else 'villkor ' + e(row.villkor)}"
                   f"</h3>{explanation_html(row.steps)}</section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def explanation_html(steps: list[Step]) -> str:
    """The trace as nested lists: label and result, källa, inputs read, notes."""
    e = _e
    parts = ["<ul>"]
    for s in steps:
        parts.append(f"<li><strong>{e(s.label)}</strong>: {e(s.result)}")
        details = [f"källa: {x.document}" + (f", {x.locator}" if x.locator else "")
                   for x in s.sources]
        if s.span and s.span.line:
            details.append(f"regel: {s.span.file}:{s.span.line}")
        details += [f"läste {r.what} = {'tom' if r.value is None else r.value} ({r.where})"
                    for r in s.reads]
        details += s.notes
        if details:
            parts.append("<br><small>" + "<br>".join(e(d) for d in details) + "</small>")
        if s.children:
            parts.append(explanation_html(s.children))
        parts.append("</li>")
    parts.append("</ul>")
    return "".join(parts)


def explain_html(model: Model, result: Result, rows: list[Row]) -> str:
    e = _e
    text = explain_rows(model, result, rows)
    body = "".join(f'<section id="{e(_anchor(r))}"><h2>{e(r.recipient.name)}, '
                   f"{'summa' if r.villkor == 'summa' else 'villkor ' + e(r.villkor)}"
                   f"</h2>{explanation_html(r.steps)}</section>" for r in rows)
    return (f"{HEAD}<title>Förklaring</title><style>{CSS}</style></head><body>{body}"
            f"<details><summary>Som text</summary><pre>{e(text)}</pre></details>"
            "</body></html>\n")


def write_xlsx(model: Model, result: Result, path: Path) -> None:
    """The same matrix in Excel: whole kronor as numbers with a space-grouped format; every
    text (codes, names, verdicts, notes, explanations) a text cell (`_append`)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    fills = {"uppfyllt": "E7F5E9", "ej uppfyllt": "FBE9E7", "underlag saknas": "FFF7D6",
             "bedömning krävs": "E8EAF6"}
    wb = Workbook()
    ws = wb.active
    ws.title = "Utfall"
    columns = _columns(result)
    recipients, cells = _matrix(result)
    _append(ws, ["mottagare", "namn"] + [f"villkor {c}" if c != "summa" else "summa"
                                         for c in columns] + [f"utfall {c}" for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for who in recipients:
        amounts, verdicts = [], []
        for c in columns:
            row = cells.get((who.code, c))
            amounts.append(_number(row.amount) if row and row.amount is not None else None)
            verdicts.append(row.verdict.value if row else None)
        _append(ws, [who.code, who.name] + amounts + verdicts)
        for i, v in enumerate(verdicts):
            if v:
                ws.cell(ws.max_row, 3 + i).fill = PatternFill("solid", fgColor=fills[v])
                ws.cell(ws.max_row, 3 + i).number_format = "# ##0"
    pots = wb.create_sheet("Potter")
    _append(pots, ["utbetalning", "villkor", "pott", "utbetalt", "avrundningsdifferens",
                   "anmärkning"])
    for p in result.pots:
        _append(pots, [p.payment.name, p.villkor or "", _number(p.pot) if p.pot is not None
                       else None, _number(p.paid_total), _number(p.rounding_difference),
                       "; ".join(p.notes)])
    notes = wb.create_sheet("Förklaringar")
    for row in result.rows:
        _append(notes, [row.recipient.code, row.villkor, row.verdict.value,
                        explain_rows(model, result, [row])])
    wb.save(path)


def _append(ws, values: list) -> None:
    """A row at the bottom of `ws`; every str a text cell (t="inlineStr"). openpyxl would make
    a str that begins with `=` a formula, and `=HYPERLINK(…)` from a recipient's name would run
    in Excel; a control character the sheet's XML cannot hold becomes U+FFFD."""
    ws.append([xlsx_text(v) if isinstance(v, str) else v for v in values])
    row = ws.max_row
    for column, value in enumerate(values, 1):
        if isinstance(value, str) and value:
            ws.cell(row, column).data_type = "s"


def _number(x: Fraction):
    """An exact amount as Excel can hold it: int when whole; otherwise a Decimal of öre."""
    from decimal import Decimal

    if x.denominator == 1:
        return int(x)
    return Decimal(x.numerator) / Decimal(x.denominator)
