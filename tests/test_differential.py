"""Differential test: the column engine (SQL on DuckDB) against the reference evaluator.

hypothesis draws whole agreements from the language's constructs (tests/agreement_strategies.py)
and hostile data for them; both engines run through `api.run`, in process, and must write the
same files byte for byte: the result, `.potter.csv` and `.fel.csv` (tests/differential_harness.py).
What the column engine's plan does not cover runs on the reference alone, which must not crash;
whatever the plan starts to cover is compared from then on, with no change here.
Constructs the plan has come to cover are drawn in a quarter of the agreements (`covered`, see
tests/agreement_strategies.py); `test_covered_constructs_run_on_both_engines` keeps them compared.

CI runs a few hundred cases (VILLKOR_DIFF_EXAMPLES drawn agreements, 1–3 data folders each);
`python bench/differential.py 100000` runs more, in parallel, with a progress line.

Disagreements found and not yet fixed are in `KNOWN`: the strategies avoid them, and each is
pinned below by its minimal case (xfail, strict: once fixed, the xfail fails and the entry goes).
"""

from __future__ import annotations

import csv
import os
import re
import sys
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from agreement_strategies import (
    KNOWN,
    Agreement,
    Col,
    Data,
    DataFile,
    Group,
    Table,
    agreements,
    cases,
    datasets,
)
from conftest import ROOT
from differential_harness import Harness, Mismatch
from villkor_engine import api
from villkor_engine.batch.duck import run_plan
from villkor_engine.batch.plan import Unsupported, compile_plan
from villkor_engine.eval.engine import run as reference_run
from villkor_engine.io.data import load
from villkor_engine.pipeline import load_agreement_text
from villkor_engine.write.output import results_csv

EXAMPLES = int(os.environ.get("VILLKOR_DIFF_EXAMPLES", "80"))
SETTINGS = dict(deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])
BENCH = (ROOT / "bench" / "pott.villkor").read_text(encoding="utf-8")
INTYG = (ROOT / "bench" / "intyg.villkor").read_text(encoding="utf-8").replace(
    "intyg.parquet", "intyg.csv")


@pytest.fixture(scope="module")
def harness():
    with Harness() as h:
        yield h


# ---- agreements drawn from the language -----------------------------------------------------

@settings(max_examples=2 * EXAMPLES, **SETTINGS)
@given(agreement=agreements())
def test_drawn_agreements_pass_check(agreement):
    """The generator's own guard (cheap: no engine runs): every agreement it draws checks."""
    checked = api.check(agreement.text, "diff.villkor")
    assert checked.ok, [d.header() for d in checked.diagnostics if d.is_error]


def test_drawn_agreements_agree(harness):
    """Inside the plan's subset mostly, outside it sometimes; hostile data, bad cells now and
    then. Every case: the same files from both engines, or the reference alone."""
    @settings(max_examples=EXAMPLES, **SETTINGS)
    @given(cases())
    def check(case):
        for data in case.data:
            harness.compare(case.agreement, data)

    check()


@settings(max_examples=EXAMPLES, **SETTINGS)
@given(agreement=agreements(covered=True))
def test_covered_agreements_pass_check(agreement):
    """The same guard for agreements that draw every newly covered construct now and then."""
    checked = api.check(agreement.text, "diff.villkor")
    assert checked.ok, [d.header() for d in checked.diagnostics if d.is_error]


COVERED = """överenskommelse "T"
slut
dokument d "D"
tabell mottagare fil "m.csv" per alla nyckel id
  id: kod obligatorisk
  a: ja/nej
  n: heltal obligatorisk
slut
tabell granskning fil "g.csv" valfri per alla och villkor nyckel id, villkor
  id: kod obligatorisk
  villkor: kod obligatorisk
  beslut: kod(godkänd, underkänd, komplettering)
  begard: datum valfri
  svar: ja/nej
slut
mottagargrupp alla från mottagare namn id
mottagargrupp nationella
  SKR "SKR"
  FK "FK"
slut
parameter gränsen: heltal
  källa d "p"
parameter beloppet: belopp
  källa d "p"
villkor 1 "V1"
  gäller alla endast x, y
  källa d "v"
  krav mottagare.a är ja och granskning.svar är ja
  beslut enligt granskning komplettering besvaras inom 14 dagar
slut
villkor 2 "V2"
  gäller alla
  källa d "v"
  krav mottagare.n > gränsen
  beslut enligt granskning
slut
villkor 3 "V3"
  gäller nationella endast SKR
  källa d "v"
  krav uppfyllt
slut
utbetalning p1 "P1"
  villkor 1
  källa d "p"
  pott 100 kr delas mellan alla som uppfyller villkoret i förhållande till mottagare.n
  avrundning hela kronor, halvt uppåt per andel
slut
utbetalning p2 "P2"
  villkor 2
  källa d "p"
  pott 7 kr delas mellan alla som uppfyller villkoret i förhållande till mottagare.n
  avrundning öre, halvt uppåt
slut
utbetalning f1 "F1"
  villkor 2
  källa d "p"
  belopp beloppet till FK
slut
summa per mottagare avrundning hela kronor, halvt uppåt
  källa d "s"
"""


