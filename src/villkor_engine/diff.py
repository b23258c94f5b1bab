"""What changes if I edit this: two versions of an agreement run on the same data, compared.

`compare` evaluates an old and a new checked model (two files, or one file at two dates on
either side of a `tillägg`) with the reference evaluator and sets, per recipient and villkor,
the verdict and amount before against after. Money stays exact (`Fraction`) throughout; an
amount that is not known on one side (`underlag saknas`, `bedömning krävs`, a row that does not
exist) gives no difference, and the row says why: a missing amount is never 0 kr.

Rows are sorted by the absolute money difference, largest first; then rows whose verdict (or
whether an amount is known) changed without a money difference; unchanged rows last. Each
payment's totals — pot, exactly shared, paid, rounding difference — come from the evaluator's
pot summaries (`Result.pots`), before and after.

Renderings: `render_text` (Swedish, aligned columns), `render_html` (a standalone page in the
style of `report.py`: every data string escaped, a Content-Security-Policy forbidding every
script) and `write_xlsx` (sheets Summor and Rader; amounts as numbers, every string a text cell).
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, VillkorError
from .eval.engine import PotSummary, Result, Row, vid_key
from .eval.values import swedish_money
from .model.model import Model
from .pipeline import evaluate
from .write.output import write_bytes_atomic, xlsx_text

BEFORE, AFTER = "före", "efter"
PENDING = ("underlag saknas", "bedömning krävs")


# ---- the comparison ------------------------------------------------------------------------

@dataclass
class DiffRow:
    """One recipient under one villkor (or its `summa`), before and after."""

    code: str
    name: str
    villkor: str                          # "1", "4.7", … or "summa"
    verdict_old: str | None               # None: the row does not exist before
    verdict_new: str | None               # None: the row does not exist after
    amount_old: Fraction | None
    amount_new: Fraction | None
    difference: Fraction | None           # new − old; None when either amount is unknown
    reason: str                           # why there is no difference ("" when there is one)
    changed: bool
    only: str | None = None               # "före" or "efter": the row exists on that side only
    note_old: str = ""
    note_new: str = ""

    @property
    def verdict_changed(self) -> bool:
        return self.verdict_old != self.verdict_new


@dataclass
class DiffTotal:
    """One payment's totals before and after (from `Result.pots`), or the grand total."""

    payment: str                          # the payment's name; "totalt" for the grand total
    title: str
    villkor: str | None
    pot_old: Fraction | None
    pot_new: Fraction | None
    exact_old: Fraction | None
    exact_new: Fraction | None
    paid_old: Fraction | None             # the paid (rounded) total of the known amounts
    paid_new: Fraction | None
    rounding_old: Fraction | None         # paid − exact: the pot's rounding difference
    rounding_new: Fraction | None
    difference: Fraction | None           # paid_new − paid_old; None with `reason` if unknown
    reason: str = ""                      # why there is no difference
    note: str = ""                        # e.g. why the difference is preliminary
    preliminary: bool = False
    only: str | None = None
    counts_old: dict[str, int] = field(default_factory=dict)
    counts_new: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return (self.only is not None or self.pot_old != self.pot_new
                or self.paid_old != self.paid_new or self.counts_old != self.counts_new)


@dataclass
class DiffResult:
    old_label: str                        # file, version in force and date: "före"
    new_label: str                        # the same for "efter"
    old_version: str                      # the version label alone (`Result.version.label`)
    new_version: str
    per_old: date | None
    per_new: date | None
    data_dir: str
    title: str
    rows: list[DiffRow]                   # per recipient and villkor, sorted (see module doc)
    sums: list[DiffRow]                   # per recipient: the `summa` rows, sorted the same way
    totals: list[DiffTotal]               # per payment, in the agreement's order
    total: DiffTotal                      # all payments: the known differences summed
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def changed_rows(self) -> list[DiffRow]:
        return [r for r in self.rows if r.changed]

    @property
    def unchanged_count(self) -> int:
        return sum(1 for r in self.rows if not r.changed)


