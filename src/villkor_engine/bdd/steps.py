"""Swedish Gherkin steps for testers: load an agreement, edit data, run, and check the outcome.

A tester writes only .feature files (`# language: sv`). Every step works on one `Kontext` per
scenario: the agreement, a private copy of the data in tmp_path (so steps may edit the CSV files
freely), the parameters, the version date and the outcome. A failed check says in Swedish what was
expected, what came out, and the engine's own explanation of the result.

Money in steps is written the Swedish way ("1 386 955 kr", "1 234,50 kr") and compared exactly
as `Fraction`, never as float.

No step assumes one agreement's names. The general steps name the agreement's table and a key
(`i tabellen "utförare"`, `för "612300"`) and take the file and the key column from the loaded
agreement (`tabell NAMN fil "…" per GRUPP nyckel KOLUMN`); the decision steps take their table
from the villkor's `beslut enligt TABELL`, the report-date step its column from `redovisas senast
… enligt TABELL.KOLUMN`, and group steps name the group. The 2020 example's wordings
(`att region "09" svarar …`, `att granskningen beslutat …`, `de övriga regionerna`) are kept as
thin aliases of these, with that agreement's names (`redovisning`, `inkom`, `regioner`).
"""

from __future__ import annotations

import csv
import difflib
import re
import shutil
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, then, when

from .. import api
from ..diagnostics import Diagnostic, render
from ..eval.checks import evaluate_checks
from ..eval.engine import Result, Row
from ..eval.invoices import InvoiceLine
from ..eval.values import VERDICTS, swedish_money
from ..explain import explain_rows
from ..model.model import Model, RecordSpec, TableSpec
from ..pipeline import Loaded, load_agreement, parse_params
from ..syntax import ast

NOT_COMPUTED = 'utfallet är inte beräknat: lägg till steget "När utfallet beräknas"'


# ---- the scenario's state ------------------------------------------------------------------------

@dataclass
class Kontext:
    """What one scenario has set up and what the computation gave."""

    rootdir: Path
    data_dir: Path
    loaded: Loaded | None = None
    params: dict[str, Any] = field(default_factory=dict)
    per: date | None = None
    computed: bool = False
    result: Result | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error_code: str | None = None     # the code the last "misslyckas … med felet" step found
    warning_code: str | None = None   # the code the last "varnar beräkningen med" step found
    dataset: Any = field(default=None, repr=False)   # io.data.Dataset, for the kontroll steps

    @property
    def model(self) -> Model:
        if self.loaded is None or self.loaded.model is None:
            raise AssertionError('ingen överenskommelse är laddad: börja med '
                                 'Givet överenskommelsen "SÖKVÄG"')
        return self.loaded.model


@pytest.fixture
def villkor_kontext(request: pytest.FixtureRequest, tmp_path: Path) -> Kontext:
    """A fresh scenario state; the data directory lives in tmp_path so edits never leak."""
    data = tmp_path / "data"
    data.mkdir()
    return Kontext(Path(request.config.rootpath), data)


# Parsing the agreement takes a noticeable moment; scenarios share it while the file is unchanged.
_LOADED: dict[tuple[Path, int, int], Loaded] = {}


def _load(path: Path) -> Loaded:
    st = path.stat()
    key = (path.resolve(), st.st_mtime_ns, st.st_size)
    if key not in _LOADED:
        _LOADED[key] = load_agreement(path)
    return _LOADED[key]


# ---- small helpers -------------------------------------------------------------------------------

def _path(k: Kontext, text: str) -> Path:
    """A path as the tester wrote it: absolute, or relative to the pytest rootdir."""
    p = Path(text)
    p = p if p.is_absolute() else k.rootdir / p
    if not p.exists():
        raise AssertionError(f"`{text}` finns inte (sökte {p})")
    return p


def _money(text: str) -> Fraction:
    """'1 386 955 kr', '1 234,50 kr', '0 kr', '−21 kr' → an exact Fraction."""
    t = text.strip().replace("\u00a0", " ").replace("\u202f", " ").replace("−", "-")
    t = t.removesuffix("kronor").removesuffix("kr").strip()
    if not re.fullmatch(r"-?\d{1,3}(?: \d{3})*(?:,\d+)?|-?\d+(?:,\d+)?", t):
        raise AssertionError(f"`{text}` är inget belopp; skriv t.ex. \"577 898 kr\" eller "
                             "\"1 234,50 kr\"")
    return Fraction(t.replace(" ", "").replace(",", "."))


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise AssertionError(f"`{text}` är inget datum; skriv ÅÅÅÅ-MM-DD") from None


def _verdict(text: str) -> str:
    if text not in VERDICTS:
        raise AssertionError(f"`{text}` är inget utfall; utfallen är: " +
                             ", ".join(f'"{v}"' for v in VERDICTS))
    return text


def _diag_text(diags: list[Diagnostic]) -> str:
    """Rendered like the CLI, with the line of the file each diagnostic names (agreement or CSV)."""
    return "\n".join(render(d, _source(d)) for d in diags) or "(inga)"


def _source(d: Diagnostic) -> str | None:
    try:
        return Path(d.span.file).read_text(encoding="utf-8-sig") if d.span else None
    except (OSError, UnicodeDecodeError):
        return None


def _result(k: Kontext) -> Result:
    """The outcome; a missing or failed computation is itself a failure with the errors shown."""
    if not k.computed:
        raise AssertionError(NOT_COMPUTED)
    if k.result is None:
        raise AssertionError("beräkningen gav inget utfall. Felen:\n" +
                             _diag_text(k.diagnostics))
    return k.result


def _row(k: Kontext, code: str, vid: str) -> Row:
    result = _result(k)
    for r in result.rows:
        if r.recipient.code == code and r.villkor == vid:
            return r
    known = sorted({r.recipient.code for r in result.rows})
    theirs = [r.villkor for r in result.rows if r.recipient.code == code]
    raise AssertionError(f"det finns ingen rad för mottagare {code} och villkor {vid}. " +
                         (f"Mottagare {code} har villkor: {', '.join(theirs)}" if theirs else
                          f"Mottagarna är: {', '.join(known)}"))


def _explain(k: Kontext, rows: list[Row]) -> str:
    return explain_rows(k.model, _result(k), rows)


def _fail(expected: str, got: str, k: Kontext, rows: list[Row]) -> AssertionError:
    """The one shape of every failed check: expected, got, and why (the explanation)."""
    return AssertionError(f"Förväntat: {expected}\nFick:      {got}\n\nFörklaring:\n" +
                          _explain(k, rows))


def _kr(x: Fraction | None) -> str:
    return "inget belopp" if x is None else swedish_money(x)


# ---- CSV editing (csv module, UTF-8; the other rows are kept as they are) ------------------------