@pytest.mark.parametrize("params", [("gränsen=1", "beloppet=12,5 kr"), ("gränsen=1",)])
def test_covered_constructs_run_on_both_engines(harness, params):
    """Review decisions, a table per villkor, `endast`, two pots of a group with `summa per
    mottagare`, run-time parameters (one left out) and a fixed amount under another group's
    villkor: the column engine's plan covers them, so the drawn ones are compared, not left to
    the reference (which would make the differential test silently weaker)."""
    files = {"m.csv": b"id,a,n\nx,ja,1\ny,ja,2\nz,nej,3\nw,ja,4\n",
             "g.csv": b"id,villkor,beslut,begard,svar\nx,1,godk\xc3\xa4nd,,ja\n"
                      b"y,1,komplettering,2010-01-05,ja\nz,2,underk\xc3\xa4nd,,\n"
                      b"w,2,godk\xc3\xa4nd,,\nx,2,godk\xc3\xa4nd,,nej\n"}
    data = Data([DataFile(n, b) for n, b in files.items()], (), False, params)
    assert harness.compare(Agreement(COVERED, [], [], ()), data) == "lika"


# ---- the benchmark agreements, with drawn data ------------------------------------------------

POT_TABLE = Table("mottagare", "mottagare.csv", [
    Col("id", "text", ("obligatorisk",)), Col("befolkning", "heltal", ("obligatorisk",)),
    Col("a", "ja/nej"), Col("b", "ja/nej")], True, "alla", "id")
POTS = Agreement(BENCH, [POT_TABLE], [Group("alla", "mottagare", True, "id", "id")], ())
ITEMS = ("diagnos", "funktionsnedsättning", "aktivitetsbegränsning", "arbetsförmåga", "prognos")
INTYG_TABLE = Table("intyg", "intyg.csv", [
    Col("intygsid", "kod", ("valfri",)), Col("enhet", "kod", ("obligatorisk",)),
    Col("center", "kod", ("obligatorisk",)), Col("datum", "datum", ("obligatorisk",)),
    *(Col(item, "ja/nej") for item in ITEMS)], False,
    links={"enheter": "enhet", "center": "center"})
CERTIFICATES = Agreement(INTYG, [INTYG_TABLE], [Group("enheter", "intyg", False, "enhet"),
                                                Group("center", "intyg", False, "center")], ())

pot_amounts = st.sampled_from(["1 000 000 000 kr", "100 kr", "7 kr", "1 234 567,89 kr",
                               "62,5 miljoner kronor"])
pot_rounding = st.sampled_from(["hela kronor", "öre"])
pot_requirement = st.sampled_from([
    "mottagare.a är ja och mottagare.b är ja",
    "mottagare.a är ja eller mottagare.b är nej",
    "inte mottagare.a är nej och mottagare.befolkning >= 1000",
    "mottagare.a är angiven och (mottagare.b är ja eller mottagare.befolkning < 500 000)",
])
goal = st.sampled_from(["70 %", "50 %", "100 %", "0 %", "2/3"])
unit_requirement = st.sampled_from([          # villkor 1 (per unit) in other shapes
    None,                                     # as the bench: the share of complete ones
    "antal(intyg där intyg.diagnos är ja) >= 2",
    "antal(intyg där intyg.prognos är nej eller intyg.diagnos är angiven) < 3",
    "inte andel(intyg där intyg.diagnos är ja bland intyg.datum mellan 2010-01-01 och "
    "2010-12-31) >= delmål",
    "andel(intyg där inte intyg.prognos är nej) > delmål eller antal(intyg där "
    "intyg.center = \"LFC2\") >= 1",
    "andel(intyg där intyg.datum >= 2010-06-01 och intyg.arbetsförmåga är ja) <= 1/2",
])


