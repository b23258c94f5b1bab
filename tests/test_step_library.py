"""The Swedish step library works for a feature file written from the handbook alone.

A tester's project holds only the agreements, the example data and a `.feature` file: no
conftest.py, no step code. The plugin (entry point `pytest11`) must supply the steps and collect
the file, and a wrong expectation must fail with the Swedish "Förväntat / Fick" message.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]

# Written from docs/handbok.md, "Stegbiblioteket": only the steps in its tables.
FEATURE = """\
# language: sv
Egenskap: Gotlands ersättning 2020, skriven från handboken

  Bakgrund:
    Givet överenskommelsen "agreements/sjukskrivning-2020.villkor"
    Och exempeldata från "examples/sjukskrivning-2020"
    Och att granskningen inte har beslutat något

  Scenario: Gotland uppfyller villkor 1 och 2
    När utfallet beräknas
    Så lyckas beräkningen
    Och är utfallet för mottagare "09" och villkor "1" "uppfyllt"
    Och får mottagare "09" för villkor "2" "{belopp_2}"
    Och får mottagare "09" totalt "1 386 955 kr"
    Och har alla regioner utfallet "uppfyllt" för villkor "2"
    Och fördelas "140 000 000 kr" för villkor "2" med en avrundningsdifferens på högst "21 kr"

  Scenariomall: Redovisningen prövas mot fristen
    Givet att kolumnen "inkom" för "09" i filen "redovisning.csv" är "<inkom>"
    När utfallet beräknas
    Så är utfallet för mottagare "09" och villkor "2" "<utfall>"

    Exempel:
      | inkom      | utfall          |
      | 2020-12-11 | uppfyllt        |
      | 2020-12-20 | bedömning krävs |

  Scenario: Ett obesvarat svar är inte ett nej
    Givet att region "09" lämnar fråga "2.2a" obesvarad
    När utfallet beräknas
    Så är utfallet för mottagare "09" och villkor "2" "underlag saknas"
    Och saknar mottagare "09" belopp för villkor "2"
    Och säger förklaringen för mottagare "09" och villkor "2" "läste redovisning.2.2a = tom"

  Scenario: Ett ogiltigt svar stoppar beräkningen
    Givet att region "09" svarar "kanske" på fråga "1.1a"
    När utfallet beräknas
    Så misslyckas beräkningen med felet "V204"
    Och felet nämner "rad 9"
"""

# The steps added for invoices, reconciliation, record editing and kontroller.
FEATURE_NEW_STEPS = """\
# language: sv
Egenskap: Lextorp 2019 med de nya stegen

  Bakgrund:
    Givet överenskommelsen "agreements/vgr-lextorp-2019.villkor"
    Och exempeldata från "examples/vgr-lextorp-2019"

  Scenario: Fakturor, avstämning och ändrade poster
    Givet att raden för "S028" i filen "vega.csv" tas bort
    Och följande rader läggs till i filen "fakturor.csv":
      | beställarid | kundnummer | enhetskod | produktkod | månad   | antal | belopp |
      | 6080002     | I71102     | 612300    | 90158      | 2019-12 | 1     | 35000  |
    Och att kolumnen "beställarid" på rad "5" i filen "fakturor.csv" är "6080001"
    När utfallet beräknas
    Så godkänns fakturaraden på rad "2" i "fakturor.csv"
    Och avvisas fakturaraden på rad "5" i "fakturor.csv" med anmärkningen "beställarid"
    Och avvisas fakturaraden på rad "14" i "fakturor.csv" med anmärkningen "okänd produktkod"
    Och har fakturaraden på rad "14" i "fakturor.csv" "1" anmärkning
    Och avvisas "2" fakturarader
    Och får mottagare "612300" för villkor "1" "945 000 kr"
    Och ger avstämningen "helår" för mottagare "612300" återbetalning "{återbetalning}"

  Scenario: Kontrollen i FK 2010
    Givet överenskommelsen "agreements/fk-vgr-2010.villkor"
    Och exempeldata från "examples/fk-vgr-2010"
    Och att kolumnen "medel" för "LFC1" i filen "fordelning.csv" är "1"
    När utfallet beräknas
    Så är kontrollen "Fördelningen mellan försäkringscentren är 11 miljoner kronor" inte uppfylld
    Och felet nämner "11 miljoner"
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A tester's folder outside features/: agreements, example data and nothing else."""
    pytester.makeini("[pytest]\n")
    for folder in ("agreements", "examples"):
        shutil.copytree(ROOT / folder, pytester.path / folder)
    return pytester


def _write(project: pytest.Pytester, name: str, text: str) -> None:
    (project.path / name).write_text(text, encoding="utf-8")


def test_handbook_feature_passes(project: pytest.Pytester) -> None:
    _write(project, "gotland.feature", FEATURE.format(belopp_2="809 057 kr"))
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_handbook_feature_wrong_expectation_fails_in_swedish(project: pytest.Pytester) -> None:
    _write(project, "gotland.feature", FEATURE.format(belopp_2="809 058 kr"))
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, failed=1)
    out = result.stdout.str()
    assert "Förväntat: mottagare 09 får 809 058 kr för villkor 2" in out
    assert "Fick:      809 057 kr (uppfyllt)" in out
    assert "Förklaring:" in out


def test_new_steps_pass(project: pytest.Pytester) -> None:
    # 27 serier: intjänat 945 000 kr. Avstämningen summerar bara produktkod 90157, så den
    # tillagda raden (90158) räknas inte: fakturerat 1 050 000 kr, återbetalning 105 000 kr.
    _write(project, "lextorp.feature", FEATURE_NEW_STEPS.format(återbetalning="105 000 kr"))
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_new_steps_wrong_expectation_fails_in_swedish(project: pytest.Pytester) -> None:
    _write(project, "lextorp.feature", FEATURE_NEW_STEPS.format(återbetalning="140 000 kr"))
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert ("Förväntat: avstämningen helår för mottagare 612300 ger återbetalning 140 000 kr"
            in out)
    assert "Fick:      återbetalning 105 000 kr" in out


# ---- the handbook's step table and the library agree ---------------------------------------------

KEYWORDS = {"Givet": "given", "När": "when", "Så": "then", "Och": "then"}


def _documented_steps() -> list[tuple[str, str]]:
    """(type, text) of the first example in each row of the Stegbiblioteket tables."""
    text = (ROOT / "docs" / "handbok.md").read_text(encoding="utf-8")
    section = text.split("### Stegbiblioteket", 1)[1].split("\n### ", 1)[0]
    out = []
    for line in section.splitlines():
        m = re.match(r"\| `(Givet|När|Så|Och) ([^`]+)`", line)
        if m:
            out.append((KEYWORDS[m.group(1)], m.group(2).strip()))
    return out


def test_every_documented_step_has_a_definition() -> None:
    steps_module = pytest.importorskip("pytest_bdd.steps")
    registry = getattr(steps_module, "step_function_context_registry", None)
    if registry is None:
        pytest.skip("pytest-bdd keeps its step registry elsewhere in this version")
    import villkor_engine.bdd.steps as library

    ours = [c for c in registry.values() if c.step_func.__module__ == library.__name__]
    documented = _documented_steps()
    assert len(documented) >= 30, "hittade inte stegtabellerna i handboken"
    missing = [f"{kind}: {text}" for kind, text in documented
               if not any(c.type == kind and c.parser.is_matching(text) for c in ours)]
    assert not missing, "steg i handboken som stegbiblioteket inte känner igen:\n" + \
        "\n".join(missing)
