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
    Och att granskningen inte har beslutat något för region "09"
    När utfallet beräknas
    Så är utfallet för mottagare "09" och villkor "2" "bedömning krävs"
    Och säger förklaringen för mottagare "09" och villkor "2" "<förklaring>"

    Exempel:
      | inkom      | förklaring                           |
      | 2020-12-11 | redovisning senast 2020-12-11: i tid |
      | 2020-12-20 | 9 dagar efter fristen                |

  Scenario: Utan beslut ger svaren ensamma inget belopp
    Givet att granskningen inte har beslutat något
    När utfallet beräknas
    Så är utfallet för mottagare "09" och villkor "1" "bedömning krävs"
    Och saknar mottagare "09" belopp för villkor "1"

  Scenario: Ett obesvarat svar är inte ett nej
    Givet att region "09" lämnar fråga "2.2a" obesvarad
    Och att granskningen inte har beslutat något för region "09"
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
    Och ger avstämningen "helår" för mottagare "612300" möjlig återbetalning "{återbetalning}"

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
    result.assert_outcomes(passed=6)


def test_handbook_feature_wrong_expectation_fails_in_swedish(project: pytest.Pytester) -> None:
    _write(project, "gotland.feature", FEATURE.format(belopp_2="809 058 kr"))
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5, failed=1)
    out = result.stdout.str()
    assert "Förväntat: mottagare 09 får 809 058 kr för villkor 2" in out
    assert "Fick:      809 057 kr (uppfyllt)" in out
    assert "Förklaring:" in out


def test_new_steps_pass(project: pytest.Pytester) -> None:
    # 27 serier: intjänat 945 000 kr. Avstämningen summerar bara produktkod 90157, så den
    # tillagda raden (90158) räknas inte: fakturerat 1 050 000 kr, 945 000 − 1 050 000 =
    # −105 000 kr, en möjlig återbetalning (`vid återbetalning bedömning krävs`).
    _write(project, "lextorp.feature", FEATURE_NEW_STEPS.format(återbetalning="105 000 kr"))
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_new_steps_wrong_expectation_fails_in_swedish(project: pytest.Pytester) -> None:
    _write(project, "lextorp.feature", FEATURE_NEW_STEPS.format(återbetalning="140 000 kr"))
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert ("Förväntat: avstämningen helår för mottagare 612300 ger \"bedömning krävs\", inget "
            "belopp, och anmärkningen nämner möjlig återbetalning 140 000 kr" in out)
    assert ("Fick:      bedömning krävs, inget belopp; anmärkning: möjlig återbetalning "
            "105 000 kr" in out)


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


# ---- Swedish failures: unknown steps and failed expectations -------------------------------------

MISSPELT = """\
# language: sv
Egenskap: Steg som inte finns

  Bakgrund:
    Givet överenskommelsen "agreements/sjukskrivning-2020.villkor"
    Och exempeldata från "examples/sjukskrivning-2020"

  Scenario: Felstavat steg
    När utfallet beräknas
    Så får mottagaren "09" för villkor "2" "809 057 kr"

  Scenario: Fel nyckelord
    Givet utfallet beräknas

  Scenario: Felstavat projektsteg
    När utfallet beräknas
    Så har projektet en egen kontrol "x"
"""

# A project's own step: the suggestions come from the registered step definitions, not a list.
OWN_STEP = """\
from pytest_bdd import parsers, then


@then(parsers.parse('har projektet en egen kontroll "{namn}"'))
def own_check(namn):
    pass
"""


def test_unknown_step_says_so_in_swedish_with_the_closest_steps(project: pytest.Pytester) -> None:
    _write(project, "steg.feature", MISSPELT)
    _write(project, "conftest.py", OWN_STEP)
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=3)
    out = result.stdout.str()
    assert ('steget "Så får mottagaren "09" för villkor "2" "809 057 kr"" finns inte i '
            'stegbiblioteket') in out
    assert '(scenario "Felstavat steg", rad 10 i steg.feature)' in out
    assert "Närmaste stegen i stegbiblioteket:" in out
    suggestions = out.split('"809 057 kr"" finns inte', 1)[1].split("Närmaste stegen", 1)[1]
    assert suggestions.splitlines()[1].strip() == 'Så får mottagare "…" för villkor "…" "…"'
    # the right text under the wrong keyword
    assert 'steget "Givet utfallet beräknas" finns inte i stegbiblioteket' in out
    assert "Stegets text finns som ett När-steg, inte som ett Givet-steg" in out
    # the project's own step is suggested too
    assert 'Så har projektet en egen kontroll "…"' in out
    for framework in ("StepDefinitionNotFoundError", "Traceback", "pytest_bdd", "scenario.py",
                      "Step definition is not found"):
        assert framework not in out, framework
    # the summary line gives the Swedish message too
    assert re.search(r"FAILED steg\.feature::test_felstavat_steg - steget ", out)


