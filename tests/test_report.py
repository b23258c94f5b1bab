"""Reports: the HTML rendered by a real headless Chromium, and the Excel file read back.

Hostile data: a recipient code and a region name made to break out of an attribute or a cell
(`"><img … onerror=…>`, `</td><script>…`) must stay text in the rendered page, in the report and
in `explain --format html`; the page's Content-Security-Policy forbids every script; in Excel a
name like `=HYPERLINK(…)` is a text cell, not a formula.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from conftest import AGREEMENT_2020, EXAMPLE_2020, ROOT
from villkor_engine.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def report(tmp_path: Path, name: str, data: Path = EXAMPLE_2020) -> Path:
    out = tmp_path / name
    result = CliRunner().invoke(main, ["report", str(AGREEMENT_2020), "--data", str(data),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium saknas i CI (.ci/run installerar Debians paket)")
        pytest.skip("chromium är inte installerat")
    return CHROMIUM


def rendered_dom(page: Path, tmp_path: Path) -> str:
    done = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profil'}",
                           "--dump-dom", page.as_uri()], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def screenshot(page: Path, png: Path, tmp_path: Path) -> Path:
    """The page as headless Chromium draws it (docs/bilder/rapport-fientliga-nycklar.png)."""
    done = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profil'}",
                           f"--screenshot={png}", "--window-size=1400,1000",
                           "--hide-scrollbars", page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and png.is_file(), done.stderr[-2000:]
    return png


def test_html_report_renders_in_chromium(tmp_path):
    dom = rendered_dom(report(tmp_path, "rapport.html"), tmp_path)
    assert '<html lang="sv">' in dom
    table = dom[dom.index('id="utfall"'):dom.index("</table>", dom.index('id="utfall"'))]
    row = re.search(r"<tr><td>09</td><td>Region Gotland</td>(.*?)</tr>", table, re.S).group(1)
    assert "577\u00a0898 kr" in row or "577 898 kr" in row
    assert "809 057 kr" in row and "1 386 955 kr" in row
    # every cell links to an explanation that exists on the page
    for anchor in set(re.findall(r'href="#([^"]+)"', table)):
        assert f'id="{anchor}"' in dom
    summary = dom[dom.index('id="sammanfattning"'):]
    assert re.search(r"<td>uppfyllt</td><td>42</td>", summary)
    pots = dom[dom.index('id="potter"'):]
    assert "140 000 000 kr" in pots and "100 000 001 kr" in pots


def test_xlsx_report_has_exact_whole_kronor(tmp_path):
    from openpyxl import load_workbook

    wb = load_workbook(report(tmp_path, "rapport.xlsx"))
    ws = wb["Utfall"]
    header = [c.value for c in ws[1]]
    gotland = next(r for r in ws.iter_rows(values_only=True) if r[0] == "09")
    assert gotland[header.index("villkor 1")] == 577_898
    assert gotland[header.index("summa")] == 1_386_955
    assert gotland[header.index("utfall 2")] == "uppfyllt"
    assert {"Utfall", "Potter", "Förklaringar"} <= set(wb.sheetnames)


def test_report_rejects_an_unknown_extension(tmp_path):
    result = CliRunner().invoke(main, ["report", str(AGREEMENT_2020), "--data",
                                       str(EXAMPLE_2020), "--out", str(tmp_path / "r.pdf")])
    assert result.exit_code == 2 and "V300" in result.output


def test_explain_as_html(tmp_path):
    out = tmp_path / "f.html"
    result = CliRunner().invoke(main, ["explain", str(AGREEMENT_2020), "--data",
                                       str(EXAMPLE_2020), "--mottagare", "09", "--villkor", "2",
                                       "--format", "html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "delvillkor 2.2" in page and "809 057 kr" in page and "källa:" in page


# ---- hostile keys and names ----------------------------------------------------------------------

MARKER = "pwned"
# lanskod → (hostile code, hostile region name); every input file with a lanskod gets them
HOSTILE = {
    "09": ('x"><img/src="nope"/onerror="document.title=\'pwned\'">',
           '</td><script>document.title="pwned"</script>[/x]'),
    "10": ("[/x]<b id=injected>", '"><img src=x onerror="document.title=\'pwned\'">'),
}
XLSX_NAME = '=HYPERLINK("http://x","y")'
# what the pages are made of: any other element or attribute came from the data
TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "table",
        "thead", "tbody", "tfoot", "tr", "th", "td", "a", "br", "small", "section", "ul", "li",
        "strong", "details", "summary", "pre"}
ATTRIBUTES = {"lang", "charset", "http-equiv", "content", "name", "id", "class", "title",
              "href", "colspan"}


def hostile_data(tmp_path: Path, replace: dict[str, tuple[str, str]] = HOSTILE) -> Path:
    """The 2020 example with recipients 09 and 10 renamed: code and region name."""
    data = tmp_path / "data"
    shutil.copytree(EXAMPLE_2020, data)
    for path in data.glob("*.csv"):
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        header = rows[0]
        if "lanskod" not in header:
            continue
        for row in rows[1:]:
            code = row[header.index("lanskod")]
            if code in replace:
                row[header.index("lanskod")] = replace[code][0]
                if "region" in header:
                    row[header.index("region")] = replace[code][1]
        with open(path, "w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)
    return data


class Dom(HTMLParser):
    """The rendered page's elements, attributes and text."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self.title = ""
        self._in_title = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes += [(tag, k, v or "") for k, v in attrs]
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        self.text.append(data)
        if self._in_title:
            self.title += data


