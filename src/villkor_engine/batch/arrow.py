"""Running a columnar plan with pyarrow and numpy: exact integer money, four-valued verdicts.

Verdicts are int8 codes; `och`/`eller` are a max over a rank table, so missing propagates exactly
as in the reference evaluator. Money is integer öre: a share is ⌊(2·P·k + u·T) / (2·u·T)⌋ units of
u öre (half up), computed in int64 after a bound check — no float on the money path. Bad rows go
to an error file beside the output; every good row gets its result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..eval.engine import PotSummary, sources_text
from ..eval.interpreter import COMPARE
from ..io.output import atomic_path, side_path
from ..model import types as T
from ..syntax import ast
from .plan import Plan, Unsupported

UPPFYLLT, EJ, SAKNAS, BEDOMNING = 0, 1, 2, 3
VERDICT_TEXT = pa.array(["uppfyllt", "ej uppfyllt", "underlag saknas", "bedömning krävs"])
AND_RANK = np.array([0, 3, 2, 1], dtype=np.int8)      # code → rank; the table is its own inverse
OR_RANK = np.array([3, 0, 2, 1], dtype=np.int8)
OR_CODE = np.array([1, 3, 2, 0], dtype=np.int8)        # rank → code
NOT = np.array([1, 0, 2, 3], dtype=np.int8)
LIMIT = 2 ** 62


@dataclass
class BatchError:
    file: str
    line: int
    column: str
    message: str


@dataclass
class BatchResult:
    rows: int                      # output rows written (recipients × villkor, plus summa)
    errors: list[BatchError] = field(default_factory=list)
    pots: list[PotSummary] = field(default_factory=list)


class Columns:
    """The recipient table, validated: typed numpy arrays with null masks, bad rows listed."""

    def __init__(self, plan: Plan, data_dir: Path):
        spec = plan.table
        self.path = Path(data_dir) / spec.file
        first = self.path.open("r", encoding="utf-8-sig").readline()
        delimiter = ";" if first.count(";") > first.count(",") else ","
        header = [h.strip() for h in first.rstrip("\r\n").split(delimiter)]
        missing = [c for c, s in spec.columns.items() if c not in header and not s.may_be_absent]
        if missing:
            raise ValueError(f"{self.path.name}: kolumnen `{missing[0]}` saknas")
        table = pacsv.read_csv(
            self.path, parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header}, strings_can_be_null=True,
                null_values=[""], include_columns=[c for c in spec.columns if c in header]))
        self.n = table.num_rows
        self.errors: list[BatchError] = []
        bad = np.zeros(self.n, dtype=bool)
        self.values: dict[str, np.ndarray] = {}
        self.null: dict[str, np.ndarray] = {}
        self.text: dict[str, pa.Array] = {}
        for name, col in spec.columns.items():
            if name not in table.column_names:
                continue
            raw = pc.utf8_trim_whitespace(table[name].combine_chunks())
            null = raw.is_null().to_numpy(zero_copy_only=False)
            invalid = np.zeros(self.n, dtype=bool)
            why = ""
            if col.type == T.JANEJ:
                low = pc.utf8_lower(raw)
                yes = _flags(pc.equal(low, "ja"))
                invalid = ~null & ~yes & ~_flags(pc.equal(low, "nej"))
                self.values[name] = yes
                why = "är inte ja eller nej"
            elif col.type == T.HELTAL:
                compact = pc.replace_substring(raw, " ", "")
                invalid = ~null & ~_flags(pc.match_substring_regex(compact, r"^-?\d+$"))
                numbers = pc.cast(pc.if_else(pa.array(invalid | null), "0", compact), pa.int64())
                self.values[name] = numbers.to_numpy(zero_copy_only=False)
                why = "är inget heltal"
                if col.positive:
                    nonpos = ~invalid & ~null & (self.values[name] <= 0)
                    self._add(name, raw, nonpos, "ska vara större än 0")
                    bad |= nonpos
            elif col.type in (T.TEXT, T.KOD):
                if col.values:
                    allowed = pc.is_in(raw, value_set=pa.array(list(col.values)))
                    invalid = ~null & ~allowed.to_numpy(zero_copy_only=False)
                    why = "är inte ett tillåtet värde"
            else:
                raise NotImplementedError(col.type)  # the plan admits no other column types
            if col.required:
                self._add(name, raw, null, "värdet saknas men kolumnen är obligatorisk")
                bad |= null
            self._add(name, raw, invalid, why)
            bad |= invalid
            self.null[name] = null
            self.text[name] = raw
        key = spec.keys[0]
        keys = self.text[key]
        # the first row of each key keeps it; a later row with the same key is an error
        dup = np.zeros(self.n, dtype=bool)
        if pc.count_distinct(keys, mode="all").as_py() != self.n:   # rare: find them
            _, first = np.unique(keys.to_numpy(zero_copy_only=False).astype(str),
                                 return_index=True)
            dup[:] = True
            dup[first] = False
        self._add(key, keys, dup, "finns redan på en tidigare rad")
        self.good = ~(bad | dup)

    def _add(self, column: str, raw: pa.Array, mask: np.ndarray, message: str) -> None:
        """Error rows for the flagged cells (few, so a Python loop over them is fine)."""
        for i in np.flatnonzero(mask):
            value = raw[int(i)].as_py()
            self.errors.append(BatchError(self.path.name, int(i) + 2, column,
                                          f"rad {int(i) + 2}, kolumn `{column}`: "
                                          f"`{value if value is not None else ''}` {message}"))


def _flags(mask: pa.Array) -> np.ndarray:
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def verdicts(plan: Plan, cols: Columns) -> dict[str, np.ndarray]:
    cache: dict[str, np.ndarray] = {}

    def villkor(vid: str) -> np.ndarray:
        if vid not in cache:
            cache[vid] = compile_expr(plan.villkor[vid])
        return cache[vid]

    def compile_expr(e: ast.Expr) -> np.ndarray:
        if isinstance(e, ast.VerdictLit):
            code = ["uppfyllt", "ej uppfyllt", "underlag saknas", "bedömning krävs"].index(e.value)
            return np.full(cols.n, code, dtype=np.int8)
        if isinstance(e, ast.VillkorRef):
            return villkor(e.vid)
        if isinstance(e, ast.Not):
            return NOT[compile_expr(e.operand)]
        if isinstance(e, ast.Logic):
            a, b = compile_expr(e.left), compile_expr(e.right)
            if e.op == "och":
                return AND_RANK[np.maximum(AND_RANK[a], AND_RANK[b])]
            return OR_CODE[np.maximum(OR_RANK[a], OR_RANK[b])]
        if isinstance(e, ast.Is):
            col = e.operand.column
            null = cols.null[col]
            if e.what == "angiven":
                return np.where(null, SAKNAS, UPPFYLLT).astype(np.int8)
            hit = cols.values[col] if e.what == "ja" else ~cols.values[col]
            return np.where(null, SAKNAS, np.where(hit, UPPFYLLT, EJ)).astype(np.int8)
        if isinstance(e, ast.Compare):
            col, lit = e.left.column, e.right
            null = cols.null[col]
            if isinstance(lit, ast.Str):
                eq = _flags(pc.equal(cols.text[col], lit.value))
                hit = eq if e.op == "=" else ~eq
            else:
                x, num, den = cols.values[col], lit.value.numerator, lit.value.denominator
                left = x.astype(object) * den if abs(den) > 1 else x    # exact: x·den op num
                hit = np.asarray(COMPARE[e.op](left, num), dtype=bool)
            return np.where(null, SAKNAS, np.where(hit, UPPFYLLT, EJ)).astype(np.int8)
        raise AssertionError(type(e))   # the plan admits nothing else

    return {vid: villkor(vid) for vid in plan.villkor}


def run_plan(plan: Plan, data_dir: Path, out: Path) -> BatchResult | Unsupported:
    cols = Columns(plan, Path(data_dir))
    idx = np.flatnonzero(cols.good)
    v = {vid: arr[idx] for vid, arr in verdicts(plan, cols).items()}
    keys = cols.text[plan.table.keys[0]].take(pa.array(idx))
    names = cols.text[plan.model.groups[plan.group].name_column].take(pa.array(idx))
    m = len(idx)
    parts = []
    pot_rows = []
    paid_ore = np.zeros(m, dtype=np.int64)
    exact_micro = np.zeros(m, dtype=np.int64)
    open_ = np.zeros(m, dtype=bool)
    top = list(plan.version.villkor)
    for vid in top:
        code = v[vid]
        pot = next((p for p in plan.pots if p.payment.villkor == vid), None)
        belopp = pa.nulls(m, pa.string())
        exakt = pa.nulls(m, pa.string())
        if pot is not None:
            k = cols.values[pot.key_column][idx]
            eligible = code == UPPFYLLT
            total = int(k[eligible].sum())
            if total and 2 * pot.pot_ore * int(k.max(initial=0)) >= LIMIT:
                return Unsupported("talen är för stora för 64-bitars heltal", None)
            u = pot.unit_ore
            units = np.zeros(m, dtype=np.int64)
            micro = np.zeros(m, dtype=np.int64)
            if total:
                num = pot.pot_ore * k[eligible]
                units[eligible] = (2 * num + u * total) // (2 * u * total)
                q, r = np.divmod(num, total)
                micro[eligible] = q * 10_000 + (2 * r * 10_000 + total) // (2 * total)
            ore = units * u
            known = code != SAKNAS
            known &= code != BEDOMNING
            open_ |= ~known
            paid_ore += np.where(known, ore, 0)
            exact_micro += np.where(known, micro, 0)
            belopp = _money(ore, known, u)
            exakt = _micro_text(micro, known)
            counts = {text: int((code == c).sum())
                      for c, text in enumerate(VERDICT_TEXT.to_pylist())}
            pot_rows.append(PotSummary(
                pot.payment, vid, Fraction(pot.pot_ore, 100),
                Fraction(pot.pot_ore, 100) if total else Fraction(0),   # shared in full, or not
                Fraction(int(ore[known].sum()), 100), counts))
        parts.append(_rows(plan, keys, names, vid, code, belopp, exakt, m,
                           pot.payment if pot else None))
    summa_code = _summa_code(v, top, open_)
    parts.append(_rows(plan, keys, names, "summa", summa_code,
                       _money(paid_ore, ~open_ | (paid_ore != 0), 1),
                       _micro_text(exact_micro, np.ones(m, dtype=bool)), m, None))
    # interleave: recipient i's rows are parts[0][i], parts[1][i], …, summa — by index, no sort
    k = len(parts)
    order = (np.arange(k * m).reshape(k, m).T.ravel()) if m else np.zeros(0, dtype=np.int64)
    table = pa.concat_tables(parts).take(pa.array(order))
    _write_csv_atomic(table, out)
    result = BatchResult(table.num_rows, cols.errors, pot_rows)
    if cols.errors:
        errors = pa.table({"fil": [e.file for e in cols.errors],
                           "rad": [e.line for e in cols.errors],
                           "kolumn": [e.column for e in cols.errors],
                           "meddelande": [e.message for e in cols.errors]})
        _write_csv_atomic(errors, side_path(out, "fel"))
    return result


def _summa_code(v: dict[str, np.ndarray], top: list[str], open_: np.ndarray) -> np.ndarray:
    """As the reference: open amounts decide (och); else uppfyllt if anything was paid."""
    codes = [v[vid] for vid in top]
    any_paid = np.zeros_like(open_)
    rank = np.zeros(len(open_), dtype=np.int8)
    for c in codes:
        any_paid |= c == UPPFYLLT
        pending = (c == SAKNAS) | (c == BEDOMNING)
        rank = np.where(pending, np.maximum(rank, AND_RANK[c]), rank)
    return np.where(open_, AND_RANK[rank], np.where(any_paid, UPPFYLLT, EJ)).astype(np.int8)


def _money(ore: np.ndarray, known: np.ndarray, unit: int) -> pa.Array:
    whole = pc.cast(pa.array(ore // 100), pa.string())
    if unit == 100 and not (ore % 100).any():
        text = whole
    else:
        cents = pc.utf8_lpad(pc.cast(pa.array(np.abs(ore) % 100), pa.string()), 2, "0")
        text = pc.if_else(pa.array(ore % 100 == 0), whole,
                          pc.binary_join_element_wise(whole, cents, "."))
    return pc.if_else(pa.array(known), text, pa.nulls(len(ore), pa.string()))


def _micro_text(micro: np.ndarray, known: np.ndarray) -> pa.Array:
    whole = pc.cast(pa.array(micro // 1_000_000), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(micro % 1_000_000), pa.string()), 6, "0")
    text = pc.replace_substring_regex(pc.binary_join_element_wise(whole, frac, "."),
                                      r"\.?0+$", "")
    return pc.if_else(pa.array(known), text, pa.nulls(len(micro), pa.string()))


def _rows(plan: Plan, keys, names, vid: str, code: np.ndarray, belopp, exakt, m: int,
          payment) -> pa.Table:
    label = plan.version.label
    sources = sources_text(payment.sources) if payment else ""
    note = pc.if_else(pa.array((code == SAKNAS) | (code == BEDOMNING)),
                      "beloppet kan inte bestämmas", "")
    due = payment.due.isoformat() if payment is not None and payment.due else ""
    return pa.table({
        "mottagare": keys, "namn": names, "villkor": pa.repeat(vid, m),
        "utfall": VERDICT_TEXT.take(pa.array(code)), "belopp": belopp, "exakt_belopp": exakt,
        "betalas_senast": pa.repeat(due, m), "version": pa.repeat(label, m),
        "källa": pa.repeat(sources, m), "anmärkning": note})


def _write_csv_atomic(table: pa.Table, out: Path) -> None:
    with atomic_path(out) as tmp:
        pacsv.write_csv(table, tmp, pacsv.WriteOptions(quoting_style="needed"))