def compare(old: Model, new: Model, data_dir: Path, params: dict,
            per_old: date | None = None, per_new: date | None = None) -> DiffResult:
    """Run both versions on the same data and set their rows and pots side by side.

    Parameters a model does not declare are dropped for it. If either side cannot be evaluated
    (bad data, a `kontroll` that fails), `VillkorError` carries the diagnostics of both sides.
    """
    sides: list[tuple[Result | None, list[Diagnostic]]] = []
    for model, per in ((old, per_old), (new, per_new)):
        mine = {k: v for k, v in params.items() if k in model.parameters}
        result, _, diags = evaluate(model, data_dir, mine, per)
        sides.append((result, diags))
    (r_old, d_old), (r_new, d_new) = sides
    if r_old is None or r_new is None:
        failed = (d_old if r_old is None else []) + (d_new if r_new is None else [])
        raise VillkorError(failed)
    warnings = _unique([d for d in d_old + d_new if not d.is_error])
    old_label, new_label = _labels(old, new, r_old, r_new)
    rows, sums = _rows(r_old, r_new)
    totals = _totals(r_old.pots, r_new.pots)
    title = (new.agreement.title if new.agreement else
             old.agreement.title if old.agreement else Path(new.file).name)
    return DiffResult(old_label, new_label, r_old.version.label, r_new.version.label,
                      r_old.per, r_new.per, str(data_dir), title, rows, sums, totals,
                      _grand_total(totals), warnings)