def assert_nothing_injected(dom: Dom) -> str:
    """No element, attribute or id from the data, no script ran; the page's text."""
    assert MARKER not in dom.title, "a script ran"
    assert dom.tags <= TAGS, dom.tags - TAGS
    assert {k for _, k, _ in dom.attributes} <= ATTRIBUTES
    ids = [v for _, k, v in dom.attributes if k == "id"]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", i) for i in ids), ids
    assert len(ids) == len(set(ids))
    assert "injected" not in ids
    for _, k, v in dom.attributes:       # every link goes to an explanation on the page
        if k == "href":
            assert v.startswith("#") and v[1:] in ids, v
    return "".join(dom.text)


def test_hostile_keys_and_names_stay_text_in_the_html_report(tmp_path):
    page = report(tmp_path, "rapport.html", hostile_data(tmp_path))
    source = page.read_text(encoding="utf-8")
    assert "<script" not in source and "<img" not in source
    dom = Dom(rendered_dom(page, tmp_path))
    text = assert_nothing_injected(dom)
    assert dom.title.startswith("Utfall – ")
    for code, name in HOSTILE.values():   # the data is there, as text
        assert code in text and name in text
    table = [v for t, k, v in dom.attributes if (t, k) == ("a", "href")]
    assert len(table) > 40


def test_hostile_key_stays_text_in_explain_html(tmp_path):
    data = hostile_data(tmp_path)
    for code, name in HOSTILE.values():
        out = tmp_path / f"f{len(code)}.html"
        result = CliRunner().invoke(main, ["explain", str(AGREEMENT_2020), "--data", str(data),
                                           "--mottagare", code, "--format", "html",
                                           "--out", str(out)])
        assert result.exit_code == 0, result.output
        dom = Dom(rendered_dom(out, tmp_path))
        text = assert_nothing_injected(dom)
        assert dom.title == "Förklaring" and code in text and name in text


def test_the_page_forbids_every_script(tmp_path):
    """Defence in depth: were something to slip through, the Content-Security-Policy stops it.
    A script and an event handler put into the report by hand do not run; the style does."""
    page = report(tmp_path, "rapport.html")
    source = page.read_text(encoding="utf-8")
    assert ('<meta http-equiv="Content-Security-Policy" content="default-src &#x27;none&#x27;; '
            "style-src &#x27;unsafe-inline&#x27;") in source
    hostile = source.replace("<body>", "<body><script>document.title='pwned'</script>"
                             "<img src=x onerror=\"document.title='pwned'\">"
                             "<svg onload=\"document.title='pwned'\"></svg>", 1)
    page.write_text(hostile, encoding="utf-8")
    dom = Dom(rendered_dom(page, tmp_path))
    assert dom.title.startswith("Utfall – ") and MARKER not in dom.title


def test_screenshot_of_the_hostile_report(tmp_path):
    """The hostile report as a person sees it: the escaped text in the table."""
    page = report(tmp_path, "rapport.html", hostile_data(tmp_path))
    png = screenshot(page, tmp_path / "rapport.png", tmp_path)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    if os.environ.get("VILLKOR_BILDER"):      # VILLKOR_BILDER=1: refresh the picture in docs/
        shutil.copyfile(png, ROOT / "docs" / "bilder" / "rapport-fientliga-nycklar.png")


def test_xlsx_report_text_is_never_a_formula(tmp_path):
    data = hostile_data(tmp_path, {"09": ("=1+1", XLSX_NAME), "10": ("@SUM(A1)", "-x")})
    out = report(tmp_path, "rapport.xlsx", data)
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    formulas, texts = [], []
    with zipfile.ZipFile(out) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") or name == "xl/sharedStrings.xml":
                root = ElementTree.fromstring(z.read(name))
                formulas += list(root.iter(f"{ns}f"))
                texts += ["".join(t.itertext()) for t in root.iter(f"{ns}is")]
                texts += ["".join(t.itertext()) for t in root.iter(f"{ns}si")]
    assert formulas == []
    assert XLSX_NAME in texts and "=1+1" in texts and "@SUM(A1)" in texts and "-x" in texts
    from openpyxl import load_workbook

    wb = load_workbook(out)
    row = next(r for r in wb["Utfall"].iter_rows() if r[0].value == "=1+1")
    assert (row[0].data_type, row[1].value, row[1].data_type) == ("s", XLSX_NAME, "s")
    assert any(r[0].value == "=1+1" and r[0].data_type == "s"
               for r in wb["Förklaringar"].iter_rows())