def _failure_sections(out: str) -> dict[str, list[str]]:
    """The lines of each failure in pytest's FAILURES section, by test name."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in out.splitlines():
        m = re.fullmatch(r"_{3,} (\S+) _{3,}", line)
        if m:
            current = m.group(1)
            sections[current] = []
        elif re.match(r"=+ short test summary", line):
            current = None
        elif current is not None:
            sections[current].append(line)
    return sections


def test_failed_expectation_is_only_the_swedish_message(project: pytest.Pytester) -> None:
    _write(project, "gotland.feature", FEATURE.format(belopp_2="809 058 kr"))
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5, failed=1)
    out = result.stdout.str()
    lines = _failure_sections(out)["test_gotland_uppfyller_villkor_1_och_2"]
    assert lines[0] == "Förväntat: mottagare 09 får 809 058 kr för villkor 2", lines[:5]
    assert lines[1] == "Fick:      809 057 kr (uppfyllt)"
    assert "Förklaring:" in lines
    assert "Scenario: Gotland uppfyller villkor 1 och 2" in lines
    assert ('Steg:     Och får mottagare "09" för villkor "2" "809 058 kr" (gotland.feature, '
            'rad 12)') in lines
    for framework in ("pytest_bdd", "scenario.py", "steps.py", "AssertionError", "raise _fail"):
        assert framework not in out, framework
    assert re.search(r"FAILED gotland\.feature::test_gotland_uppfyller_villkor_1_och_2 - "
                     r"Förväntat", out)


CRASH = """\
from pytest_bdd import given


@given("att projektets eget steg kraschar")
def crash():
    return 1 / 0
"""


def test_a_crash_keeps_its_traceback(project: pytest.Pytester) -> None:
    _write(project, "conftest.py", CRASH)
    _write(project, "krasch.feature", "# language: sv\nEgenskap: Krasch\n\n"
           "  Scenario: Ett eget steg kraschar\n    Givet att projektets eget steg kraschar\n")
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "ZeroDivisionError" in out
    assert "return 1 / 0" in out


# ---- test names keep å ä ö -----------------------------------------------------------------------

NAMES = """\
# language: sv
Egenskap: Namn med svenska bokstäver

  Bakgrund:
    Givet överenskommelsen "agreements/vgr-lextorp-2019.villkor"
    Och exempeldata från "examples/vgr-lextorp-2019"

  Scenario: Lextorp Vårdcentral har teamkompetens
    När utfallet beräknas
    Så är utfallet för mottagare "612300" och villkor "1" "uppfyllt"

  Scenario: Återbetalningen är möjlig
    När utfallet beräknas
    Så ger avstämningen "helår" för mottagare "612300" möjlig återbetalning "70 000 kr"

  Scenario: Återbetalningen är möjlig!
    När utfallet beräknas
    Så saknar mottagare "612300" belopp för villkor "helår"

  Scenario: Fakturorna godkanns
    När utfallet beräknas
    Så godkänns alla fakturarader

  Scenariomall: Avstämningen
    Givet följande rader läggs till "<fler>" gånger i filen "vega.csv":
      | enhetskod | avslutad   | nrs |
      | 612300    | 2019-12-20 | ja  |
    När utfallet beräknas
    Så ger avstämningen "helår" för mottagare "612300" <avstämning>

    Exempel:
      | fler | avstämning                       |
      | 1    | möjlig återbetalning "35 000 kr" |
      | 3    | att betala "35 000 kr"           |