def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _set_cell(k: Kontext, file: str, code: str, column: str, value: str) -> None:
    """Set one cell in the row whose first column (the key, e.g. lanskod) is `code`."""
    path = k.data_dir / file
    if not path.is_file():
        raise AssertionError(f"filen {file} finns inte i datamappen; ladda exempeldata först")
    header, rows = _read_csv(path)
    if column not in header:
        raise AssertionError(f"{file} har ingen kolumn `{column}`; kolumnerna är: "
                             + ", ".join(header))
    hits = [r for r in rows if r[header[0]] == code]
    if not hits:
        raise AssertionError(f"{file} har ingen rad med {header[0]} {code}")
    for r in hits:
        r[column] = value
    _write_csv(path, header, rows)


def _write_table(k: Kontext, file: str, datatable: list[list[str]]) -> None:
    if not datatable:
        raise AssertionError(f"tabellen för {file} är tom; första raden ska vara rubrikerna")
    with (k.data_dir / file).open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(datatable)


# ---- Givet: the agreement, the data, the parameters ----------------------------------------------

@given(parsers.parse('överenskommelsen "{path}"'))
def given_agreement(villkor_kontext: Kontext, path: str) -> None:
    """Loads and checks the agreement; a file that does not check stops here with its errors."""
    loaded = _load(_path(villkor_kontext, path))
    villkor_kontext.loaded = loaded
    if not loaded.ok:
        raise AssertionError(f"överenskommelsen {path} innehåller fel:\n" +
                             _diag_text(sorted(loaded.diagnostics, key=lambda d: not d.is_error)))


@given(parsers.parse('exempeldata från "{folder}"'))
def given_example_data(villkor_kontext: Kontext, folder: str) -> None:
    """Copies every file of the folder into the scenario's own data directory."""
    src = _path(villkor_kontext, folder)
    if not src.is_dir():
        raise AssertionError(f"`{folder}` är ingen mapp")
    shutil.copytree(src, villkor_kontext.data_dir, dirs_exist_ok=True)


@given("följande befolkning:")
def given_population(villkor_kontext: Kontext, datatable: list[list[str]]) -> None:
    """The 2020 wording of `tabellen "befolkning" med:` (columns lanskod, region, befolkning)."""
    given_table_file(villkor_kontext, "befolkning", datatable)


@given(parsers.parse('filen "{file}" med:'))
def given_file(villkor_kontext: Kontext, file: str, datatable: list[list[str]]) -> None:
    """Any CSV file in the data directory; the table's first row is the header."""
    _write_table(villkor_kontext, file, datatable)


@given(parsers.parse('att filen "{file}" saknas'))
def given_no_file(villkor_kontext: Kontext, file: str) -> None:
    """Removes the file from the scenario's data directory (a missing optional table)."""
    (villkor_kontext.data_dir / file).unlink(missing_ok=True)


@given(parsers.parse('att kolumnen "{column}" för "{code}" i filen "{file}" är "{value}"'))
def given_cell(villkor_kontext: Kontext, column: str, code: str, file: str, value: str) -> None:
    """The general edit: one cell in the row keyed by the file's first column."""
    _set_cell(villkor_kontext, file, code, column, value)


def _existing(k: Kontext, file: str) -> Path:
    path = k.data_dir / file
    if not path.is_file():
        raise AssertionError(f"filen {file} finns inte i datamappen; ladda exempeldata först "
                             f'eller skriv den med Givet filen "{file}" med:')
    return path


