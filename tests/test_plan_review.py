"""Review decisions (`beslut enligt …`) and tables with a row per member and villkor, on the
plan: the decision goes before the answers, an `uppfyllt` without one waits for the review, a
payment's krav reads the row for its villkor, and the table's bad rows (an unknown villkor or
member, a repeated pair) are the reference's error rows — byte for byte as the reference
writes them, on DuckDB and on Spark.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from villkor_engine import api
from villkor_engine.batch.plan import Plan, compile_plan
from villkor_engine.pipeline import load_agreement_text

AGREEMENT = """\
överenskommelse "Granskning i kolumnmotorn"
  period 2020-01-01 till 2020-12-31
slut

dokument d "Testkälla"

mottagargrupp regioner från befolkning namn region

tabell befolkning fil "befolkning.csv" per regioner nyckel kod
  kod: kod obligatorisk
  region: text obligatorisk
  invånare: heltal obligatorisk
slut

tabell svar fil "svar.csv" per regioner nyckel kod
  kod: kod obligatorisk
  a: ja/nej
  b: text
  inkom: datum valfri
slut

tabell granskning fil "granskning.csv" valfri per regioner och villkor nyckel kod, villkor
  kod: kod obligatorisk
  villkor: kod obligatorisk
  beslut: kod(godkänd, underkänd, komplettering) obligatorisk
  begard: datum valfri
slut

tabell insatser fil "insatser.csv" valfri per regioner och villkor nyckel kod, villkor
  kod: kod obligatorisk
  villkor: kod obligatorisk
  vidtagna: ja/nej
slut

värde pott: belopp = 1 000 000 kr
  källa d "pott"

villkor 1 "Svar och beskrivning"
  gäller regioner
  källa d "1"
  delvillkor 1.1 "Svar"
    källa d "1.1"
    krav svar.a är ja
  slut
  delvillkor 1.2 "Beskrivning"
    källa d "1.2"
    krav svar.b är angiven och insatser.vidtagna är ja
  slut
  redovisas senast 2020-12-11 enligt svar.inkom
  vid försening bedömning krävs
  beslut enligt granskning komplettering besvaras inom 14 dagar
slut

villkor 2 "Insatser"
  gäller regioner
  källa d "2"
  krav insatser.vidtagna är ja
  beslut enligt granskning
slut

"""

# a pot on villkor 1 (its delvillkor read both tables; a deadline; the review)
POT = AGREEMENT + """\
utbetalning andel "Potten"
  villkor 1
  källa d "pott"
  pott pott delas mellan regioner som uppfyller villkoret i förhållande till befolkning.invånare
  avrundning hela kronor, halvt uppåt per andel
slut
"""

# amounts on villkor 1 and 2, the second with a krav on the table per villkor
AMOUNTS = AGREEMENT + """\
utbetalning per_region "Per region"
  villkor 1
  källa d "per region"
  belopp 2 kr * befolkning.invånare till varje mottagare i regioner
  avrundning hela kronor, halvt uppåt
slut

utbetalning fast "Fast per region"
  villkor 2
  källa d "fast"
  krav insatser.vidtagna är ja
  belopp 100 kr till varje mottagare i regioner
  avrundning hela kronor, halvt uppåt
slut
"""

FILES = {
    "befolkning.csv": """\
kod,region,invånare
01,Stockholm,2400000
03,Uppsala,380000
04,Sörmland,290000
05,Östergötland,460000
06,Jönköping,360000
07,Kronoberg,200000
08,Kalmar,240000
""",
    "svar.csv": """\
kod,a,b,inkom
01,ja,Beskrivning,2020-12-01
03,ja,,2020-12-01
04,nej,Text,2020-12-01
05,ja,Text,2020-12-20
06,ja,Text,
07,,Text,2020-12-01
""",
    "granskning.csv": """\
kod,villkor,beslut,begard
01,1,godkänd,
03,1,underkänd,
04,1,komplettering,2021-01-20
05,2,godkänd,
06,9,godkänd,
99,1,godkänd,
01,1,underkänd,
07,2,underkänd,
""",
    "insatser.csv": """\
kod,villkor,vidtagna
01,1,ja
01,2,nej
03,1,ja
03,2,ja
04,2,
05,1,nej
05,2,ja
06,3,ja
06,1,ja
06,1,nej
""",
}


def write(folder: Path, leave_out: tuple[str, ...] = ()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in FILES.items():
        if name not in leave_out:
            (folder / name).write_text(text, encoding="utf-8")
    return folder


def same(text: str, data: Path, tmp: Path) -> api.RunOutcome:
    """Both engines on `data`: the same exit code and the same bytes in every file."""
    outs = {}
    for engine in ("referens", "kolumn"):
        out = tmp / engine
        outs[engine] = api.run(text, data, out / "ut.csv", engine=engine)
    ref, col = outs["referens"], outs["kolumn"]
    assert col.engine_used == "kolumn", col.diagnostics
    assert (ref.exit_code, ref.stage) == (col.exit_code, col.stage)
    names = sorted(p.name for p in (tmp / "referens").iterdir())
    assert names == sorted(p.name for p in (tmp / "kolumn").iterdir())
    for name in names:
        assert (tmp / "referens" / name).read_bytes() == (tmp / "kolumn" / name).read_bytes(), \
            name
    return col


def test_both_agreements_are_planned():
    for text in (POT, AMOUNTS):
        loaded = load_agreement_text(text, "granskning.villkor")
        assert loaded.ok, [d.header() for d in loaded.diagnostics]
        assert isinstance(compile_plan(loaded.model, loaded.model.version_at(None)), Plan)


@pytest.mark.parametrize("text", [POT, AMOUNTS], ids=["pott", "belopp"])
def test_decisions_and_rows_per_villkor_as_the_reference(text, tmp_path):
    col = same(text, write(tmp_path / "d"), tmp_path)
    rows = {(r.mottagare, r.villkor): r.utfall for r in col.rows}
    assert rows[("01", "1")] == "uppfyllt"          # godkänd (the first of two rows)
    assert rows[("03", "1")] == "ej uppfyllt"       # underkänd, though the answers say yes
    assert rows[("04", "1")] == "underlag saknas"   # komplettering
    assert rows[("05", "2")] == "uppfyllt"          # godkänd
    assert col.error_count == 5
    messages = sorted(e.meddelande for e in col.errors)
    assert "rad 6, kolumn `villkor`: okänt villkor `9`" in messages
    assert "rad 8: `01, 1` finns redan på rad 2" in messages


@pytest.mark.parametrize("text", [POT, AMOUNTS], ids=["pott", "belopp"])
def test_without_the_optional_tables(text, tmp_path):
    """No review file: every `uppfyllt` waits for the review; no table per villkor: its
    columns are missing (underlag saknas), never `nej`."""
    col = same(text, write(tmp_path / "d", ("granskning.csv", "insatser.csv")), tmp_path)
    assert {r.utfall for r in col.rows if r.villkor in ("1", "2")} <= \
        {"bedömning krävs", "underlag saknas", "ej uppfyllt"}