"""


def test_scenario_names_keep_swedish_letters(project: pytest.Pytester) -> None:
    _write(project, "namn.feature", NAMES)
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "--collect-only", "-q")
    ids = [line for line in result.stdout.lines if "::" in line]
    assert ids[:4] == ["namn.feature::test_lextorp_vårdcentral_har_teamkompetens",
                       "namn.feature::test_återbetalningen_är_möjlig",
                       "namn.feature::test_återbetalningen_är_möjlig_2",
                       "namn.feature::test_fakturorna_godkanns"], ids
    assert len(ids) == len(set(ids)) == 6

    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-v", "-k", "vårdcentral")
    result.assert_outcomes(passed=1, deselected=5)
    result.stdout.fnmatch_lines(["*test_lextorp_vårdcentral_har_teamkompetens PASSED*"])

    # the two scenarios named so, and the example row that says so
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-v", "-k", "återbetalning")
    result.assert_outcomes(passed=3, deselected=3)
    out = result.stdout.str()
    assert "test_återbetalningen_är_möjlig PASSED" in out
    assert "test_återbetalningen_är_möjlig_2 PASSED" in out
    assert "test_avstämningen[1-m" in out and "test_avstämningen[3-" not in out

    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-k",
                                          "avstämningen and not återbetalning")
    result.assert_outcomes(passed=1, deselected=5)


# ---- the general steps: any agreement's own tables, keys and decision tables ---------------------

LEXTORP_GENERAL = """\
# language: sv
Egenskap: Lextorp 2019 med de allmänna stegen

  Bakgrund:
    Givet överenskommelsen "agreements/vgr-lextorp-2019.villkor"
    Och exempeldata från "examples/vgr-lextorp-2019"

  Scenario: Teamkompetensen är inte intygad
    Givet att kolumnen "teamkompetens_intygad" för "612300" i tabellen "utförare" är "nej"
    När utfallet beräknas
    Så är utfallet för mottagare "612300" och villkor "1" "ej uppfyllt"
    Och har alla i mottagargruppen "vårdcentraler" utfallet "ej uppfyllt" för villkor "1"

  Scenario: Tomt är inte nej
    Givet att "teamkompetens_intygad" för "612300" i tabellen "utförare" är tom
    När utfallet beräknas
    Så är utfallet för mottagare "612300" och villkor "1" "underlag saknas"

  Scenario: Återrapporten kom in efter fristen
    Givet att redovisningen för villkor "3" från "612300" kom in "2020-01-20"
    När utfallet beräknas
    Så är utfallet för mottagare "612300" och villkor "3" "bedömning krävs"
    Och säger förklaringen för mottagare "612300" och villkor "3" "5 dagar efter fristen"

  Scenario: Utan serier i VEGA är inget intjänat
    Givet att raderna för "612300" i tabellen "vega" tas bort
    När utfallet beräknas
    Så får mottagare "612300" för villkor "1" "0 kr"

  Scenario: Återrapporten utan vidtagna åtgärder
    Givet tabellen "rapport" med:
      | enhetskod | vidtagna_åtgärder | antal_avslutade | inkom      |
      | 612300    |                   | 28              | 2020-01-10 |
    När utfallet beräknas
    Så är utfallet för mottagare "612300" och villkor "3" "underlag saknas"
"""

LEXTORP_WRONG = """\
# language: sv
Egenskap: Felskrivna tabeller

  Bakgrund:
    Givet överenskommelsen "agreements/vgr-lextorp-2019.villkor"
    Och exempeldata från "examples/vgr-lextorp-2019"

  Scenario: Tabellen heter utförare
    Givet att kolumnen "teamkompetens_intygad" för "612300" i tabellen "utforare" är "nej"

  Scenario: Ingen sådan vårdcentral
    Givet att kolumnen "teamkompetens_intygad" för "612399" i tabellen "utförare" är "nej"

  Scenario: Lextorp har inga beslut
    Givet att beslutet för "612300" och villkor "1" är "godkänd"
"""

# An agreement of its own, with its own names: the decisions are in `nämndbeslut` (namndbeslut.csv),
# keyed by enhet and vkod, the villkor is 7, the recipients enheter.
PROVNING = """\
överenskommelse "Påhittad prövning av enheter"
  diarienummer "P-1"
  period 2022-01-01 till 2022-12-31
slut

dokument regel "Påhittad regel" daterad 2022-01-01

mottagargrupp enheter från enhetslista namn enhetsnamn

tabell enhetslista fil "enhetslista.csv" per enheter nyckel enhet
  enhet: kod obligatorisk
  enhetsnamn: text obligatorisk
  invånare: heltal obligatorisk positiv