@settings(max_examples=max(EXAMPLES // 4, 10), **SETTINGS)
@given(data=st.data(), pot=pot_amounts, unit=pot_rounding, krav=pot_requirement)
def test_pot_agreement_agrees(harness, data, pot, unit, krav):
    """bench/pott.villkor (a pot by population, half up per share) in other amounts, units and
    krav, on drawn hostile data."""
    text = BENCH.replace("1 000 000 000 kr", pot).replace("hela kronor", unit).replace(
        "mottagare.a är ja och mottagare.b är ja", krav)
    agreement = Agreement(text, POTS.tables, POTS.groups, ())
    harness.compare(agreement, data.draw(datasets(agreement)))


@settings(max_examples=max(EXAMPLES // 4, 10), **SETTINGS)
@given(data=st.data(), target=goal, krav=unit_requirement)
def test_certificate_agreement_agrees(harness, data, target, krav):
    """bench/intyg.villkor: shares and counts over records per unit and per centre."""
    text = INTYG.replace("= 70 %", f"= {target}")
    if krav is not None:   # villkor 1's krav, however `villkor fmt` broke its lines
        text = re.sub(r"krav andel\(intyg där .*? >= delmål", lambda _: f"krav {krav}", text,
                      count=1, flags=re.S)
        assert f"krav {krav}" in text
    agreement = Agreement(text, CERTIFICATES.tables, CERTIFICATES.groups, ())
    harness.compare(agreement, data.draw(datasets(agreement)))


# ---- hostile files, one at a time ---------------------------------------------------------------

HEADER = b"id,befolkning,a,b\n"
HOSTILE_FILES = {
    "tab before ja": HEADER + b"x,1,\tja,ja\ny,2,ja,ja\n",
    "no-break space before a number": HEADER + b"x,\xc2\xa01,ja,ja\ny,2,ja,ja\n",
    "narrow no-break space as thousands separator": HEADER + b"x,1\xe2\x80\xaf000,ja,ja\n",
    "line of spaces": HEADER + b"x,1,ja,ja\n   \ny,2,ja,ja\n",
    "line of a tab": HEADER + b"x,1,ja,ja\n\t\ny,2,ja,ja\n",
    "quoted newline, then a bad row": HEADER + b'"x\ny",1,ja,ja\nz,abc,ja,ja\n',
    "quoted newline, then its key again": HEADER + b'"x\ny",1,ja,ja\n"x\ny",2,ja,ja\n',
    "CRLF with a quoted CRLF": b'id,befolkning,a,b\r\n"x\r\ny",1,ja,ja\r\nz,abc,ja,ja\r\n',
    "CR alone": b"id,befolkning,a,b\rx,1,ja,ja\ry,2,ja,ja\r",
    "a quote never closed": HEADER + b'"x,1,ja,ja\nz,2,ja,ja\n',
    "blank keys": HEADER + b",1,ja,ja\n,2,ja,ja\n",
    "19 digits": HEADER + b"x,1234567890123456789,ja,ja\n",
    "full-width digit": HEADER + b"x,\xef\xbc\x91,ja,ja\n",
    "a row of delimiters": HEADER + b"x,1,ja,ja\n,,,\n",
    "spaces around the header": b" id , befolkning ,a,b\nx,1,ja,ja\n",
    "a column twice": b"id,befolkning,a,b,a\nx,1,ja,ja,ja\n",
    "BOM, semicolons, CRLF": b"\xef\xbb\xbfid;befolkning;a;b\r\nx;1 000;JA;Nej\r\n",
    "empty file": b"",
    "header alone": HEADER,
    "NUL in a cell": HEADER + b"x,1,ja,j\x00a\n",
    "Latin-1": HEADER + b"\xe5,1,ja,ja\n",
    "formula-like keys": HEADER + b"=1+1,1,ja,ja\n@x,2,ja,ja\n-7,3,ja,ja\n+46,4,ja,ja\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_hostile_file(harness, name):
    """bench/pott.villkor on one hostile file: the same result, pots and bad rows."""
    data = Data([DataFile("mottagare.csv", HOSTILE_FILES[name])], (name,), True)
    harness.compare(POTS, data)


# ---- a broken construct is caught -------------------------------------------------------------

def _differs(harness, case) -> bool:
    try:
        for data in case.data:
            harness.compare(case.agreement, data)
    except Mismatch:
        return True
    return False


def _caught(harness, monkeypatch, broken: str, limit: int) -> None:
    """Some drawn case within `limit` examples shows a difference while `broken` is broken, and
    the same case shows none once it is whole again: the difference is the break's."""
    try:
        case = find(cases(outside=False), lambda case: _differs(harness, case),
                    settings=settings(max_examples=limit, phases=[Phase.generate],
                                      derandomize=True, database=None, **SETTINGS))
    except NoSuchExample:
        pytest.fail(f"{limit} drawn agreements did not notice the broken {broken}")
    monkeypatch.undo()
    assert not _differs(harness, case), case.agreement.text


def _engine(name: str):
    """The column engine's `name`, from whichever of batch/'s modules it is written in (or,
    when the harness has wrapped it, the wrapper every module holds)."""
    held = [getattr(m, name) for m in _engine_modules() if hasattr(m, name)]
    for found in held:
        if getattr(found, "__module__", "").startswith("villkor_engine.batch."):
            return found
    if held:
        return held[0]
    raise AttributeError(f"no module of villkor_engine.batch has {name}")


def _engine_modules() -> list:
    import villkor_engine.batch.duck  # noqa: F401 - the runner and every module it imports

    return [m for n, m in list(sys.modules.items())
            if n.startswith("villkor_engine.batch.") and m is not None]


def _break(monkeypatch, name: str, value) -> None:
    """`name` replaced in every module of the column engine that imported it by name."""
    original = _engine(name)
    for module in _engine_modules():
        if getattr(module, name, None) is original:
            monkeypatch.setattr(module, name, value)


def test_or_as_and_is_caught(harness, monkeypatch):
    """`eller` computed as `och` in the column engine: the differential finds a case."""
    _break(monkeypatch, "v_or", _engine("v_and"))
    _caught(harness, monkeypatch, "eller", 150)


def test_rounding_down_is_caught(harness, monkeypatch):
    """Shares rounded down instead of half up in the column engine's SQL."""
    half_up = re.compile(r"\(2 \* (ABS\([^()]*\)|[^()\s]+) \+ \d+ \* ([^()\s]+)\) //")
    share_step, step = _engine("share_step"), _engine("step")

    def floor(*args, **kwargs):
        st = share_step(*args, **kwargs)
        text, n = half_up.subn(r"(2 * \1) //", st.sql())
        assert n, "the half-up expression was not found in share_step: update this test"
        return step(st.name, text)

    _break(monkeypatch, "share_step", floor)
    text = BENCH.replace("1 000 000 000 kr", "7 kr")
    agreement = Agreement(text, POTS.tables, POTS.groups, ())
    one = Data([DataFile("mottagare.csv", b"id,befolkning,a,b\nx,1,ja,ja\ny,2,ja,ja\n")], (),
               False)
    with pytest.raises(Mismatch):         # 7 kr · 2/3 = 4.67 kr: 5 half up, 4 down
        harness.compare(agreement, one)
    _caught(harness, monkeypatch, "avrundning", 150)


# ---- known disagreements, each by its minimal case ------------------------------------------

HEAD = 'överenskommelse "T"\nslut\ndokument d "D"\n'


def _villkor(n: int, group: str, krav: str) -> str:
    return f'villkor {n} "V{n}"\n  gäller {group}\n  källa d "v"\n  krav {krav}\nslut\n'


MINIMAL = {
    "delad kod": (
        HEAD + 'tabell intyg fil "i.csv" poster\n  enhet: kod\nslut\n'
        'tabell besök fil "b.csv" poster\n  center: kod\nslut\n'
        'mottagargrupp enheter från intyg via enhet\n'
        'mottagargrupp centra från besök via center\n'
        + _villkor(1, "enheter", "antal(intyg) >= 1") + _villkor(2, "centra", "uppfyllt"),
        {"i.csv": "enhet\nx\n", "b.csv": "center\nx\n"}),
}


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, raises=AssertionError,
                                               reason=reason))
    for name, reason in sorted(KNOWN.items())])
def test_known_disagreement(harness, name):
    """A Mismatch (or the column engine's own AssertionError) until the engines agree."""
    text, files = MINIMAL[name]
    data = Data([DataFile(f, c.encode("utf-8")) for f, c in files.items()], (), False)
    harness.compare(Agreement(text, [], [], ()), data)


def test_every_known_disagreement_has_a_minimal_case():
    assert sorted(MINIMAL) == sorted(KNOWN)


def test_sql_grows_linearly_with_nesting():
    sizes = []
    for depth in (2, 4):
        krav = "mottagare.a är ja"
        for _ in range(depth):
            krav = f"inte ({krav} eller mottagare.b är ja)"
        model = load_agreement_text(BENCH.replace(
            "krav mottagare.a är ja och mottagare.b är ja", f"krav {krav}")).model
        plan = compile_plan(model, model.version_at(None))
        compiler = _engine("Compiler")(plan, plan.groups[0], _engine("Names").of(plan))
        sizes.append(len(compiler.verdict(plan.villkor["1"])))
    assert sizes[1] < 5 * sizes[0], sizes   # today 684 493 against 10 573 characters


# ---- fixed cases --------------------------------------------------------------------------------

def test_bad_rows_become_error_rows_and_good_rows_stay(tmp_path):
    (tmp_path / "mottagare.csv").write_text(
        "id,befolkning,a,b\nx,100,ja,ja\ny,abc,ja,ja\nz,50,kanske,ja\nx,5,ja,ja\nw,0,ja,ja\n"
        "v,100,ja,ja\n", encoding="utf-8")
    loaded = load_agreement_text(BENCH)
    plan = compile_plan(loaded.model, loaded.model.version_at(None))
    result = run_plan(plan, tmp_path, tmp_path / "ut.csv")
    assert sorted((e.line, e.column) for e in result.errors) == [
        (3, "befolkning"), (4, "a"), (5, "id")]
    out = list(csv.DictReader((tmp_path / "ut.csv").read_text(encoding="utf-8").splitlines()))
    assert {r["mottagare"] for r in out} == {"x", "w", "v"}   # befolkning 0 is a valid key
    paid = {r["mottagare"]: r["belopp"] for r in out if r["villkor"] == "1"}
    assert paid == {"x": "500000000", "w": "0", "v": "500000000"}
    errors = list(csv.DictReader(
        (tmp_path / "ut.fel.csv").read_text(encoding="utf-8").splitlines()))
    assert len(errors) == 3 and all(e["meddelande"].startswith("rad ") for e in errors)
    assert errors[2]["meddelande"] == "rad 5: `x` finns redan på rad 2"


def test_both_engines_write_the_same_excel_and_parquet(tmp_path):
    """Output format by extension: the same typed cells whichever engine wrote them."""
    import pyarrow.parquet as pq
    from openpyxl import load_workbook

    from villkor_engine.write.output import write_result

    (tmp_path / "mottagare.csv").write_text(
        "id,befolkning,a,b\nx,100,ja,ja\ny,300,ja,\nz,50,nej,ja\nw,7,ja,ja\n", encoding="utf-8")
    text = BENCH.replace("hela kronor", "öre")        # shares in öre: 934579439.25 and so on
    model = load_agreement_text(text).model
    plan = compile_plan(model, model.version_at(None))
    dataset, _ = load(model, tmp_path)
    reference = reference_run(model, dataset, {})
    for suffix in (".parquet", ".xlsx"):
        run_plan(plan, tmp_path, tmp_path / f"kolumn{suffix}")
        write_result(reference, tmp_path / f"referens{suffix}")
        for kind in ("", ".potter"):
            a, b = (tmp_path / f"{engine}{kind}{suffix}" for engine in ("kolumn", "referens"))
            if suffix == ".parquet":
                assert pq.read_table(a).to_pylist() == pq.read_table(b).to_pylist()
            else:
                sheets = [[list(r) for r in load_workbook(p).active.iter_rows(values_only=True)]
                          for p in (a, b)]
                assert sheets[0] == sheets[1]
    x = pq.read_table(tmp_path / "kolumn.parquet").to_pylist()[0]
    assert (x["mottagare"], x["belopp"]) == ("x", Decimal("934579439.25"))


def test_amounts_beyond_64_bits_fall_back_to_the_reference(tmp_path):
    """2·P·k ≥ 2⁶²: the column engine declines before writing; the reference computes exactly."""
    (tmp_path / "mottagare.csv").write_text(
        "id,befolkning,a,b\nx,100000000000000000,ja,ja\ny,3,ja,ja\n", encoding="utf-8")
    model = load_agreement_text(BENCH).model
    plan = compile_plan(model, model.version_at(None))
    result = run_plan(plan, tmp_path, tmp_path / "kolumn.csv")
    assert isinstance(result, Unsupported) and "64-bitars" in result.reason
    assert not (tmp_path / "kolumn.csv").exists()
    dataset, _ = load(model, tmp_path)
    reference = results_csv(reference_run(model, dataset, {}))
    assert "x,x,1,uppfyllt,1000000000,1000000000," in reference   # 999 999 999.99999997 kr
    assert "y,y,1,uppfyllt,0,0," in reference                     # 0.00000003 kr
