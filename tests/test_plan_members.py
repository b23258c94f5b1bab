"""Who has which row, on the plan: `endast` (a villkor for some members of its group), fixed
amounts to a listed member (under a villkor of its own group, of another group — which then
does not gate it — or none), several fixed amounts on one villkor's row for different members,
and a payment's krav on a table per member and villkor; byte for byte as the reference.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from test_plan_review import same
from villkor_engine import api

AGREEMENT = """\
överenskommelse "Endast och fasta belopp"
  period 2020-01-01 till 2020-12-31
slut

dokument d "Testkälla"

mottagargrupp regioner från befolkning namn region
mottagargrupp nationella
  SoS "Socialstyrelsen"
  SKR "Sveriges Kommuner och Regioner"
  FK "Försäkringskassan"
slut

tabell befolkning fil "befolkning.csv" per regioner nyckel kod
  kod: kod obligatorisk
  region: text obligatorisk
  invånare: heltal obligatorisk
  svar: ja/nej
slut

tabell nationellt fil "nationellt.csv" valfri per nationella och villkor nyckel mottagare, villkor
  mottagare: kod obligatorisk
  villkor: kod obligatorisk
  insatser: ja/nej
slut

villkor 1 "Regionernas svar"
  gäller regioner
  källa d "1"
  krav befolkning.svar är ja
slut

villkor 4 "Insatser"
  gäller nationella
  källa d "4"
  krav nationellt.insatser är ja
slut

villkor 5 "Utvecklingsmedel"
  gäller nationella endast SKR, SoS
  källa d "5"
  krav bedömning krävs
slut

utbetalning v1 "Villkor 1 till regionerna"
  villkor 1
  källa d "v1"
  belopp 2 kr * befolkning.invånare till varje mottagare i regioner
  avrundning hela kronor, halvt uppåt
slut

utbetalning v1_sos "Villkor 1 till Socialstyrelsen"
  villkor 1
  källa d "v1 sos"
  krav bedömning krävs
  belopp 1 200 kr till SoS
slut

utbetalning v4_skr "Villkor 4 till SKR"
  villkor 4
  källa d "v4"
  krav nationellt.insatser är ja
  belopp 250 kr till SKR
slut

utbetalning v4_fk "Villkor 4 till FK"
  villkor 4
  källa d "v4"
  belopp 1 000,50 kr till FK
slut

utbetalning v5_skr "Villkor 5 till SKR"
  villkor 5
  källa d "v5"
  belopp 9 500 kr till SKR
slut

utbetalning v5_fk "Villkor 5 till FK (villkoret gäller inte FK)"
  villkor 5
  källa d "v5"
  belopp 100 kr till FK
slut

utbetalning bidrag "Utan villkor"
  utan villkor
  källa d "bidrag"
  belopp 10 kr till SoS
slut
"""

BEFOLKNING = """\
kod,region,invånare,svar
01,Stockholm,2400000,ja
03,Uppsala,380000,nej
04,Sörmland,290000,
"""

NATIONELLT = """\
mottagare,villkor,insatser
SKR,4,ja
FK,4,nej
SoS,5,ja
"""


def write(folder: Path, befolkning: str = BEFOLKNING, nationellt: str | None = NATIONELLT
          ) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "befolkning.csv").write_text(befolkning, encoding="utf-8")
    if nationellt is not None:
        (folder / "nationellt.csv").write_text(nationellt, encoding="utf-8")
    return folder


@pytest.mark.parametrize("nationellt", [NATIONELLT, None, NATIONELLT + "SKR,4,nej\nX,4,ja\n"],
                         ids=["data", "utan-fil", "fel-rader"])
def test_rows_per_member_as_the_reference(nationellt, tmp_path):
    col = same(AGREEMENT, write(tmp_path / "d", nationellt=nationellt), tmp_path)
    keys = [(r.mottagare, r.villkor) for r in col.rows]
    assert ("FK", "5") in keys and ("SoS", "5") in keys    # v5_fk is paid without villkor 5
    assert ("SoS", "1") in keys and ("SKR", "1") not in keys   # v1_sos under villkor 1
    assert ("SoS", "bidrag") in keys and ("FK", "bidrag") not in keys


def test_a_named_member_in_a_table_group_leaves_the_run_to_the_reference(tmp_path):
    """`SoS` as a region's code: the reference pays `till SoS` to the first recipient with the
    code (the region); the plan cannot know that before the run, so the run says so."""
    data = write(tmp_path / "d", BEFOLKNING + "SoS,Ett län,10,ja\n")
    col = api.run(AGREEMENT, data, tmp_path / "k" / "ut.csv", engine="kolumn")
    assert col.exit_code == 2 and col.diagnostics[0].code == "V304"
    assert "fast belopp" in col.diagnostics[0].message
    auto = api.run(AGREEMENT, data, tmp_path / "a" / "ut.csv", engine="auto")
    ref = api.run(AGREEMENT, data, tmp_path / "r" / "ut.csv", engine="referens")
    assert auto.engine_used == "referens"
    assert (tmp_path / "a" / "ut.csv").read_bytes() == (tmp_path / "r" / "ut.csv").read_bytes()
    assert ref.exit_code == auto.exit_code