slut

tabell svar fil "svar.csv" per enheter nyckel enhet
  enhet: kod obligatorisk
  plan: ja/nej
  lämnad: datum valfri
slut

tabell nämndbeslut fil "namndbeslut.csv" valfri per enheter och villkor nyckel enhet, vkod
  enhet: kod obligatorisk
  vkod: kod obligatorisk
  beslut: kod(godkänd, underkänd, komplettering) obligatorisk
  begard: datum valfri
slut

värde potten: belopp = 1 000 kronor
  källa regel "1"

villkor 7 "Plan finns"
  gäller enheter
  källa regel "2"
  krav svar.plan är ja
  redovisas senast 2022-06-30 enligt svar.lämnad
  vid försening bedömning krävs
  beslut enligt nämndbeslut komplettering besvaras inom 14 dagar
slut

utbetalning a_pott "Potten för villkor 7"
  villkor 7
  källa regel "3"
  pott potten delas mellan enheter som uppfyller villkoret i förhållande till enhetslista.invånare
  avrundning hela kronor, halvt uppåt per andel
slut
"""

PROVNING_DATA = {
    "enhetslista.csv": "enhet,enhetsnamn,invånare\nE1,Enhet ett,100\nE2,Enhet två,300\n"
                       "E3,Enhet tre,600\n",
    "svar.csv": "enhet,plan\nE1,ja\nE2,ja\nE3,ja\n",
    "namndbeslut.csv": "enhet,vkod,beslut,begard\nE1,7,godkänd,\nE2,7,godkänd,\nE3,7,godkänd,\n",
}

PROVNING_FEATURE = """\
# language: sv
Egenskap: Nämndens beslut, med överenskommelsens egna namn

  Bakgrund:
    Givet överenskommelsen "agreements/provning.villkor"
    Och exempeldata från "examples/provning"

  Scenario: Nämnden underkänner E1 och de andra delar potten
    Givet att beslutet för "E1" och villkor "7" är "underkänd"
    När utfallet beräknas
    Så är utfallet för mottagare "E1" och villkor "7" "ej uppfyllt"
    Och delar de övriga i mottagargruppen "enheter" på hela potten för villkor "7"
    Och får mottagare "E2" för villkor "7" "333 kr"
    Och får mottagare "E3" för villkor "7" "667 kr"

  Scenario: Utan nämndens beslut för E2 avgör en person
    Givet att det inte finns något beslut för "E2"
    När utfallet beräknas
    Så är utfallet för mottagare "E2" och villkor "7" "bedömning krävs"
    Och är utfallet för mottagare "E1" och villkor "7" "uppfyllt"

  Scenariomall: Utan några beslut avgör en person
    Givet <inga beslut>
    När utfallet beräknas
    Så har alla i mottagargruppen "enheter" utfallet "bedömning krävs" för villkor "7"

    Exempel:
      | inga beslut                                     |
      | att det inte finns något beslut                 |
      | att det inte finns något beslut för villkor "7" |

  Scenariomall: Komplettering begärd
    Givet att det inte finns något beslut för "E3" och villkor "7"
    Och att beslutet för "E3" och villkor "7" är "komplettering" med komplettering begärd "<datum>"
    När utfallet beräknas
    Så säger förklaringen för mottagare "E3" och villkor "7" "svar senast <senast>"

    Exempel:
      | datum      | senast     |
      | 2022-08-01 | 2022-08-15 |

  Scenario: En nyckel i en tabell per mottagare och villkor
    Givet att "beslut" för "E1" och villkor "7" i tabellen "nämndbeslut" är "underkänd"
    När utfallet beräknas
    Så är utfallet för mottagare "E1" och villkor "7" "ej uppfyllt"

  Scenario: Redovisningen kom in efter fristen
    Givet att det inte finns något beslut för "E1"
    Och att redovisningen för villkor "7" från "E1" kom in "2022-07-05"
    När utfallet beräknas
    Så säger förklaringen för mottagare "E1" och villkor "7" "5 dagar efter fristen"
