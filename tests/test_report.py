"""Reports: the HTML rendered by a real headless Chromium, and the Excel file read back."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import AGREEMENT_2020, EXAMPLE_2020

from villkor_engine.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def report(tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    result = CliRunner().invoke(main, ["report", str(AGREEMENT_2020), "--data", str(EXAMPLE_2020),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def rendered_dom(page: Path, tmp_path: Path) -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium saknas i CI (.ci/run installerar Debians paket)")
        pytest.skip("chromium är inte installerat")
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profil'}",
                           "--dump-dom", page.as_uri()], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


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
