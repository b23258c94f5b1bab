"""Several pots in one group, beside an amount per member, and `summa per mottagare` rounded
once over them: the exact sum of a member's lines is over the least common multiple of the
pots' key totals (known in the run, 128-bit), reduced in the note as the reference writes it.
Byte for byte as the reference, where the key totals are equal and where they differ.
"""

from __future__ import annotations

import pytest

from test_plan_review import same

AGREEMENT = """\
överenskommelse "Flera potter"
  period 2020-01-01 till 2020-12-31
slut

dokument d "Testkälla"

mottagargrupp regioner från befolkning namn region

tabell befolkning fil "befolkning.csv" per regioner nyckel kod
  kod: kod obligatorisk
  region: text obligatorisk
  invånare: heltal obligatorisk
  a: ja/nej
  b: ja/nej
  kontakter: heltal
slut

villkor 1 "A"
  gäller regioner
  källa d "1"
  krav befolkning.a är ja
slut

villkor 2 "B"
  gäller regioner
  källa d "2"
  krav befolkning.b är ja
slut

villkor 3 "Kontakter"
  gäller regioner
  källa d "3"
  krav befolkning.kontakter är angiven
slut

utbetalning p1 "Pott 1"
  villkor 1
  källa d "p1"
  pott 100 000 kr delas mellan regioner som uppfyller villkoret
    i förhållande till befolkning.invånare
  avrundning hela kronor, halvt uppåt per andel
  betalas senast 2021-03-31
slut

utbetalning p2 "Pott 2"
  villkor 2
  källa d "p2"
  pott 140 000 kr delas mellan regioner som uppfyller villkoret
    i förhållande till befolkning.invånare
  avrundning hela kronor, halvt uppåt per andel
slut

utbetalning k3 "Per kontakt"
  villkor 3
  källa d "k3"
  belopp 1,5 kr * befolkning.kontakter till varje mottagare i regioner
  avrundning hela kronor, halvt uppåt
slut

TOTAL
"""

TOTAL = "summa per mottagare avrundning hela kronor, halvt uppåt\n  källa d \"summa\""

# every region fulfils both pots' villkor: equal key totals; then two that do not
EQUAL = """\
kod,region,invånare,a,b,kontakter
01,Stockholm,2377081,ja,ja,11
03,Uppsala,383713,ja,ja,
04,Sörmland,297540,ja,ja,7
05,Östergötland,465495,ja,ja,3
06,Jönköping,363599,ja,ja,0
"""
DIFFERENT = """\
kod,region,invånare,a,b,kontakter
01,Stockholm,2377081,ja,ja,11
03,Uppsala,383713,ja,nej,
04,Sörmland,297540,ja,ja,7
05,Östergötland,465495,,ja,3
06,Jönköping,363599,ja,ja,0
"""


def text(total: bool) -> str:
    return AGREEMENT.replace("TOTAL", TOTAL if total else "")


@pytest.mark.parametrize("total", [True, False], ids=["avrundad-summa", "summa"])
@pytest.mark.parametrize("data", [EQUAL, DIFFERENT], ids=["lika-nycklar", "olika-nycklar"])
def test_pots_and_their_summa_as_the_reference(total, data, tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "befolkning.csv").write_text(data, encoding="utf-8")
    col = same(text(total), folder, tmp_path)
    summa = [r for r in col.rows if r.villkor == "summa"]
    assert len(summa) == 5
    if total:
        assert all("exakt summa " in r.anmärkning for r in summa)