"""


def test_general_steps_on_a_non_2020_agreement(project: pytest.Pytester) -> None:
    _write(project, "lextorp.feature", LEXTORP_GENERAL)
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_general_steps_fail_in_swedish(project: pytest.Pytester) -> None:
    _write(project, "fel.feature", LEXTORP_WRONG)
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=3)
    out = result.stdout.str()
    sections = _failure_sections(out)
    assert sections["test_tabellen_heter_utförare"][0] == (
        'överenskommelsen har ingen tabell "utforare"; menade du "utförare"? Tabellerna är: '
        "fakturor, rapport, utförare, vega")
    assert sections["test_ingen_sådan_vårdcentral"][0] == (
        'utforare.csv (tabellen "utförare") har ingen rad med enhetskod 612399; enhetskod är: '
        "612300")
    assert sections["test_lextorp_har_inga_beslut"][0].startswith(
        'villkor 1 har inget "beslut enligt TABELL"')


def test_decision_steps_take_their_table_from_the_villkor(project: pytest.Pytester) -> None:
    _write(project, "agreements/provning.villkor", PROVNING)
    (project.path / "examples" / "provning").mkdir()
    for name, text in PROVNING_DATA.items():
        _write(project, f"examples/provning/{name}", text)
    _write(project, "provning.feature", PROVNING_FEATURE)
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=7)


def test_the_2020_wordings_are_aliases_of_the_general_steps() -> None:
    """Each wording, old and new, is recognised by exactly one step definition."""
    steps_module = pytest.importorskip("pytest_bdd.steps")
    registry = getattr(steps_module, "step_function_context_registry", None)
    if registry is None:
        pytest.skip("pytest-bdd keeps its step registry elsewhere in this version")
    import villkor_engine.bdd.steps as library

    ours = [c for c in registry.values() if c.step_func.__module__ == library.__name__]
    wordings = [
        ("given", 'att kolumnen "inkom" för "09" i tabellen "redovisning" är "2020-12-20"'),
        ("given", 'att "inkom" för "09" i tabellen "redovisning" är "2020-12-20"'),
        ("given", 'att kolumnen "inkom" för "09" i tabellen "redovisning" är tom'),
        ("given", 'att "beslut" för "09" och villkor "2" i tabellen "granskning" är "godkänd"'),
        ("given", 'tabellen "befolkning" med:'),
        ("given", 'att raden för "09" i tabellen "redovisning" tas bort'),
        ("given", 'att raderna för "612300" i tabellen "vega" tas bort'),
        ("given", 'att beslutet för "09" och villkor "2" är "underkänd"'),
        ("given", ('att beslutet för "09" och villkor "2" är "komplettering" med komplettering '
                   'begärd "2021-01-22"')),
        ("given", "att det inte finns något beslut"),
        ("given", 'att det inte finns något beslut för "09"'),
        ("given", 'att det inte finns något beslut för "09" och villkor "2"'),
        ("given", 'att det inte finns något beslut för villkor "2"'),
        ("given", 'att redovisningen för villkor "1" från "09" kom in "2020-12-20"'),
        ("then", 'delar de övriga i mottagargruppen "regioner" på hela potten för villkor "2"'),
        ("then", 'har alla i mottagargruppen "nationella" utfallet "uppfyllt" för villkor "4"'),
        # the 2020 wordings
        ("given", "följande befolkning:"),
        ("given", 'att region "09" svarar "nej" på fråga "2.2a"'),
        ("given", 'att region "09" lämnar fråga "2.2a" obesvarad'),
        ("given", 'att region "09" lämnar beskrivningen "2.2b" tom'),
        ("given", 'att redovisningen från region "09" kom in "2020-12-20"'),
        ("given", 'att granskningen beslutat "underkänd" för region "09" och villkor "2"'),
        ("given", "att granskningen inte har beslutat något"),
        ("given", 'att granskningen inte har beslutat något för region "09" och villkor "2"'),
        ("then", 'delar de övriga regionerna på hela potten för villkor "2"'),
        ("then", 'har alla regioner utfallet "uppfyllt" för villkor "1"'),
    ]
    wrong = {f"{kind}: {text}": [c.step_func.__name__ for c in ours
                                 if c.type == kind and c.parser.is_matching(text)]
             for kind, text in wordings}
    wrong = {k: v for k, v in wrong.items() if len(v) != 1}
    assert not wrong, wrong
    for func in {c.step_func for c in ours}:
        assert func.__doc__, f"{func.__name__} saknar docstring"