def _unique(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen, out = set(), []
    for d in diags:
        key = d.header()
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _labels(old: Model, new: Model, r_old: Result, r_new: Result) -> tuple[str, str]:
    """`FIL: version, per DATUM`; the file's name alone unless both sides share a name."""
    a, b = Path(old.file), Path(new.file)
    short = a.name != b.name or a == b
    def label(path: Path, result: Result) -> str:
        per = result.per.isoformat() if result.per else "senaste"
        return f"{path.name if short else path}: {result.version.label}, per {per}"
    return label(a, r_old), label(b, r_new)


def _rows(r_old: Result, r_new: Result) -> tuple[list[DiffRow], list[DiffRow]]:
    old = {(r.recipient.code, r.villkor): r for r in r_old.rows}
    new = {(r.recipient.code, r.villkor): r for r in r_new.rows}
    recipients: dict[str, Any] = {}
    for r in r_new.rows + r_old.rows:
        recipients.setdefault(r.recipient.code, r.recipient)
    order = {code: i for i, code in enumerate(recipients)}
    keys = list(new) + [k for k in old if k not in new]
    villkor_old = set(r_old.version.villkor)
    villkor_new = set(r_new.version.villkor)
    codes_old = {r.recipient.code for r in r_old.rows}
    codes_new = {r.recipient.code for r in r_new.rows}
    rows: list[DiffRow] = []
    sums: list[DiffRow] = []
    for key in keys:
        a, b = old.get(key), new.get(key)
        d = _row(a, b, recipients[key[0]])
        if d.only == AFTER:
            d.reason = ("mottagaren finns inte före" if key[0] not in codes_old else
                        "nytt villkor: finns inte före" if key[1] not in villkor_old and
                        key[1] != "summa" else "raden finns inte före")
        elif d.only == BEFORE:
            d.reason = ("mottagaren finns inte efter" if key[0] not in codes_new else
                        "villkoret är borttaget: finns inte efter" if key[1] not in villkor_new
                        and key[1] != "summa" else "raden finns inte efter")
        (sums if key[1] == "summa" else rows).append(d)

    def sort_key(d: DiffRow):
        if d.difference is not None and d.difference != 0:
            group, size = 0, -abs(d.difference)
        elif d.changed:   # the verdict, or whether an amount is known: the largest amount first
            known = [abs(x) for x in (d.amount_old, d.amount_new) if x is not None]
            group, size = 1, -max(known, default=Fraction(0))
        else:
            group, size = 2, Fraction(0)
        villkor = vid_key(d.villkor) if d.villkor != "summa" else (float("inf"),)
        return (group, size, order[d.code], [(0, x) if isinstance(x, int) else (1, str(x))
                                            for x in villkor])
    rows.sort(key=sort_key)
    sums.sort(key=sort_key)
    return rows, sums


def _row(a: Row | None, b: Row | None, who) -> DiffRow:
    ref = b or a
    assert ref is not None   # a key of one side or the other
    villkor = ref.villkor
    verdict_old = a.verdict.value if a else None
    verdict_new = b.verdict.value if b else None
    amount_old = a.amount if a else None
    amount_new = b.amount if b else None
    only = AFTER if a is None else BEFORE if b is None else None
    difference: Fraction | None = None
    reason = ""
    if a is not None and b is not None:   # only is None
        if amount_old is not None and amount_new is not None:
            difference = amount_new - amount_old
        elif not a.payable and not b.payable:
            reason = "ingen utbetalning är knuten till villkoret"
        else:
            reason = "; ".join(f"{side}: {_why_no_amount(row)}"
                               for side, row in ((BEFORE, a), (AFTER, b))
                               if row.amount is None)
    changed = (only is not None or verdict_old != verdict_new or amount_old != amount_new)
    return DiffRow(who.code, who.name, villkor, verdict_old, verdict_new, amount_old, amount_new,
                   difference, reason, changed, only, a.note if a else "", b.note if b else "")


def _why_no_amount(row: Row) -> str:
    if not row.payable:
        return "ingen utbetalning"
    return row.verdict.value   # underlag saknas / bedömning krävs: the amount is not known


def _totals(p_old: list[PotSummary], p_new: list[PotSummary]) -> list[DiffTotal]:
    old = {p.payment.name: p for p in p_old}
    new = {p.payment.name: p for p in p_new}
    names = [p.payment.name for p in p_new] + [p.payment.name for p in p_old
                                               if p.payment.name not in new]
    totals = [_total(old.get(n), new.get(n)) for n in names]

    def order(t: DiffTotal):
        # what changed first, the largest difference first; then what did not; then the
        # payments whose amounts are not known (on either side), in the agreement's order
        if t.difference:
            return (0, -abs(t.difference))
        if t.changed:
            return (1, Fraction(0))
        return (2 if t.difference is not None else 3, Fraction(0))
    return sorted(totals, key=order)


def _pending(p: PotSummary) -> int:
    return sum(p.counts.get(v, 0) for v in PENDING)


def _known(p: PotSummary) -> int:
    return sum(p.counts.values()) - _pending(p)


def _pending_counts(p: PotSummary) -> str:
    return ", ".join(f"{p.counts[v]} {v}" for v in PENDING if p.counts.get(v))


def _pending_text(side: str, p: PotSummary) -> str:
    return f"{side}: {_pending_counts(p)}"


def _total(a: PotSummary | None, b: PotSummary | None) -> DiffTotal:
    ref = b or a
    assert ref is not None   # a payment of one side or the other
    t = DiffTotal(ref.payment.name, ref.payment.title, ref.villkor,
                  a.pot if a else None, b.pot if b else None,
                  a.exact_total if a else None, b.exact_total if b else None,
                  a.paid_total if a else None, b.paid_total if b else None,
                  a.rounding_difference if a else None, b.rounding_difference if b else None,
                  None, counts_old=dict(a.counts) if a else {},
                  counts_new=dict(b.counts) if b else {})
    if a is None or b is None:
        t.only = AFTER if a is None else BEFORE
        t.reason = ("ny utbetalning: finns inte före" if a is None else
                    "utbetalningen är borttagen: finns inte efter")
        return t
    blank = [(side, p) for side, p in ((BEFORE, a), (AFTER, b)) if _pending(p) and not _known(p)]
    for side, _ in blank:
        # nothing is known on that side: its "0 kr" paid is no amount (missing is not 0 kr)
        if side == BEFORE:
            t.exact_old = t.paid_old = t.rounding_old = None
        else:
            t.exact_new = t.paid_new = t.rounding_new = None
    if blank:
        if len(blank) == 2 and a.counts == b.counts:
            t.reason = f"inget belopp känt: {_pending_counts(a)} före och efter"
        else:
            t.reason = ("inget belopp känt (" + "; ".join(_pending_text(s, p) for s, p in blank)
                        + ")")
        return t
    t.difference = b.paid_total - a.paid_total
    waiting = [(side, p) for side, p in ((BEFORE, a), (AFTER, b)) if _pending(p)]
    if waiting:
        t.preliminary = True
        t.note = ("preliminär: mottagare utan belopp ingår inte (" +
                  "; ".join(_pending_text(s, p) for s, p in waiting) + ")")
    return t


def _grand_total(totals: list[DiffTotal]) -> DiffTotal:
    """The known amounts summed; a side where no payment's amount is known has no sum (never
    0 kr), and the difference is the sum of the payments' known differences."""
    known = [t for t in totals if t.difference is not None]
    left = [t for t in totals if t.difference is None]

    def add(values) -> Fraction | None:
        present = [v for v in values if v is not None]
        return sum(present, Fraction(0)) if present else None
    t = DiffTotal("totalt", "alla utbetalningar", None,
                  None, None, add(t.exact_old for t in totals), add(t.exact_new for t in totals),
                  add(t.paid_old for t in totals), add(t.paid_new for t in totals),
                  add(t.rounding_old for t in totals), add(t.rounding_new for t in totals),
                  add(t.difference for t in known))
    if not known:
        t.reason = "ingen utbetalning har en känd skillnad"
    notes = []
    if left and known:
        notes.append(f"{len(left)} utbetalningar utan känd skillnad ingår inte")
    if any(x.preliminary for x in known):
        t.preliminary = True
        notes.append("preliminär: " + ", ".join(x.payment for x in known if x.preliminary))
    t.note = "; ".join(notes)
    return t


# ---- text ----------------------------------------------------------------------------------

def signed_money(x: Fraction) -> str:
    """`+1 234 kr`, `−20 000 000 kr` (a real minus sign), `0 kr`."""
    return ("+" if x > 0 else "") + swedish_money(x)


def _money(x: Fraction | None) -> str:
    return swedish_money(x) if x is not None else "–"


def _difference_text(difference: Fraction | None, reason: str, preliminary: bool = False) -> str:
    if difference is None:
        return f"– ({reason})" if reason else "–"
    return signed_money(difference) + (" (preliminär)" if preliminary else "")


def _verdict(v: str | None, side: str) -> str:
    return v if v is not None else f"finns inte {side}"


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max([len(header[i])] + [len(r[i]) for r in rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        out = []
        for i, c in enumerate(cells):
            last = i == len(cells) - 1
            if i in right:
                out.append(c.rjust(widths[i]))
            else:
                out.append(c if last else c.ljust(widths[i]))
        return "  ".join(out).rstrip()
    return [line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]


ROW_HEADER = ["mottagare", "namn", "villkor", "utfall före", "utfall efter", "belopp före",
              "belopp efter", "skillnad"]
TOTAL_HEADER = ["utbetalning", "villkor", "pott före", "pott efter", "utbetalt före",
                "utbetalt efter", "skillnad", "avrundning före", "avrundning efter",
                "anmärkning"]


def _row_cells(r: DiffRow) -> list[str]:
    return [r.code, r.name, r.villkor, _verdict(r.verdict_old, BEFORE),
            _verdict(r.verdict_new, AFTER), _money(r.amount_old), _money(r.amount_new),
            _difference_text(r.difference, r.reason)]


def _total_cells(t: DiffTotal) -> list[str]:
    pot = _money if t.payment != "totalt" else (lambda x: "")   # pots of all kinds: no sum
    return [t.payment, t.villkor or "", pot(t.pot_old), pot(t.pot_new),
            _money(t.paid_old), _money(t.paid_new),
            _difference_text(t.difference, "", t.preliminary),
            _money(t.rounding_old), _money(t.rounding_new), _total_note(t)]


def _total_note(t: DiffTotal) -> str:
    return "; ".join(x for x in (t.reason, t.note) if x)


def _summary(d: DiffResult) -> str:
    """One sentence: the total paid difference and how many rows changed."""
    changed = len(d.changed_rows)
    if d.total.difference is None:
        money = "Ingen utbetalning har en känd skillnad"
    else:
        money = (f"Utbetalt ändras med {signed_money(d.total.difference)}"
                 + (" (preliminärt)" if d.total.preliminary else ""))
        left = sum(1 for t in d.totals if t.difference is None)
        if left:
            money += f"; {left} utbetalningar utan känt belopp ingår inte"
    return f"{money}. {changed} rader ändrade, {d.unchanged_count} rader oförändrade."


def render_text(d: DiffResult) -> str:
    out = [f"Jämförelse: {d.title}",
           f"  före:  {d.old_label}",
           f"  efter: {d.new_label}",
           f"  data:  {d.data_dir}", "", _summary(d), ""]
    out.append("Summor per utbetalning")
    body = [_total_cells(t) for t in d.totals] + [_total_cells(d.total)]
    out += _table(TOTAL_HEADER, body, {2, 3, 4, 5, 6, 7, 8})
    out.append("")
    changed = d.changed_rows
    if changed:
        out.append(f"Ändrade rader ({len(changed)} av {len(d.rows)}), största skillnaden först")
        out += _table(ROW_HEADER, [_row_cells(r) for r in changed], {5, 6})
    else:
        out.append("Inga rader har ändrats.")
    sums = [r for r in d.sums if r.changed]
    if sums:
        out += ["", f"Summa per mottagare, ändrade ({len(sums)} av {len(d.sums)})"]
        out += _table([h for i, h in enumerate(ROW_HEADER) if i != 2],
                      [[c for i, c in enumerate(_row_cells(r)) if i != 2] for r in sums], {4, 5})
    out += ["", f"{d.unchanged_count} rader oförändrade"]
    return "\n".join(out) + "\n"


# ---- HTML ----------------------------------------------------------------------------------

def _e(value) -> str:
    """Any value as HTML text or attribute value (`&`, `<`, `>`, `"` and `'` escaped)."""
    return html.escape(str(value), quote=True)


EXTRA_CSS = """
table.diff{font-size:.9rem} td.okning{background:#e7f5e9} td.minskning{background:#fbe9e7}
tr.oforandrad td{color:#777} td.saknas{color:#555;font-style:italic;text-align:right}
table.diff th,table.diff td{padding:.2rem .45rem} td.utb{min-width:11rem}
td.anm{font-size:.8rem;color:#555;min-width:13rem}
p.kort{font-size:1.05rem}
"""


def _verdict_cell(v: str | None, side: str) -> str:
    from .report import CLASS

    if v is None:
        return f'<td class="saknas">{_e(_verdict(v, side))}</td>'
    return f'<td class="{_e(CLASS.get(v, ""))}">{_e(v)}</td>'


def _difference_cell(difference: Fraction | None, reason: str, preliminary: bool = False) -> str:
    if difference is None:
        return f'<td class="saknas">{_e(_difference_text(None, reason))}</td>'
    kind = " okning" if difference > 0 else " minskning" if difference < 0 else ""
    text = signed_money(difference) + (" (preliminär)" if preliminary else "")
    return f'<td class="belopp{kind}">{_e(text)}</td>'


def _money_cell(x: Fraction | None) -> str:
    return f'<td class="belopp">{_e(_money(x))}</td>'


def _row_html(r: DiffRow, villkor: bool = True) -> str:
    cls = "" if r.changed else ' class="oforandrad"'
    return (f"<tr{cls}><td>{_e(r.code)}</td><td>{_e(r.name)}</td>"
            + (f"<td>{_e(r.villkor)}</td>" if villkor else "")
            + _verdict_cell(r.verdict_old, BEFORE) + _verdict_cell(r.verdict_new, AFTER)
            + _money_cell(r.amount_old) + _money_cell(r.amount_new)
            + _difference_cell(r.difference, r.reason) + "</tr>")


def _total_html(t: DiffTotal, tag: str = "td") -> str:
    grand = t.payment == "totalt"
    # a line may break after a slash ("arbetsgivare/Arbetsförmedlingen"): <wbr> after escaping
    name = (f"{_e(t.title).replace('/', '/<wbr>')} <small>({_e(t.payment)})</small>"
            if not grand else
            "totalt, alla utbetalningar")
    pots = ("<td></td><td></td>" if grand else _money_cell(t.pot_old) + _money_cell(t.pot_new))
    return (f'<tr><td class="utb">{name}</td><td>{_e(t.villkor or "")}</td>' + pots
            + _money_cell(t.paid_old) + _money_cell(t.paid_new)
            + _difference_cell(t.difference, "", t.preliminary)
            + _money_cell(t.rounding_old) + _money_cell(t.rounding_new)
            + f'<td class="anm">{_e(_total_note(t))}</td></tr>')


def render_html(d: DiffResult) -> str:
    from .report import CSS, HEAD

    e = _e
    out = [HEAD,
           (f"<title>Jämförelse – {e(d.title)}</title><style>{CSS}{EXTRA_CSS}</style>"
            "</head><body>"),
           f"<h1>Jämförelse: {e(d.title)}</h1>",
           ('<table id="versioner">'
            f"<tr><th>före</th><td>{e(d.old_label)}</td></tr>"
            f"<tr><th>efter</th><td>{e(d.new_label)}</td></tr>"
            f"<tr><th>data</th><td>{e(d.data_dir)}</td></tr></table>"),
           f'<p class="kort">{e(_summary(d))}</p>']
    out.append('<h2>Summor per utbetalning</h2><table id="summor" class="diff"><thead><tr>'
               "<th>utbetalning</th><th>villkor</th><th>pott före</th><th>pott efter</th>"
               "<th>utbetalt före</th><th>utbetalt efter</th><th>skillnad</th>"
               "<th>avrundning före</th><th>avrundning efter</th><th>anmärkning</th></tr>"
               "</thead><tbody>")
    out += [_total_html(t) for t in d.totals]
    out.append("</tbody><tfoot>" + _total_html(d.total) + "</tfoot></table>")
    changed = d.changed_rows
    out.append(f"<h2>Per mottagare och villkor</h2><p>{len(changed)} rader ändrade, "
               f"{d.unchanged_count} rader oförändrade; största skillnaden först.</p>"
               '<table id="rader" class="diff"><thead><tr><th>mottagare</th><th>namn</th>'
               "<th>villkor</th>"
               "<th>utfall före</th><th>utfall efter</th><th>belopp före</th>"
               "<th>belopp efter</th><th>skillnad</th></tr></thead><tbody>")
    out += [_row_html(r) for r in d.rows]
    out.append("</tbody></table>")
    if d.sums:
        out.append('<h2>Summa per mottagare</h2><table id="mottagare" class="diff"><thead><tr>'
                   "<th>mottagare</th><th>namn</th><th>utfall före</th><th>utfall efter</th>"
                   "<th>summa före</th><th>summa efter</th><th>skillnad</th></tr></thead>"
                   "<tbody>")
        out += [_row_html(r, villkor=False) for r in d.sums]
        out.append("</tbody></table>")
    if d.warnings:
        out.append('<h2>Varningar</h2><ul id="varningar">' +
                   "".join(f"<li>{e(w.header())}</li>" for w in d.warnings) + "</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


# ---- Excel ---------------------------------------------------------------------------------

def _number(x: Fraction | None):
    """int when whole; else a Decimal — exact when the fraction terminates, else to 6 places."""
    if x is None:
        return None
    if x.denominator == 1:
        return int(x)
    den = x.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    with localcontext() as ctx:
        ctx.prec = len(str(abs(x.numerator))) + len(str(x.denominator)) + 8
        value = Decimal(x.numerator) / Decimal(x.denominator)
    if den == 1:   # a terminating fraction: exactly
        return value.normalize()
    return value.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def _cell(ws, value):
    from openpyxl.cell import WriteOnlyCell

    if value is None or value == "":
        return None
    if isinstance(value, str):
        cell = WriteOnlyCell(ws, value=xlsx_text(value))
        cell.data_type = "s"   # text stays text: `=…` is never a formula
        return cell
    return WriteOnlyCell(ws, value=value)


def write_xlsx(d: DiffResult, path: Path) -> None:
    """Sheets Summor (per payment, then the grand total), Rader (per recipient and villkor,
    sorted as the text, then each recipient's summa) and Versioner (what was compared)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    wb.properties.creator = "villkor"
    bold = Font(bold=True)

    def header(ws, names: list[str]) -> None:
        cells = []
        for n in names:
            c = _cell(ws, n)
            c.font = bold
            cells.append(c)
        ws.append(cells)

    def row(ws, values: list) -> None:
        ws.append([_cell(ws, v) for v in values])

    n = _number
    ws = wb.create_sheet("Summor")
    ws.freeze_panes = "A2"
    header(ws, ["utbetalning", "titel", "villkor", "pott före", "pott efter", "exakt före",
                "exakt efter", "utbetalt före", "utbetalt efter", "skillnad",
                "avrundningsdifferens före", "avrundningsdifferens efter", "utan skillnad därför",
                "anmärkning"])
    for t in d.totals + [d.total]:
        row(ws, [t.payment, t.title, t.villkor, n(t.pot_old), n(t.pot_new), n(t.exact_old),
                 n(t.exact_new), n(t.paid_old), n(t.paid_new), n(t.difference),
                 n(t.rounding_old), n(t.rounding_new), t.reason, t.note])
    ws = wb.create_sheet("Rader")
    ws.freeze_panes = "A2"
    header(ws, ["mottagare", "namn", "villkor", "utfall före", "utfall efter", "belopp före",
                "belopp efter", "skillnad", "utan skillnad därför", "ändrad"])
    for r in d.rows + d.sums:
        row(ws, [r.code, r.name, r.villkor, _verdict(r.verdict_old, BEFORE),
                 _verdict(r.verdict_new, AFTER), n(r.amount_old), n(r.amount_new),
                 n(r.difference), r.reason, "ja" if r.changed else "nej"])
    ws = wb.create_sheet("Versioner")
    row(ws, ["före", d.old_label])
    row(ws, ["efter", d.new_label])
    row(ws, ["data", d.data_dir])
    buf = io.BytesIO()
    wb.save(buf)
    write_bytes_atomic(Path(path), buf.getvalue())   # the one atomic writer (modes, links)


__all__ = ["DiffResult", "DiffRow", "DiffTotal", "compare", "render_html", "render_text",
           "signed_money", "write_xlsx"]