def _line_number(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 2:
        raise AssertionError(f"`{text}` är inget radnummer för en datarad; rubrikraden är rad 1, "
                             "den första dataraden rad 2")
    return int(text)


def _read_csv_lines(path: Path) -> tuple[list[str], list[dict[str, str]], list[int]]:
    """Like _read_csv, with the file's own line number of each row (the header is line 1)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        rows, lines, last = [], [], reader.line_num
        for row in reader:
            rows.append(row)
            lines.append(last + 1)
            last = reader.line_num
    return header, rows, lines


@given(parsers.parse('att kolumnen "{column}" för "{code}" i filen "{file}" är tom'))
def given_cell_blank(villkor_kontext: Kontext, column: str, code: str, file: str) -> None:
    """Empties one cell in the row keyed by the file's first column: tomt är inte nej."""
    _set_cell(villkor_kontext, file, code, column, "")


@given(parsers.re(r'att kolumnen "(?P<column>[^"]+)" på rad "(?P<line>[^"]+)" i filen '
                  r'"(?P<file>[^"]+)" (?:är "(?P<value>[^"]*)"|är tom)'))
def given_cell_on_line(villkor_kontext: Kontext, column: str, line: str, file: str,
                       value: str | None) -> None:
    """One cell in the row on a given line of the file (rubrikraden är rad 1), as the engine's
    messages and the invoice steps count lines; for files whose first column is not unique.
    `är ""` and `är tom` both empty the cell."""
    value = value or ""
    path = _existing(villkor_kontext, file)
    header, rows, lines = _read_csv_lines(path)
    if column not in header:
        raise AssertionError(f"{file} har ingen kolumn `{column}`; kolumnerna är: "
                             + ", ".join(header))
    n = _line_number(line)
    if n not in lines:
        raise AssertionError(f"{file} har ingen datarad på rad {n}; dataraderna är rad "
                             f"{lines[0] if lines else '–'}–{lines[-1] if lines else '–'}")
    rows[lines.index(n)][column] = value
    _write_csv(path, header, rows)


@given(parsers.parse('att raden för "{code}" i filen "{file}" tas bort'))
def given_row_removed(villkor_kontext: Kontext, code: str, file: str) -> None:
    """Removes every row whose first column (the key) is `code`. If no row has it there, the
    value is looked up in the other columns; it must then occur in exactly one column (e.g. the
    series "S028" in vega.csv), and the rows with it there are removed."""
    path = _existing(villkor_kontext, file)
    header, rows = _read_csv(path)
    column = header[0] if header else ""
    if not any(r.get(column) == code for r in rows):
        columns = [c for c in header if any(r.get(c) == code for r in rows)]
        if not columns:
            raise AssertionError(f"{file} har ingen rad med {code} (varken i {column} eller "
                                 "någon annan kolumn)")
        if len(columns) > 1:
            raise AssertionError(f"{code} finns i flera kolumner i {file} ("
                                 + ", ".join(columns) + "); välj raden med ett entydigt värde")
        column = columns[0]
    _write_csv(path, header, [r for r in rows if r.get(column) != code])


def _append(k: Kontext, file: str, datatable: list[list[str]], times: int) -> None:
    path = _existing(k, file)
    if len(datatable) < 2:
        raise AssertionError(f"tabellen för {file} ska ha en rubrikrad och minst en rad")
    header, rows = _read_csv(path)
    wanted = [c.strip() for c in datatable[0]]
    unknown = [c for c in wanted if c not in header]
    if unknown:
        raise AssertionError(f"{file} har ingen kolumn " + ", ".join(f"`{c}`" for c in unknown)
                             + "; kolumnerna är: " + ", ".join(header))
    new = [{h: "" for h in header} | dict(zip(wanted, cells)) for cells in datatable[1:]]
    _write_csv(path, header, rows + new * times)


@given(parsers.parse('följande rader läggs till i filen "{file}":'))
def given_rows_added(villkor_kontext: Kontext, file: str, datatable: list[list[str]]) -> None:
    """Appends the table's rows after the file's own; columns the table leaves out are blank."""
    _append(villkor_kontext, file, datatable, 1)


@given(parsers.parse('följande rader läggs till "{times}" gånger i filen "{file}":'))
def given_rows_added_times(villkor_kontext: Kontext, times: str, file: str,
                           datatable: list[list[str]]) -> None:
    """As above, the table's rows repeated: for large data sets such as 699 of 1 000 intyg."""
    if not times.strip().isdigit():
        raise AssertionError(f"`{times}` är inget antal; skriv t.ex. \"699\"")
    _append(villkor_kontext, file, datatable, int(times))


# ---- Givet: the agreement's own tables, by name (file and key from the agreement) ----------------

def _table(k: Kontext, name: str) -> TableSpec | RecordSpec:
    """The agreement's table `name` (`tabell NAMN fil "…" …`), keyed or of records."""
    model = k.model
    spec = model.tables.get(name) or model.records.get(name)
    if spec is None:
        names = sorted([*model.tables, *model.records])
        close = difflib.get_close_matches(name, names, 1)
        raise AssertionError(f'överenskommelsen har ingen tabell "{name}"'
                             + (f'; menade du "{close[0]}"?' if close else "")
                             + " Tabellerna är: " + (", ".join(names) or "inga"))
    return spec


def _table_path(k: Kontext, spec: TableSpec | RecordSpec, must_exist: bool = True) -> Path:
    if Path(spec.file).suffix.lower() != ".csv":
        raise AssertionError(f'tabellen "{spec.name}" läses från {spec.file}; stegen kan bara '
                             "ändra .csv-filer")
    path = k.data_dir / spec.file
    if must_exist and not path.is_file():
        raise AssertionError(f'filen {spec.file} (tabellen "{spec.name}") finns inte i '
                             "datamappen; ladda exempeldata först eller skriv den med "
                             f'Givet tabellen "{spec.name}" med:')
    return path


def _keyed(spec: TableSpec | RecordSpec, wording: str) -> TableSpec:
    if isinstance(spec, RecordSpec):
        raise AssertionError(  # noqa: TRY004 - a tester's mistake, reported as a failed step
            f'tabellen "{spec.name}" har poster utan nyckel, så "{wording}" '
            "kan inte välja en rad; ändra en post med "
            f'Givet att kolumnen "…" på rad "…" i filen "{spec.file}" är "…"')
    return spec


def _key_test(spec: TableSpec, key: str, vid: str | None):
    """Which rows the key (and, in a table per recipient and villkor, the villkor) selects."""
    if spec.per_villkor and vid is None:
        raise AssertionError(f'tabellen "{spec.name}" har en rad per mottagare och villkor '
                             f'({", ".join(spec.keys)}): skriv för "{key}" och villkor "…"')
    if not spec.per_villkor and vid is not None:
        raise AssertionError(f'tabellen "{spec.name}" har en rad per mottagare '
                             f'({spec.keys[0]}), inte per villkor: skriv bara för "{key}"')
    rkey = spec.keys[0]
    vkey = spec.keys[1] if spec.per_villkor else None
    return lambda r: r.get(rkey) == key and (vkey is None or r.get(vkey) == vid)


def _key_text(spec: TableSpec, key: str, vid: str | None) -> str:
    return f"{spec.keys[0]} {key}" + (f" och {spec.keys[1]} {vid}" if vid is not None else "")


def _column(spec: TableSpec | RecordSpec, header: list[str], rows: list[dict[str, str]],
            column: str) -> None:
    """The column must be the table's; one the file leaves out (`valfri`) is added, blank."""
    if column in header:
        return
    if column not in spec.columns:
        close = difflib.get_close_matches(column, list(spec.columns), 1)
        raise AssertionError(f'tabellen "{spec.name}" har ingen kolumn "{column}"'
                             + (f'; menade du "{close[0]}"?' if close else "")
                             + " Kolumnerna är: " + ", ".join(spec.columns))
    header.append(column)
    for r in rows:
        r[column] = ""


def _set_table_cell(k: Kontext, table: str, key: str, column: str, value: str,
                    vid: str | None = None) -> None:
    """One cell of the row the table's key (`nyckel`) selects, in the file the table names."""
    wording = f'för "{key}" i tabellen "{table}"'
    spec = _keyed(_table(k, table), wording)
    select = _key_test(spec, key, vid)
    path = _table_path(k, spec)
    header, rows = _read_csv(path)
    _column(spec, header, rows, column)
    hits = [r for r in rows if select(r)]
    if not hits:
        keys = sorted({r.get(spec.keys[0], "") for r in rows})
        raise AssertionError(f'{spec.file} (tabellen "{table}") har ingen rad med '
                             f"{_key_text(spec, key, vid)}; {spec.keys[0]} är: "
                             + (", ".join(keys[:25]) + (" …" if len(keys) > 25 else "")
                                if keys else "(inga rader)"))
    for r in hits:
        r[column] = value
    _write_csv(path, header, rows)


_TABLE_CELL = (r'att (?:kolumnen )?"(?P<column>[^"]+)" för "(?P<key>[^"]+)"'
               r'(?: och villkor "(?P<vid>[^"]+)")? i tabellen "(?P<table>[^"]+)" ')


@given(parsers.re(_TABLE_CELL + r'är "(?P<value>[^"]*)"'))
def given_table_cell(villkor_kontext: Kontext, column: str, key: str, vid: str | None,
                     table: str, value: str) -> None:
    """One cell in the row of the agreement's table `table` whose key column (`nyckel`, e.g.
    lanskod or enhetskod) is `key`; the file and the key come from the agreement. In a table per
    recipient and villkor, `för "09" och villkor "2"` names the row. A column the table declares
    but the file leaves out is added."""
    _set_table_cell(villkor_kontext, table, key, column, value, vid)


@given(parsers.re(_TABLE_CELL + r"är tom"))
def given_table_cell_blank(villkor_kontext: Kontext, column: str, key: str, vid: str | None,
                           table: str) -> None:
    """Empties one cell of the row the table's key selects: tomt är inte nej."""
    _set_table_cell(villkor_kontext, table, key, column, "", vid)


@given(parsers.parse('tabellen "{table}" med:'))
def given_table_file(villkor_kontext: Kontext, table: str, datatable: list[list[str]]) -> None:
    """Writes the file of the agreement's table `table` (its `fil "…"`); the first row of the
    Gherkin table is the header."""
    spec = _table(villkor_kontext, table)
    _table_path(villkor_kontext, spec, must_exist=False)
    _write_table(villkor_kontext, spec.file, datatable)


@given(parsers.re(r'att (?:raden|raderna) för "(?P<key>[^"]+)"(?: och villkor "(?P<vid>[^"]+)")?'
                  r' i tabellen "(?P<table>[^"]+)" tas bort'))
def given_table_rows_removed(villkor_kontext: Kontext, key: str, vid: str | None,
                             table: str) -> None:
    """Removes the row the table's key selects; in a table of records (`poster`), every record
    of that recipient (the column that links the records to their recipients)."""
    spec = _table(villkor_kontext, table)
    path = _table_path(villkor_kontext, spec)
    header, rows = _read_csv(path)
    if isinstance(spec, RecordSpec):
        links = sorted(set(spec.links.values()))
        if vid is not None:
            raise AssertionError(f'tabellen "{table}" har poster, inte en rad per villkor: '
                                 f'skriv bara för "{key}"')
        if not links:
            raise AssertionError(f'tabellen "{table}" har poster som inte hör till någon '
                                 "mottagare (ingen `per GRUPP via KOLUMN`); ta bort en post med "
                                 f'Givet att raden för "…" i filen "{spec.file}" tas bort')
        def select(r: dict[str, str]) -> bool:
            return any(r.get(c) == key for c in links)

        what = " eller ".join(f"{c} {key}" for c in links)
    else:
        select = _key_test(spec, key, vid)
        what = _key_text(spec, key, vid)
    kept = [r for r in rows if not select(r)]
    if len(kept) == len(rows):
        raise AssertionError(f'{spec.file} (tabellen "{table}") har ingen rad med {what}')
    _write_csv(path, header, kept)


def _villkor(k: Kontext, vid: str) -> ast.Villkor:
    """The villkor as in force on the scenario's date (`Givet versionen som gäller`), else as
    the file last writes it."""
    v = k.model.version_at(k.per).villkor.get(vid)
    if v is None:
        found = [x for x in k.model.all_items() if isinstance(x, ast.Villkor) and x.vid == vid]
        v = found[-1] if found else None
    if v is None:
        ids = sorted({x.vid for x in k.model.all_items() if isinstance(x, ast.Villkor)})
        raise AssertionError(f'överenskommelsen har inget villkor "{vid}"; villkoren är: '
                             + (", ".join(ids) or "inga"))
    return v


def _decision_table(k: Kontext, vid: str) -> TableSpec:
    """The table of decisions the villkor names: `beslut enligt TABELL`."""
    v = _villkor(k, vid)
    if v.review is None:
        raise AssertionError(f'villkor {vid} har inget "beslut enligt TABELL", så det finns inga '
                             "beslut att skriva eller ta bort för det")
    return _keyed(_table(k, v.review.table), f'beslutet för villkor "{vid}"')


def _decision_tables(k: Kontext) -> list[TableSpec]:
    names = dict.fromkeys(x.review.table for x in k.model.all_items()
                          if isinstance(x, ast.Villkor) and x.review is not None)
    if not names:
        raise AssertionError('överenskommelsen har inga beslut: inget villkor har '
                             '"beslut enligt TABELL"')
    return [_keyed(_table(k, n), "beslut") for n in names]


def _decide(k: Kontext, code: str, vid: str, beslut: str, begard: str | None) -> None:
    spec = _decision_table(k, vid)
    rkey, vkey = spec.keys[0], spec.keys[1]
    path = _table_path(k, spec, must_exist=False)
    header, rows = _read_csv(path) if path.is_file() else ([], [])
    header += [c for c in spec.columns if c not in header]
    if begard and "begard" not in header:
        raise AssertionError(f'tabellen "{spec.name}" har ingen kolumn "begard" för datumet då '
                             "komplettering begärdes")
    row = next((r for r in rows if r.get(rkey) == code and r.get(vkey) == vid), None)
    if row is None:
        row = {h: "" for h in header} | {rkey: code, vkey: vid}
        rows.append(row)
    row["beslut"] = beslut
    if "begard" in header:
        row["begard"] = _date(begard).isoformat() if begard else ""
    _write_csv(path, header, rows)


def _withdraw(k: Kontext, code: str | None, vid: str | None) -> None:
    """Removes decisions: all, one recipient's, one villkor's, or one recipient's for one
    villkor, from the tables the villkor name in `beslut enligt`."""
    tables = [_decision_table(k, vid)] if vid is not None else _decision_tables(k)
    for spec in tables:
        path = _table_path(k, spec, must_exist=False)
        if not path.is_file():
            continue
        if code is None and vid is None and spec.optional:
            path.unlink()
            continue
        rkey, vkey = spec.keys[0], spec.keys[1]
        header, rows = _read_csv(path)
        _write_csv(path, header, [r for r in rows if not ((code is None or r.get(rkey) == code)
                                                          and (vid is None or r.get(vkey) == vid))])


@given(parsers.re(r'att beslutet för "(?P<code>[^"]+)" och villkor "(?P<vid>[^"]+)" är '
                  r'"(?P<beslut>[^"]+)"(?: med komplettering begärd "(?P<begard>[^"]+)")?'))
def given_decision(villkor_kontext: Kontext, code: str, vid: str, beslut: str,
                   begard: str | None) -> None:
    """Writes or updates the recipient's row for the villkor in the table the villkor names in
    `beslut enligt TABELL` (file, key columns and columns from the agreement); other rows are
    kept. `med komplettering begärd "ÅÅÅÅ-MM-DD"` fills `begard`. The decision is written as
    given, so a bad one can be tested too."""
    _decide(villkor_kontext, code, vid, beslut, begard)


@given(parsers.re(r'att det inte finns något beslut(?: för (?:"(?P<code>[^"]+)"'
                  r'(?: och villkor "(?P<vid>[^"]+)")?|villkor "(?P<vid_only>[^"]+)"))?'))
def given_no_decision(villkor_kontext: Kontext, code: str | None, vid: str | None,
                      vid_only: str | None) -> None:
    """No decisions (`beslut enligt`): at all, for one recipient (`för "09"`), for one villkor
    (`för villkor "2"`) or for one recipient and villkor (`för "09" och villkor "2"`). A villkor
    the answers alone fulfil is then `bedömning krävs`: a person decides."""
    _withdraw(villkor_kontext, code, vid or vid_only)


@given(parsers.parse('att redovisningen för villkor "{vid}" från "{code}" kom in "{day}"'))
def given_report_received(villkor_kontext: Kontext, vid: str, code: str, day: str) -> None:
    """Sets the date the villkor's report came in: the column its `redovisas senast … enligt
    TABELL.KOLUMN` names, in that table's row for the recipient."""
    k = villkor_kontext
    v = _villkor(k, vid)
    if v.report_due is None:
        raise AssertionError(f'villkor {vid} har ingen frist ("redovisas senast … enligt '
                             'TABELL.KOLUMN"), så det finns inget inkomstdatum att ändra')
    spec = _table(k, v.report_due.table)
    per_villkor = isinstance(spec, TableSpec) and spec.per_villkor
    _set_table_cell(k, v.report_due.table, code, v.report_due.column, _date(day).isoformat(),
                    vid if per_villkor else None)


# ---- Givet: the 2020 example's wordings (thin aliases of the steps above) ------------------------

@given(parsers.parse('att region "{code}" svarar "{answer}" på fråga "{question}"'))
def given_answer(villkor_kontext: Kontext, code: str, answer: str, question: str) -> None:
    """The answer is written as given, so a bad answer ("kanske") can be tested too. The 2020
    wording of `att kolumnen "FRÅGA" för "KOD" i tabellen "redovisning" är "SVAR"`."""
    _set_table_cell(villkor_kontext, "redovisning", code, question, answer)


@given(parsers.parse('att region "{code}" lämnar fråga "{question}" obesvarad'))
def given_unanswered(villkor_kontext: Kontext, code: str, question: str) -> None:
    """`att kolumnen "FRÅGA" för "KOD" i tabellen "redovisning" är tom`."""
    _set_table_cell(villkor_kontext, "redovisning", code, question, "")


@given(parsers.parse('att region "{code}" lämnar beskrivningen "{question}" tom'))
def given_no_description(villkor_kontext: Kontext, code: str, question: str) -> None:
    """`att kolumnen "FRÅGA" för "KOD" i tabellen "redovisning" är tom`."""
    _set_table_cell(villkor_kontext, "redovisning", code, question, "")


@given(parsers.parse('att redovisningen från region "{code}" kom in "{day}"'))
def given_received(villkor_kontext: Kontext, code: str, day: str) -> None:
    """`att kolumnen "inkom" för "KOD" i tabellen "redovisning" är "DATUM"`."""
    _set_table_cell(villkor_kontext, "redovisning", code, "inkom", _date(day).isoformat())


@given(parsers.re(r'att granskningen beslutat "(?P<beslut>[^"]+)" för region "(?P<code>[^"]+)" '
                  r'och villkor "(?P<vid>[^"]+)"'
                  r'(?: med komplettering begärd "(?P<begard>[^"]+)")?'))
def given_review(villkor_kontext: Kontext, beslut: str, code: str, vid: str,
                 begard: str | None) -> None:
    """`att beslutet för "KOD" och villkor "V" är "BESLUT"` (the table from `beslut enligt`)."""
    _decide(villkor_kontext, code, vid, beslut, begard)


@given("att granskningen inte har beslutat något")
def given_no_review(villkor_kontext: Kontext) -> None:
    """`att det inte finns något beslut`: a villkor the answers alone fulfil is then
    `bedömning krävs` (the reviewers decide), one they do not fulfil stays as the answers give
    it."""
    _withdraw(villkor_kontext, None, None)


@given(parsers.re(r'att granskningen inte har beslutat något för region "(?P<code>[^"]+)"'
                  r'(?: och villkor "(?P<vid>[^"]+)")?'))
def given_no_review_for(villkor_kontext: Kontext, code: str, vid: str | None) -> None:
    """`att det inte finns något beslut för "KOD" [och villkor "V"]`: withdraws one region's
    decisions (all, or one villkor's), so the scenario sees what that region's answers alone
    give; the other decisions stay."""
    _withdraw(villkor_kontext, code, vid)


@given(parsers.re(r'(?:att )?parametern "(?P<name>[^"]+)" är "(?P<value>[^"]*)"'))
def given_param(villkor_kontext: Kontext, name: str, value: str) -> None:
    """Parsed by the parameter's declared type, as `--param NAMN=VÄRDE` is."""
    model = villkor_kontext.model
    values, diags = parse_params(model, [f"{name}={value}"])
    if diags and value.strip().endswith(" kr"):
        values, diags = parse_params(model, [f"{name}={value.strip()[:-3]}"])
    if diags:
        raise AssertionError(f"parametern {name} = \"{value}\" går inte att använda:\n" +
                             _diag_text(diags))
    villkor_kontext.params.update(values)


@given(parsers.parse('versionen som gäller "{day}"'))
def given_version(villkor_kontext: Kontext, day: str) -> None:
    """The --per date: which version of the agreement is in force."""
    villkor_kontext.per = _date(day)


# ---- När -----------------------------------------------------------------------------------------

@when("utfallet beräknas")
def when_computed(villkor_kontext: Kontext) -> None:
    """Runs the pipeline; errors in the data are kept for the `misslyckas` steps, not raised."""
    k = villkor_kontext
    file = str(k.model.file)   # the Swedish error when no agreement is loaded
    assert k.loaded is not None   # k.model has just checked it
    outcome = api.run(api.checked(k.loaded, file), k.data_dir, None, k.params,
                      k.per, engine="referens")
    k.result, k.dataset, k.diagnostics = outcome.result, outcome.dataset, \
        list(outcome.diagnostics)
    k.computed = True


# ---- Så: verdicts and amounts --------------------------------------------------------------------

@then(parsers.parse('är utfallet för mottagare "{code}" och villkor "{vid}" "{verdict}"'))
def then_verdict(villkor_kontext: Kontext, code: str, vid: str, verdict: str) -> None:
    """The verdict of the recipient's row for the villkor (or payment `utan villkor`, or
    avstämning)."""
    row = _row(villkor_kontext, code, vid)
    if row.verdict.value != _verdict(verdict):
        raise _fail(f'utfallet för mottagare {code} och villkor {vid} är "{verdict}"',
                    f'"{row.verdict.value}"', villkor_kontext, [row])


@then(parsers.parse('får mottagare "{code}" för villkor "{vid}" "{amount}"'))
def then_amount(villkor_kontext: Kontext, code: str, vid: str, amount: str) -> None:
    """The paid (rounded) amount; villkor "summa" is the recipient's total."""
    expected = _money(amount)
    row = _row(villkor_kontext, code, vid)
    if row.amount != expected:
        raise _fail(f"mottagare {code} får {swedish_money(expected)} för villkor {vid}",
                    f"{_kr(row.amount)} ({row.verdict.value})", villkor_kontext, [row])


@then(parsers.parse('får mottagare "{code}" totalt "{amount}"'))
def then_total(villkor_kontext: Kontext, code: str, amount: str) -> None:
    """The recipient's `summa` row: the rounded amounts added up."""
    then_amount(villkor_kontext, code, "summa", amount)


@then(parsers.parse('saknar mottagare "{code}" belopp för villkor "{vid}"'))
def then_no_amount(villkor_kontext: Kontext, code: str, vid: str) -> None:
    """No amount at all — not 0 kr: the outcome is open."""
    row = _row(villkor_kontext, code, vid)
    if row.amount is not None:
        raise _fail(f"mottagare {code} har inget belopp för villkor {vid}",
                    f"{_kr(row.amount)} ({row.verdict.value})", villkor_kontext, [row])


@then(parsers.re(r'har alla (?:regioner|i mottagargruppen "(?P<group>[^"]+)") utfallet '
                 r'"(?P<verdict>[^"]+)" för villkor "(?P<vid>[^"]+)"'))
def then_all(villkor_kontext: Kontext, group: str | None, verdict: str, vid: str) -> None:
    """Every member of the group (`regioner` in the 2020 wording) that has the villkor has the
    verdict."""
    group = group or "regioner"
    rows = [r for r in _result(villkor_kontext).rows
            if r.recipient.group == group and r.villkor == vid]
    if not rows:
        raise AssertionError(f"ingen i mottagargruppen {group} har villkor {vid}")
    other = [r for r in rows if r.verdict.value != _verdict(verdict)]
    if other:
        got = ", ".join(f"{r.recipient.code} {r.verdict.value}" for r in other)
        raise _fail(f'alla {len(rows)} i {group} har "{verdict}" för villkor {vid}',
                    f"{len(other)} har något annat: {got}", villkor_kontext, other[:1])


# ---- Så: pots ------------------------------------------------------------------------------------

def _pots(k: Kontext, vid: str):
    return [p for p in _result(k).pots if p.villkor == vid and p.pot is not None]


def _pot_text(k: Kontext, vid: str) -> str:
    return "; ".join(f"{p.payment.name}: pott {_kr(p.pot)}, exakt {_kr(p.exact_total)}, "
                     f"utbetalt {_kr(p.paid_total)}" for p in _pots(k, vid)) or "ingen pott"


@then(parsers.parse('fördelas "{pot}" för villkor "{vid}" med en avrundningsdifferens på högst '
                    '"{diff}"'))
def then_pot(villkor_kontext: Kontext, pot: str, vid: str, diff: str) -> None:
    """The whole pot is shared exactly; only rounding each share may move the paid total."""
    expected, limit = _money(pot), abs(_money(diff))
    hits = [p for p in _pots(villkor_kontext, vid) if p.pot == expected]
    if not hits:
        raise AssertionError(f"Förväntat: en pott på {swedish_money(expected)} för villkor "
                             f"{vid}\nFick:      {_pot_text(villkor_kontext, vid)}")
    for p in hits:
        notes = "\n".join(p.notes)
        if p.exact_total != expected:
            raise AssertionError(f"Förväntat: {swedish_money(expected)} fördelas exakt för "
                                 f"villkor {vid}\nFick:      exakt {_kr(p.exact_total)} "
                                 f"({p.payment.name})\n{notes}")
        if abs(p.rounding_difference) > limit:
            raise AssertionError(f"Förväntat: avrundningsdifferens högst {swedish_money(limit)} "
                                 f"för villkor {vid}\nFick:      "
                                 f"{swedish_money(p.rounding_difference)} (utbetalt "
                                 f"{_kr(p.paid_total)}, {p.payment.name})\n{notes}")


@then(parsers.parse('delar de övriga i mottagargruppen "{group}" på hela potten för villkor '
                    '"{vid}"'))
def then_others_share_in(villkor_kontext: Kontext, group: str, vid: str) -> None:
    """Those of the group left with `uppfyllt` share the villkor's whole pot: their exact
    amounts add up to it (the pot must be shared in that group)."""
    k = villkor_kontext
    if group not in k.model.groups:
        raise AssertionError(f'överenskommelsen har ingen mottagargrupp "{group}"; grupperna är: '
                             + ", ".join(k.model.groups))
    pots = [p for p in _pots(k, vid) if isinstance(p.payment.rule, ast.Pot)]
    if len(pots) != 1:
        raise AssertionError(f"villkor {vid} ska ha en pott som delas; fick: {_pot_text(k, vid)}")
    if pots[0].payment.rule.group != group:
        raise AssertionError(f"potten för villkor {vid} ({pots[0].payment.name}) delas i "
                             f'mottagargruppen "{pots[0].payment.rule.group}", inte "{group}"')
    rows = [r for r in _result(k).rows if r.recipient.group == group and r.villkor == vid
            and r.verdict.value == "uppfyllt"]
    total = sum((r.exact for r in rows if r.exact is not None), Fraction(0))
    if not rows or total != pots[0].pot:
        out = [r for r in _result(k).rows if r.recipient.group == group
               and r.villkor == vid and r.verdict.value != "uppfyllt"]
        raise _fail(f"de {len(rows)} i mottagargruppen {group} med \"uppfyllt\" delar exakt på "
                    f"{_kr(pots[0].pot)} för villkor {vid}",
                    f"exakt summa {swedish_money(total)}", k, out[:1] or rows[:1])


@then(parsers.parse('delar de övriga regionerna på hela potten för villkor "{vid}"'))
def then_others_share(villkor_kontext: Kontext, vid: str) -> None:
    """The 2020 wording of `delar de övriga i mottagargruppen "regioner" på hela potten …`."""
    then_others_share_in(villkor_kontext, "regioner", vid)


# ---- Så: errors ----------------------------------------------------------------------------------

@then("lyckas beräkningen")
def then_succeeds(villkor_kontext: Kontext) -> None:
    """The run gave a result and no errors: no bad row either (warnings are allowed)."""
    _result(villkor_kontext)
    errors = [d for d in villkor_kontext.diagnostics if d.is_error]
    if errors:
        raise AssertionError("beräkningen gav ett utfall men också fel:\n" + _diag_text(errors))


@then(parsers.parse('misslyckas beräkningen med felet "{code}"'))
def then_fails(villkor_kontext: Kontext, code: str) -> None:
    """The run gives this error: it stops (a file that cannot be used, a kontroll that does not
    hold), or a bad row (V204, V205, V206, V209) is left out while the other rows get their
    results; either way the exit code is 1. `Och felet nämner "…"` may follow."""
    k = villkor_kontext
    if not k.computed:
        raise AssertionError(NOT_COMPUTED)
    errors = [d for d in k.diagnostics if d.is_error]
    if not any(d.code == code for d in errors):
        got = "beräkningen lyckades" if not errors else "andra fel"
        raise AssertionError(f"Förväntat: beräkningen misslyckas med felet {code}\n"
                             f"Fick:      {got}. Meddelanden:\n" + _diag_text(k.diagnostics))
    k.error_code = code


@then(parsers.parse('felet nämner "{text}"'))
def then_error_mentions(villkor_kontext: Kontext, text: str) -> None:
    """Searches the message, the place (file:rad:kolumn) and the hint of the error found."""
    k = villkor_kontext
    if k.error_code is None:
        raise AssertionError('säg först vilket fel: "Så misslyckas beräkningen med felet KOD"')
    _mentions([d for d in k.diagnostics if d.code == k.error_code], text,
              f"felet {k.error_code}")


def _mentions(diags: list[Diagnostic], text: str, what: str) -> None:
    """One of the diagnostics names `text` in its message, place (fil:rad:kolumn) or hint."""
    if not any(text in " ".join([d.message, str(d.span or ""), d.hint or ""]) for d in diags):
        raise AssertionError(f"Förväntat: {what} nämner \"{text}\"\nFick:\n" +
                             _diag_text(diags))


@then(parsers.parse('varnar beräkningen med "{code}"'))
def then_warns(villkor_kontext: Kontext, code: str) -> None:
    """The run goes on (a result, no error) and gives the warning: e.g. V162 for a `kontroll`
    with `är cirka` whose figure is not exactly the source's, or V210 for records that name no
    recipient. `Och varningen nämner "…"` may follow."""
    k = villkor_kontext
    if not k.computed:
        raise AssertionError(NOT_COMPUTED)
    warnings = [d for d in k.diagnostics if not d.is_error and d.code == code]
    if k.result is None or not warnings:
        got = ("beräkningen stoppades" if k.result is None else
               f"ingen varning {code}")
        raise AssertionError(f"Förväntat: beräkningen går igenom och varnar med {code}\n"
                             f"Fick:      {got}. Meddelanden:\n" + _diag_text(k.diagnostics))
    k.warning_code = code


@then(parsers.parse('varningen nämner "{text}"'))
def then_warning_mentions(villkor_kontext: Kontext, text: str) -> None:
    """Searches the message, the place and the hint of the warnings found by the step before."""
    k = villkor_kontext
    if k.warning_code is None:
        raise AssertionError('säg först vilken varning: "Så varnar beräkningen med KOD"')
    _mentions([d for d in k.diagnostics if d.code == k.warning_code and not d.is_error], text,
              f"varningen {k.warning_code}")


# ---- Så: explanations ----------------------------------------------------------------------------

def _explanation_contains(k: Kontext, code: str, vid: str, texts: list[str]) -> None:
    row = _row(k, code, vid)
    explanation = _explain(k, [row])
    missing = [t for t in texts if t not in explanation]
    if missing:
        raise AssertionError(f"Förväntat: förklaringen för mottagare {code} och villkor {vid} "
                             f"innehåller " + ", ".join(f'"{t}"' for t in missing) +
                             "\nFick:\n" + explanation)


@then(parsers.parse('säger förklaringen för mottagare "{code}" och villkor "{vid}" "{text}"'))
def then_explanation(villkor_kontext: Kontext, code: str, vid: str, text: str) -> None:
    """The explanation of the row (as `villkor explain` gives it) contains the text."""
    _explanation_contains(villkor_kontext, code, vid, [text])


@then(parsers.parse('säger förklaringen för mottagare "{code}" och villkor "{vid}":'))
def then_explanation_lines(villkor_kontext: Kontext, code: str, vid: str, docstring: str) -> None:
    """Each non-blank line of the doc string must occur in the explanation."""
    lines = [x.strip() for x in docstring.splitlines() if x.strip()]
    _explanation_contains(villkor_kontext, code, vid, lines)


# ---- Så: the row's anmärkning --------------------------------------------------------------------

@then(parsers.re(r'säger anmärkningen för mottagare "(?P<code>[^"]+)" och villkor "(?P<vid>[^"]+)" '
                 r'(?P<negated>inte )?"(?P<text>[^"]+)"'))
def then_note(villkor_kontext: Kontext, code: str, vid: str, negated: str | None,
              text: str) -> None:
    """The row's `anmärkning` (the column of the result file) contains the text; with `inte`, it
    does not (e.g. no "preliminärt" on an amount that cannot change)."""
    k = villkor_kontext
    row = _row(k, code, vid)
    if (text in row.note) == bool(negated):
        wanted = "innehåller inte" if negated else "innehåller"
        raise _fail(f"anmärkningen för mottagare {code} och villkor {vid} {wanted} "
                    f"\"{text}\"", f"\"{row.note}\" ({row.verdict.value}, "
                    f"{_kr(row.amount)})", k, [row])


# ---- Så: invoices --------------------------------------------------------------------------------

def _invoices(k: Kontext) -> list[InvoiceLine]:
    lines = _result(k).invoices
    if not lines:
        raise AssertionError("beräkningen gav inga fakturarader: överenskommelsen har ingen "
                             "`fakturering`, eller fakturafilen saknas")
    return lines


def _invoice_text(line: InvoiceLine) -> str:
    return (f"{line.file} rad {line.line} ({line.product or 'ingen produktkod'}, "
            f"{line.month or 'ingen månad'}, {_kr(line.amount)}): {line.status}"
            + (": " + "; ".join(line.findings) if line.findings else ""))


def _invoice(k: Kontext, line: str, file: str) -> InvoiceLine:
    lines = _invoices(k)
    n = _line_number(line)
    for x in lines:
        if x.line == n and x.file == file:
            return x
    files = sorted({x.file for x in lines})
    if file not in files:
        raise AssertionError(f"det finns inga fakturarader från {file}; fakturafilerna är: "
                             + ", ".join(files))
    raise AssertionError(f"{file} har ingen fakturarad på rad {n}; raderna är "
                         f"{min(x.line for x in lines if x.file == file)}–"
                         f"{max(x.line for x in lines if x.file == file)}")


def _rejected_text(lines: list[InvoiceLine]) -> str:
    bad = [x for x in lines if x.findings]
    return "\n".join("  " + _invoice_text(x) for x in bad) or "  (inga avvisade)"


@then(parsers.parse('godkänns fakturaraden på rad "{line}" i "{file}"'))
def then_invoice_accepted(villkor_kontext: Kontext, line: str, file: str) -> None:
    """The invoice line (its line in the file, header = 1) has no findings."""
    x = _invoice(villkor_kontext, line, file)
    if x.findings:
        raise AssertionError(f"Förväntat: fakturaraden på rad {x.line} i {file} godkänns\n"
                             f"Fick:      {_invoice_text(x)}")


@then(parsers.parse('avvisas fakturaraden på rad "{line}" i "{file}" med anmärkningen "{text}"'))
def then_invoice_rejected(villkor_kontext: Kontext, line: str, file: str, text: str) -> None:
    """The line is rejected and one of its findings contains the text."""
    x = _invoice(villkor_kontext, line, file)
    if not any(text in f for f in x.findings):
        raise AssertionError(f"Förväntat: fakturaraden på rad {x.line} i {file} avvisas med "
                             f"anmärkningen \"{text}\"\nFick:      {_invoice_text(x)}")


@then(parsers.re(r'har fakturaraden på rad "(?P<line>[^"]+)" i "(?P<file>[^"]+)" '
                 r'"(?P<count>\d+)" anmärkning(?:ar)?'))
def then_invoice_findings(villkor_kontext: Kontext, line: str, file: str, count: str) -> None:
    """Exactly so many findings on the line: one broken rule gives one finding."""
    x = _invoice(villkor_kontext, line, file)
    if len(x.findings) != int(count):
        raise AssertionError(f"Förväntat: {count} anmärkning(ar) på fakturaraden på rad {x.line} "
                             f"i {file}\nFick:      {len(x.findings)}: {_invoice_text(x)}")


@then("godkänns alla fakturarader")
def then_all_invoices_accepted(villkor_kontext: Kontext) -> None:
    """No line of any `fakturering` is rejected."""
    lines = _invoices(villkor_kontext)
    bad = [x for x in lines if x.findings]
    if bad:
        raise AssertionError(f"Förväntat: alla {len(lines)} fakturarader godkänns\n"
                             f"Fick:      {len(bad)} avvisade:\n" + _rejected_text(lines))


@then(parsers.parse('avvisas "{count}" fakturarader'))
def then_invoices_rejected(villkor_kontext: Kontext, count: str) -> None:
    """The number of rejected lines in all; the others are accepted."""
    if not count.strip().isdigit():
        raise AssertionError(f"`{count}` är inget antal")
    lines = _invoices(villkor_kontext)
    bad = [x for x in lines if x.findings]
    if len(bad) != int(count):
        raise AssertionError(f"Förväntat: {count} av {len(lines)} fakturarader avvisas\n"
                             f"Fick:      {len(bad)} avvisade:\n" + _rejected_text(lines))


# ---- Så: reconciliation --------------------------------------------------------------------------

@then(parsers.re(r'ger avstämningen "(?P<name>[^"]+)" för mottagare "(?P<code>[^"]+)" '
                 r'(?:(?P<kind>möjlig återbetalning|återbetalning|att betala) "(?P<amount>[^"]+)"'
                 r'|ingen differens)'))
def then_settlement(villkor_kontext: Kontext, name: str, code: str, kind: str | None,
                    amount: str | None) -> None:
    """The reconciliation row (villkor = its name): earned − invoiced, negative = repayment.
    The amount is written without sign: `återbetalning "70 000 kr"` is −70 000 kr.
    `möjlig återbetalning "70 000 kr"`: the avstämning has `vid återbetalning bedömning krävs`,
    so the row is `bedömning krävs` with no amount, and its anmärkning names the possible
    repayment ("möjlig återbetalning 70 000 kr"); a person decides."""
    k = villkor_kontext
    if name not in {r.name for r in k.model.reconciliations}:
        raise AssertionError(f"överenskommelsen har ingen avstämning {name}; avstämningarna är: "
                             + (", ".join(r.name for r in k.model.reconciliations) or "inga"))
    row = _row(k, code, name)
    if kind == "möjlig återbetalning":
        size = abs(_money(amount or ""))
        wanted = f"möjlig återbetalning {swedish_money(size)}"
        if row.verdict.value != "bedömning krävs" or row.amount is not None or \
                wanted not in row.note:
            raise _fail(f"avstämningen {name} för mottagare {code} ger \"bedömning krävs\", "
                        f"inget belopp, och anmärkningen nämner {wanted}",
                        f"{row.verdict.value}, {_kr(row.amount)}; anmärkning: {row.note}",
                        k, [row])
        return
    if kind is None:
        expected, wanted = Fraction(0), "ingen differens"
    else:
        size = abs(_money(amount or ""))
        expected = -size if kind == "återbetalning" else size
        wanted = f"{kind} {swedish_money(size)}"
    if row.amount != expected:
        got = ("inget belopp" if row.amount is None else "ingen differens" if row.amount == 0
               else f"återbetalning {swedish_money(-row.amount)}" if row.amount < 0
               else f"att betala {swedish_money(row.amount)}")
        raise _fail(f"avstämningen {name} för mottagare {code} ger {wanted}",
                    f"{got} ({row.verdict.value}; {row.note})", k, [row])


# ---- Så: kontroller ------------------------------------------------------------------------------

def _check_title(k: Kontext, title: str) -> str:
    titles = [c.title for c in k.model.version_at(k.per).checks]
    if title not in titles:
        raise AssertionError(f"överenskommelsen har ingen kontroll \"{title}\"; " +
                             ("kontrollerna är:\n" + "\n".join(f'  "{t}"' for t in titles)
                              if titles else "den har inga kontroller"))
    return title


@then(parsers.parse('är kontrollen "{title}" inte uppfylld'))
def then_check_fails(villkor_kontext: Kontext, title: str) -> None:
    """The run stops with V160 naming the kontroll; `Och felet nämner "…"` may follow."""
    k = villkor_kontext
    _check_title(k, title)
    if not k.computed:
        raise AssertionError(NOT_COMPUTED)
    hits = [d for d in k.diagnostics if d.code == "V160" and f'"{title}"' in d.message]
    if k.result is not None or not hits:
        got = "beräkningen lyckades" if k.result is not None else "andra fel"
        raise AssertionError(f"Förväntat: kontrollen \"{title}\" håller inte (felet V160)\n"
                             f"Fick:      {got}. Meddelanden:\n" + _diag_text(k.diagnostics))
    k.error_code = "V160"


@then(parsers.parse('är kontrollen "{title}" uppfylld'))
def then_check_holds(villkor_kontext: Kontext, title: str) -> None:
    """The kontroll holds with this data (within its tolerance); it is evaluated again here."""
    k = villkor_kontext
    _check_title(k, title)
    if not k.computed:
        raise AssertionError(NOT_COMPUTED)
    if k.dataset is None or any(d.is_error and d.code != "V160" for d in k.diagnostics):
        raise AssertionError("indata gick inte att läsa, så kontrollen kan inte prövas. Felen:\n"
                             + _diag_text(k.diagnostics))
    result = next(c for c in evaluate_checks(k.model, k.model.version_at(k.per), k.params,
                                             k.dataset) if c.check.title == title)
    if result.passed is not True:
        got = ("bara cirka (varning V162)" if result.approximate else
               "går inte att avgöra" if result.passed is None else "håller inte")
        raise AssertionError(f"Förväntat: kontrollen \"{title}\" håller\n"
                             f"Fick:      {got}: {result.detail}")
