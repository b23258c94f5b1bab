"""Reading the inputs in SQL: every declared cell typed by the rules of io/cells.py, the good
rows (`bra_*`), the error rows with file, line, column and message, and the belopp the plan
cannot hold (`gränser`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..io import cells as C
from ..model import types as T
from ..model.model import ColumnSpec, RecordSpec, TableSpec
from ..syntax import ast
from .linear import DECIMAL_PLACES
from .plan import (
    Plan,
)
from .sqltext import (
    FIRST,
    MARK,
    OTHER,
    ROW,
    TRIMMED,
    N,
    Names,
    Step,
    fault,
    ident,
    lit,
    one_of,
    own,
    step,
)


def typed_step(spec: TableSpec | RecordSpec, kinds: dict[str, str], names: Names) -> Step:
    """Each declared column typed, with `<col>§fel`: the reason it is wrong, or NULL.

    Every cell is read by the rules of io/cells.py, as the reference reads it. A row whose every
    cell is blank is no row; `§annat` (in `kinds` when the runner's `in_` view has it: true when
    one of the file's undeclared cells holds something) keeps a row whose declared cells are all
    blank, so its blank `obligatorisk` cells are errors, as in the reference.

    The input is read in stages, a subquery each (`_staged`): the first trims each text cell
    once (`<col>§t`), the later ones derive from it what its type needs, each once per row (see
    `_typed`); the outer SELECT only names them."""
    cols = [ROW]
    present = []
    passed = [ROW] + ([ident(OTHER)] if OTHER in kinds else [])   # through the stages
    stages: list[list[str]] = []
    for c in spec.columns.values():
        if c.name not in kinds:
            cols += [f"NULL AS {ident(c.name)}", f"CAST(NULL AS VARCHAR) AS {fault(c.name)}"]
            continue
        value, error, blank, own_stages = _typed(c, kinds[c.name], spec.decimal)
        if not own_stages:      # a native column: read as it is
            passed.append(ident(c.name))
        for depth, columns in enumerate(own_stages):
            if depth == len(stages):
                stages.append([])
            stages[depth] += columns
        cols += [f"{value} AS {ident(c.name)}", f"{error} AS {fault(c.name)}"]
        present.append((not c.required, kinds[c.name] in ("text", TRIMMED), blank))
    # a row of blank cells is no row (io/cells.py); the cheap, usually filled cells first, so
    # the test stops early on almost every row
    blanks = [b for *_, b in sorted(present, key=lambda p: p[:2])]
    if OTHER in kinds:
        blanks.append(f"NOT {ident(OTHER)}")
    where = f" WHERE NOT ({' AND '.join(blanks)})" if blanks else ""
    source = _staged(ident(names.table("in", spec.name)), passed, stages)
    return step(names.table("typ", spec.name), f"SELECT {', '.join(cols)} FROM {source}{where}")


def _staged(source: str, passed: list[str], stages: list[list[str]]) -> str:
    """`source` read in stages, as a FROM clause: the first stage selects the columns `passed`
    and its own (`expr AS name`) from it, each later one adds its own to all before. A column
    derived once, in its stage, is named in the next as often as needed: no expression is
    repeated inside another."""
    if not stages:
        return source
    select = f"SELECT {', '.join(passed + stages[0])} FROM {source}"
    for depth, columns in enumerate(stages[1:], 1):
        select = f"SELECT *, {', '.join(columns)} FROM ({select}) AS {own(str(depth))}"
    return f"({select}) AS {own(str(len(stages)))}"


def _part(column: str, what: str) -> str:
    """A column of a declared column's stages (`<col>§t`, …), quoted: holding `§`, it is no
    user's column, and `what` keeps one column's stages apart."""
    return ident(column + MARK + what)


def _text(col: str, kind: str) -> str:
    """A cell that is not of its column's native type, as trimmed text, NULL when blank: a typed
    cell as the reference's reader gives it (ja/nej for a boolean, ISO for a date)."""
    text = f"CASE WHEN {col} THEN 'ja' WHEN NOT {col} THEN 'nej' END" if kind == "bool" \
        else f"CAST({col} AS VARCHAR)"
    return f"NULLIF({text}, '')" if kind == TRIMMED else f"NULLIF({C.sql_trim(text)}, '')"


def _shown(text: str) -> str:
    """A cell's text as a message quotes it, before the reason (io/cells.py `shown`)."""
    return f"'`' || {text} || '` '"


def _typed(c: ColumnSpec, kind: str, decimal: str | None = None
           ) -> tuple[str, str, str, list[list[str]]]:
    """(value, reason it is wrong or NULL, blank, stages) for one declared column: the rules and
    the messages of io/cells.py, which the reference's `parse_cell` follows too. `stages` (for
    `_staged`; none for a native column) computes the trimmed text `<col>§t` and, from it, what
    the type needs: for a number its text without spaces `<col>§k` and its value `<col>§v`
    (NULL when the text is no value); value, reason and blank name those columns."""
    col = ident(c.name)
    required = lit(C.REQUIRED) if c.required else "NULL"
    native = {T.JANEJ: "bool", T.HELTAL: "int", T.DATUM: "date"}.get(c.type)
    if kind == native:
        error = f"CASE WHEN {col} IS NULL THEN {required}"
        if c.type == T.HELTAL:   # a 64-bit integer may still have 19 digits
            text = f"CAST({col} AS VARCHAR)"
            error += (f" WHEN {col} >= {C.INTEGER_LIMIT} OR {col} <= -{C.INTEGER_LIMIT} THEN "
                      f"{C.sql_too_many_digits(text, text)}")
        if c.positive:
            error += (f" WHEN {col} <= 0 THEN '`' || CAST({col} AS VARCHAR) || "
                      f"{lit('` ' + C.NOT_POSITIVE)}")
        # a native 8/16/32-bit integer (Parquet) is widened: öre and key products need 64
        value = f"TRY_CAST({col} AS BIGINT)" if c.type == T.HELTAL else col
        return value, error + " END", f"{col} IS NULL", []
    t, v = _part(c.name, "t"), _part(c.name, "v")
    stages = [[f"{_text(col, kind)} AS {t}"]]
    shown = _shown(t)
    missing = f"CASE WHEN {t} IS NULL THEN {required}"
    # past `missing` the text is there: a NULL `v` is then a text that is no value
    if c.type == T.JANEJ:
        stages.append([f"CASE LOWER({t}) WHEN 'ja' THEN TRUE WHEN 'nej' THEN FALSE END AS {v}"])
        value = v
        error = f"{missing} WHEN {v} IS NULL THEN {shown} || {lit(C.NOT_YES_NO)} END"
    elif c.type == T.HELTAL:
        k = _part(c.name, "k")
        stages.append([f"{C.sql_integer_compact(t)} AS {k}"])
        # at most 18 digits always fit in BIGINT: `v` is NULL only when there are more
        stages.append([f"CASE WHEN REGEXP_MATCHES({k}, {lit(C.SQL_INTEGER)}) THEN "
                       f"TRY_CAST({k} AS BIGINT) END AS {v}"])
        value = v
        error = (f"{missing} WHEN NOT REGEXP_MATCHES({k}, {lit(C.SQL_INTEGER_DIGITS)}) THEN "
                 f"{shown} || {lit(C.NOT_INTEGER)} "
                 f"WHEN {v} IS NULL THEN {C.sql_too_many_digits(t, k)}")
        if c.positive:
            error += f" WHEN {v} <= 0 THEN {shown} || {lit(C.NOT_POSITIVE)}"
        error += " END"
    elif c.type in (T.BELOPP, T.DECIMALTAL, T.ANDEL):
        value, error, number = _number(c, decimal, shown, missing)
        stages += number
    elif c.type == T.DATUM:
        # ÅÅÅÅ-MM-DD, a real date from year 0001 (DuckDB has a year 0; Python does not)
        ok = f"REGEXP_MATCHES({t}, {lit(C.SQL_DATE)}) AND NOT starts_with({t}, '0000')"
        stages.append([f"CASE WHEN {ok} THEN TRY_CAST({t} AS DATE) END AS {v}"])
        value = v
        error = f"{missing} WHEN {v} IS NULL THEN {shown} || {lit(C.NOT_DATE)} END"
    else:   # text, kod
        value = t
        error = missing
        if c.values:
            allowed = ", ".join(lit(v) for v in c.values)
            error += (f" WHEN {t} NOT IN ({allowed}) THEN {shown} || "
                      f"{lit(C.not_one_of(c.values))}")
        error += " END"
    return value, error, f"{t} IS NULL", stages


@dataclass(frozen=True)
class NumberReading:
    """How the SQL reads a belopp, decimaltal or andel cell from its trimmed text `<col>§t`, as
    the reference's `parse_cell` reads it: `stages` after the text, the last giving the value
    `<col>§v` (NULL unless a number that fits the plan's units); `checks`, in the reference's
    order, the reasons the text is no number (condition, message); `ok` (no check fails),
    `percent`, `kronor` and `fits`, true on the stage before the value."""

    stages: list[list[str]]
    checks: list[tuple[str, str]]
    ok: str
    percent: str
    kronor: str
    fits: str


def _number_reading(c: ColumnSpec, decimal: str | None) -> NumberReading:
    """A belopp is held in öre (2 places, 16 digits of kronor, 64 bits), a decimaltal or andel
    in 10^-`DECIMAL_PLACES` (20 digits before the mark, 128 bits), where a `%` takes two of the
    places. Without `decimaltecken` spaces go, then a `%`, then a `kr`, and either mark is read;
    with one (io/cells.py `DECLARED`) the spaces around it go, a `%` or else a `kr`, and the
    other mark is an error of its own."""
    t, k, b, n, d, kr, dec, v = (_part(c.name, w)
                                 for w in ("t", "k", "b", "n", "d", "kr", "dec", "v"))
    shown = _shown(t)
    not_number = f"{shown} || 'är inget tal'"
    if decimal is None:
        percent, kronor = f"RIGHT({k}, 1) = '%'", f"RIGHT({b}, 2) = 'kr'"
        ok = _part(c.name, "ok")
        stages = [
            [f"REPLACE(REPLACE({t}, ' ', ''), '\u00a0', '') AS {k}"],             # no spaces
            [f"CASE WHEN {percent} THEN LEFT({k}, LENGTH({k}) - 1) ELSE {k} END AS {b}"],
            [f"CASE WHEN {kronor} THEN LEFT({b}, LENGTH({b}) - 2) ELSE {b} END AS {n}"],
            [f"(REGEXP_MATCHES({n}, '^-?[0-9]+([.,][0-9]+)?$') AND LENGTH({n}) <= 100) AS {ok}",
             f"REGEXP_EXTRACT({n}, '^-?([0-9]+)', 1) AS {kr}",     # the digits before the mark
             f"REGEXP_EXTRACT({n}, '[.,]([0-9]+)$', 1) AS {dec}"],  # the decimals
        ]
        checks = [(f"NOT {ok}", not_number)]
    else:
        mark, wrong = C.MARKS[decimal][:2]
        space = "[" + C.NUMBER_SPACES + "]"
        percent = f"RIGHT({k}, 1) = '%'"
        kronor = f"RIGHT({t}, 2) = 'kr'"     # `t` has no space at its ends
        stages = [
            [f"regexp_replace({t}, {lit(f'^{space}+|{space}+$')}, '', 'g') AS {k}"],
            [f"CASE WHEN {percent} THEN regexp_replace(LEFT({k}, LENGTH({k}) - 1), "
             f"{lit(space + '+$')}, '') ELSE {k} END AS {b}"],
            [f"CASE WHEN NOT ({percent}) AND RIGHT({b}, 2) = 'kr' THEN regexp_replace(LEFT({b}, "
             f"LENGTH({b}) - 2), {lit(space + '+$')}, '') ELSE {b} END AS {n}"],
            [f"regexp_replace({n}, {lit(space)}, '', 'g') AS {d}"],        # no spaces
            [f"REGEXP_EXTRACT({d}, '^-?([0-9]+)', 1) AS {kr}",
             f"REGEXP_EXTRACT({d}, {lit('[' + mark + ']([0-9]+)$')}, 1) AS {dec}"],
        ]
        message, _ = C.wrong_mark("§", decimal)
        before, after = message.split("§")
        checks = [
            (f"strpos({n}, {lit(wrong)}) > 0", f"{lit(before)} || {t} || {lit(after)}"),
            (f"NOT REGEXP_MATCHES({n}, {lit('^' + C.DECLARED[decimal] + '$')})", not_number),
            (f"LENGTH({d}) > 100", f"'`' || LEFT({t}, 40) || '…` är inget tal (för många "
                                   "siffror)'"),
        ]
        ok = "(" + " OR ".join(cond for cond, _ in checks) + ") IS NOT TRUE"
    sign = f"(CASE WHEN LEFT({n}, 1) = '-' THEN -1 ELSE 1 END)"
    if c.type == T.BELOPP:
        fits = f"(LENGTH({kr}) <= 16 AND LENGTH({dec}) <= 2)"
        value = f"{sign} * (CAST({kr} AS BIGINT) * 100 + CAST(RPAD({dec}, 2, '0') AS BIGINT))"
    else:    # a percentage is hundredths: its figure's own places are two fewer
        places = DECIMAL_PLACES
        fits = (f"(LENGTH({kr}) <= 20 AND LENGTH({dec}) <= CASE WHEN {percent} THEN "
                f"{places - 2} ELSE {places} END)")

        def scaled(p: int) -> str:
            return (f"{sign} * (CAST({kr} AS HUGEINT) * {10 ** p} + "
                    f"CAST(RPAD({dec}, {p}, '0') AS HUGEINT))")
        value = f"CASE WHEN {percent} THEN {scaled(places - 2)} ELSE {scaled(places)} END"
    stages.append([f"CASE WHEN {ok} AND {fits} THEN {value} END AS {v}"])
    return NumberReading(stages, checks, ok, percent, kronor, fits)


def _number(c: ColumnSpec, decimal: str | None, shown: str, missing: str
            ) -> tuple[str, str, list[list[str]]]:
    """A belopp, decimaltal or andel cell: (value, reason, the stages after `<col>§t`). A `%`
    in a belopp and a `kr` in any other number are errors (the reference's `_unit_fits`). A
    figure the plan's units cannot hold (finer than öre, …) is no error — the reference reads
    it — but `beyond_step` counts such cells, and the runner leaves the run to the reference."""
    r = _number_reading(c, decimal)
    v = _part(c.name, "v")
    error = missing + "".join(f" WHEN {cond} THEN {message}" for cond, message in r.checks)
    if c.type == T.BELOPP:
        error += f" WHEN {r.percent} THEN {shown} || 'är en procentsats, men kolumnen är belopp'"
    else:
        error += (f" WHEN {r.kronor} THEN {shown} || "
                  f"{lit('är ett belopp i kronor, men kolumnen är ' + c.type)}")
    if c.positive:    # a number here: `v` is NULL only when it does not fit
        error += f" WHEN {v} <= 0 THEN {shown} || {lit(C.NOT_POSITIVE)}"
    return v, error + " END", r.stages


NAMED = "namngivna"


def named_step(plan: Plan, names: Names) -> Step | None:
    """One row: how many members of groups from a table have a code a fixed amount names in a
    listed group (`Plan.named`). The reference would pay such an amount to the first of them,
    in a group the plan did not put it in: the runner then leaves the run to the reference."""
    tables = [g for g in plan.groups if g.keyed and not g.members]
    if not plan.named or not tables:
        return None
    keys = " UNION ALL ".join(f"SELECT {ident(g.key)} AS k FROM "
                              f"{ident(names.table('bra', g.table))} WHERE {N} = 1"
                              for g in tables)
    return step(NAMED, f"SELECT COUNT(*) AS {own('n')} FROM ({keys}) AS m "
                       f"WHERE {one_of('k', plan.named)}")


BEYOND = "gränser"


def beyond_step(plan: Plan, kinds: dict[str, dict[str, str]], names: Names) -> Step | None:
    """One row, one count: number cells the reference reads but the plan's units cannot hold
    (a belopp in öre in 64 bits, a decimaltal or andel in `DECIMAL_PLACES`)."""
    parts = []
    for spec in plan.inputs:
        for c in spec.columns.values():
            kind = kinds[spec.name].get(c.name)
            if c.type in (T.BELOPP, T.DECIMALTAL, T.ANDEL) and kind is not None:
                r = _number_reading(c, spec.decimal)
                stages, ok, fits = r.stages, r.ok, r.fits
                trimmed = [f"{_text(ident(c.name), kind)} AS {_part(c.name, 't')}"]
                source = _staged(ident(names.table("in", spec.name)), [],
                                 [trimmed, *stages[:-1]])     # not the value: its bounds
                parts.append(f"SELECT COUNT(*) AS {own('n')} FROM {source} "
                             f"WHERE {ok} AND NOT {fits}")
    if not parts:
        return None
    return step(BEYOND, f"SELECT SUM({own('n')}) AS {own('n')} FROM ("
                + " UNION ALL ".join(parts) + ") AS b")


def ok_sql(spec: TableSpec | RecordSpec) -> str:
    """A row of the table has no wrong cell."""
    return " AND ".join(f"{fault(c)} IS NULL" for c in spec.columns) or "TRUE"


def good_step(spec: TableSpec | RecordSpec, names: Names, plan: Plan | None = None,
              absent: frozenset[str] = frozenset()) -> Step:
    """Rows with no error; for a keyed table, each key's first row (later ones are errors); for
    a table with a row per member, only rows of known members (the others are errors)."""
    ok = ok_sql(spec)
    typed = ident(names.table("typ", spec.name))
    if isinstance(spec, RecordSpec):
        # with no wrong row (`felrad_`, few and stored) no row needs its cells checked again
        # (the check is most of a scan's work) where the records are read again: a kontroll,
        # an invoice table (the groups' aggregates count them in `poster_`, from `typ_`)
        wrong = ident(names.table("felrad", spec.name))
        return step(names.table("bra", spec.name), f"SELECT * FROM {typed} WHERE {ok}",
                    (f"SELECT COUNT(*) FROM {wrong}", f"SELECT * FROM {typed}"))
    key = ident(spec.keys[0])
    known = known_codes(plan, spec, names, absent) if plan is not None else None
    if known is not None:
        ok += f" AND COALESCE({key}, '') IN ({known})"
    if spec.per_villkor:   # a row per member and villkor: the villkor is one of the agreement's
        assert plan is not None
        ok += f" AND COALESCE({ident(spec.keys[1])}, '') IN ({villkor_ids(plan)})"
        key += f", {ident(spec.keys[1])}"
    # with no key twice among the good rows every row is its key's first: the window (a
    # sort of every row, which loses the file order) is then not needed
    repeated = (f"SELECT COUNT(*) FROM (SELECT {key} FROM {typed} WHERE {ok} GROUP BY {key} "
                "HAVING COUNT(*) > 1) AS d")
    return step(names.table("bra", spec.name),
                f"SELECT *, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {ROW}) AS {N}, "
                f"MIN({ROW}) OVER (PARTITION BY {key}) AS {FIRST} FROM {typed} WHERE {ok}",
                (repeated, f"SELECT *, 1 AS {N}, {ROW} AS {FIRST} FROM {typed} WHERE {ok}"))


def villkor_ids(plan: Plan) -> str:
    """The villkor a table per villkor may name (as the reference's loader: every villkor of
    every version), as an SQL list."""
    ids = sorted({item.vid for item in plan.model.all_items() if isinstance(item, ast.Villkor)})
    return ", ".join(lit(vid) for vid in ids) if ids else "SELECT NULL WHERE FALSE"


def known_codes(plan: Plan, spec: TableSpec, names: Names,
                absent: frozenset[str] = frozenset()) -> str | None:
    """The codes a table with a row per member may name (as the reference's loader): the
    members, and the keys of the defining table's rows rejected for a bad cell (no cascade of
    errors); None where nothing is checked (the defining table, a `via` group, a defining
    table whose `valfri` file is `absent`: its members are unknowable)."""
    group = next((g for g in plan.groups if g.name == spec.group), None)
    if group is None or spec.name not in group.sides:
        return None
    if group.members:
        return "SELECT * FROM (VALUES " + ", ".join(f"({lit(code)})" for code, _ in
                                                     group.members) + ") AS v(k)"
    if not group.keyed or group.table in absent:
        return None
    defining = next(t for t in plan.inputs if t.name == group.table)
    key = ident(group.key)
    return (f"SELECT {key} FROM {ident(names.table('bra', group.table))} WHERE {N} = 1 "
            f"UNION ALL SELECT {key} FROM {ident(names.table('typ', group.table))} WHERE NOT "
            f"({ok_sql(defining)}) AND {key} IS NOT NULL AND {fault(group.key)} IS NULL")


# the `fel` step's columns, as a BatchError takes them (and `§k`, their order within a row)
ERROR_COLUMNS = ("fil", "rad", "kolumn", "meddelande", "kod")


def wrong_rows_step(spec: TableSpec | RecordSpec, names: Names,
                    counted: str | None = None) -> Step:
    """The rows with a wrong cell (`felrad_<i>_<table>`): few, so the error rows read them,
    a column at a time, and the typed input once. `counted`: a one-row query that says how
    many there are (records, whose aggregates counted them in the same scan): where it gives
    0 a runner may skip the scan that looks for them."""
    typed = ident(names.table("typ", spec.name))
    return step(names.table("felrad", spec.name),
                f"SELECT * FROM {typed} WHERE NOT ({ok_sql(spec)})",
                None if counted is None else (counted, f"SELECT * FROM {typed} WHERE FALSE"))


def errors_step(plan: Plan, files: dict[str, str], names: Names,
                absent: frozenset[str] = frozenset()) -> Step:
    """fil, rad, kolumn, meddelande (and the diagnostic's code, for the screen) — one row per
    wrong cell or repeated key, in file order."""
    parts = []
    k = own("k")
    for spec in plan.inputs:
        name = lit(files[spec.name])
        typed = ident(names.table("typ", spec.name))
        wrong = ident(names.table("felrad", spec.name))
        for i, c in enumerate(spec.columns):
            fel = fault(c)
            parts.append(f"SELECT {name} AS fil, {ROW} AS rad, {i} AS {k}, 'V204' AS kod, "
                         f"{lit(c)} AS kolumn, "
                         f"'rad ' || CAST({ROW} AS VARCHAR) || {lit(', kolumn `' + c + '`: ')}"
                         f" || {fel} AS meddelande FROM {wrong} WHERE {fel} IS NOT NULL")
        known = known_codes(plan, spec, names, absent) if isinstance(spec, TableSpec) else None
        member_known = "TRUE"
        if isinstance(spec, TableSpec) and known is not None:
            kcol = spec.keys[0]
            key = f"COALESCE({ident(kcol)}, '')"
            member_known = f"{key} IN ({known})"
            parts.append(f"SELECT {name}, {ROW}, {list(spec.columns).index(kcol)}, 'V205', "
                         f"{lit(kcol)}, 'rad ' || CAST({ROW} AS VARCHAR) || "
                         f"{lit(', kolumn `' + kcol + '`: okänd mottagare `')} || {key} || '`' "
                         f"FROM {typed} WHERE {ok_sql(spec)} AND NOT ({member_known})")
        if isinstance(spec, TableSpec) and spec.per_villkor:
            vcol = spec.keys[1]
            vkey = f"COALESCE({ident(vcol)}, '')"
            parts.append(f"SELECT {name}, {ROW}, {list(spec.columns).index(vcol)}, 'V205', "
                         f"{lit(vcol)}, 'rad ' || CAST({ROW} AS VARCHAR) || "
                         f"{lit(', kolumn `' + vcol + '`: okänt villkor `')} || {vkey} || '`' "
                         f"FROM {typed} WHERE {ok_sql(spec)} AND {member_known} AND {vkey} NOT IN "
                         f"({villkor_ids(plan)})")
        if isinstance(spec, TableSpec):
            key = ident(spec.keys[0])
            if spec.per_villkor:   # both keys, as the reference writes a key: `k1, k2`
                key = f"COALESCE({key}, '') || ', ' || COALESCE({ident(spec.keys[1])}, '')"
            parts.append(f"SELECT {name}, {ROW}, -1, 'V206', {lit(spec.keys[0])}, 'rad ' || "
                         f"CAST({ROW} AS VARCHAR) || ': `' || {key} || '` finns redan på rad ' || "
                         f"CAST({FIRST} AS VARCHAR) FROM {ident(names.table('bra', spec.name))} "
                         f"WHERE {N} > 1")
    # `§k` (the column's place; -1 the whole row) orders a row's errors as the reference: kept,
    # so the error file can put the malformed rows (read before the plan) among them
    return step("fel", f"SELECT {', '.join(ERROR_COLUMNS)}, {k} FROM ("
                + " UNION ALL ".join(parts) + f") AS e ORDER BY fil, rad, {k}")


