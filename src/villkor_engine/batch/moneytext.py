"""Money as text, in SQL: whole öre as the output's amounts (`577898.50`), exact amounts as
`exakt_belopp` and `exact_text` write them (six decimals, or a reduced fraction), and Swedish
money for notes (`1 050 000 kr`) — each the SQL twin of a function in eval/values.py, so the
column engine writes the reference's characters without a float.
"""

from __future__ import annotations

from .sqltext import lit


def money(ore: str) -> str:
    """Integer öre ≥ 0 → `577898` or `577898.50`."""
    return (f"CASE WHEN ({ore}) % 100 = 0 THEN CAST(({ore}) // 100 AS VARCHAR) ELSE "
            f"CAST(({ore}) // 100 AS VARCHAR) || '.' || LPAD(CAST(({ore}) % 100 AS VARCHAR), 2, "
            f"'0') END")


def exact(q: str, r: str, mikro: str) -> str:
    """The exact amount's size (q öre and r/den of one, `mikro` its millionths of a krona):
    whole öre as money, otherwise 6 decimals half up, zeros stripped."""
    text = (f"CAST({mikro} // 1000000 AS VARCHAR) || '.' || "
            f"LPAD(CAST({mikro} % 1000000 AS VARCHAR), 6, '0')")
    # six decimals always: stripping zeros stops at the point, then the point goes if bare
    stripped = f"TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM {text}))"
    return f"CASE WHEN {r} = 0 THEN {money(q)} ELSE {stripped} END"


MINUS = "−"                      # U+2212, as swedish_money writes a negative amount


def grouped(whole: str) -> str:
    """A whole number ≥ 0 (a column or a small expression over one) in groups of three digits
    separated by spaces, as `f"{n:,}".replace(",", " ")`; below 10^18."""
    groups = []
    for k in range(5, 0, -1):
        lower, upper = 10 ** (3 * k), 10 ** (3 * k + 3)
        groups.append(f"CASE WHEN {whole} >= {upper} THEN LPAD(CAST(({whole} // {lower}) % 1000"
                      f" AS VARCHAR), 3, '0') WHEN {whole} >= {lower} THEN "
                      f"CAST({whole} // {lower} AS VARCHAR) END")
    groups.append(f"CASE WHEN {whole} >= 1000 THEN LPAD(CAST({whole} % 1000 AS VARCHAR), 3, '0') "
                  f"ELSE CAST({whole} AS VARCHAR) END")
    return f"CONCAT_WS(' ', {', '.join(groups)})"


def swedish_money(ore: str) -> str:
    """Integer öre → `1 050 000 kr`, `1 234,50 kr`, `−70 000 kr` (ore: a column, named often)."""
    cents = f"(ABS({ore}) % 100)"
    whole = grouped(f"(ABS({ore}) // 100)")
    return (f"CASE WHEN {ore} < 0 THEN {lit(MINUS)} ELSE '' END || {whole}"
            f" || CASE WHEN {cents} = 0 THEN '' ELSE ',' || "
            f"LPAD(CAST({cents} AS VARCHAR), 2, '0') END || ' kr'")


def signed_money(ore: str) -> str:
    """Integer öre → the output's `-70000`, `1234.50` (write/output.py's money_text)."""
    return f"CASE WHEN {ore} < 0 THEN '-' ELSE '' END || {money(f'ABS({ore})')}"


def money_text(num: str, den: int) -> str:
    """num/den öre as eval/values.py's `swedish_money` writes it: `1 234 kr`, `1 234,50 kr`,
    `−3,33 kr (avrundat för visning)` (num: a column, named often)."""
    d = 100 * den                   # per krona
    whole = f"(ABS({num}) // {d})"
    rest = f"(ABS({num}) % {d})"
    cents = f"((200 * {rest} + {d}) // {2 * d})"
    tail = (f"CASE WHEN {rest} = 0 THEN '' ELSE ',' || CASE WHEN {cents} < 10 THEN '0' ELSE '' "
            f"END || CAST({cents} AS VARCHAR) END || ' kr'")
    if den != 1:
        tail += (f" || CASE WHEN (100 * {rest}) % {d} <> 0 THEN ' (avrundat för visning)' "
                 "ELSE '' END")
    return (f"CASE WHEN {num} < 0 THEN {lit(chr(0x2212))} ELSE '' END || {grouped(whole)} || "
            f"{tail}")


def signed(x: str, text) -> str:
    """`-` and the text of |x| (x a whole number; 0 has no sign)."""
    return f"CASE WHEN {x} < 0 THEN '-' ELSE '' END || {text(f'ABS({x})')}"


def exact_money(num: str, den: int | str) -> str:
    """num/den öre ≥ 0 as the exakt_belopp column writes it (eval/values.py `money_text`);
    `den` a number, or an SQL expression (a column)."""
    q, r = f"({num} // {den})", f"({num} % {den})"
    twice = 2 * den if isinstance(den, int) else f"(2 * {den})"
    mikro = f"({q} * 10000 + (2 * {r} * 10000 + {den}) // {twice})"
    return exact(q, r, mikro)




def fraction_text(num: str, den: str) -> str:
    """num/den (num a whole number, den > 0; SQL) as eval/values.py `exact_text` writes it: a
    terminating decimal, or the reduced fraction with six decimals after `≈`. The caller has
    made sure a terminating one needs at most six places (its denominator divides 10^6), and
    that num and den fit 128 bits (`DIVIDE`: exact division, on Spark too)."""
    g = f"GCD(ABS({num}), {den})"
    n, d = f"DIVIDE(ABS({num}), {g})", f"DIVIDE({den}, {g})"
    places = (f"CASE WHEN {n} % {d} = 0 THEN '' ELSE '.' || RTRIM(LPAD(CAST({n} % {d} * "
              f"(1000000 // {d}) AS VARCHAR), 6, '0'), '0') END")
    decimal = f"CAST({n} // {d} AS VARCHAR) || {places}"
    micro = f"({n} // {d} * 1000000 + (2 * ({n} % {d}) * 1000000 + {d}) // (2 * {d}))"
    six = (f"CAST({micro} // 1000000 AS VARCHAR) || CASE WHEN {micro} % 1000000 = 0 THEN '' "
           f"ELSE '.' || RTRIM(LPAD(CAST({micro} % 1000000 AS VARCHAR), 6, '0'), '0') END")
    minus = f"CASE WHEN {num} < 0 THEN '-' ELSE '' END"
    six_minus = f"CASE WHEN {num} < 0 AND {micro} > 0 THEN '-' ELSE '' END"
    return (f"CASE WHEN 1000000 % {d} = 0 THEN {minus} || {decimal} ELSE {minus} || "
            f"CAST({n} AS VARCHAR) || '/' || CAST({d} AS VARCHAR) || ' (≈ ' || {six_minus} || "
            f"{six} || ')' END")

def decimal(num: str, den: int) -> str:
    """num/den ≥ 0 (den = 2^a·5^b) as a decimal without trailing zeros (values.decimal_text)."""
    places = 0
    while 10 ** places % den:
        places += 1
    if places == 0:
        return f"CAST({num} // {den} AS VARCHAR)"
    scaled = f"({num} * {10 ** places // den})"
    text = (f"CAST({scaled} // {10 ** places} AS VARCHAR) || '.' || "
            f"LPAD(CAST({scaled} % {10 ** places} AS VARCHAR), {places}, '0')")
    return f"TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM {text}))"
