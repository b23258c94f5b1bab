"""`villkor fmt`: canonical, idempotent, comment-preserving, never changes the meaning."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from villkor_engine.cli import main
from villkor_engine.fmt import format_text

AGREEMENTS = sorted((ROOT / "agreements").glob("*.villkor"))


@pytest.mark.parametrize("path", AGREEMENTS, ids=lambda p: p.name)
def test_idempotent_and_keeps_every_comment(path: Path):
    text = path.read_text(encoding="utf-8")
    once, _ = format_text(text, path.name)
    twice, _ = format_text(once, path.name)
    assert once == twice
    comments = [line.strip() for line in text.splitlines() if line.strip().startswith("#")]
    assert comments == [line.strip() for line in once.splitlines()
                        if line.strip().startswith("#")]


@pytest.mark.parametrize("path", AGREEMENTS, ids=lambda p: p.name)
def test_layout_is_restored_from_a_mangled_file(path: Path):
    """Strip every indent, double spaces and blank lines: fmt gives the canonical file back."""
    canonical, _ = format_text(path.read_text(encoding="utf-8"), path.name)
    mangled = "\n".join(re.sub(r"(?<=[^ \"\d]) (?=[^ ])", "  ", line.strip())
                        if '"' not in line and "#" not in line else line.strip()
                        for line in canonical.splitlines()).replace("\n\n", "\n\n\n")
    assert mangled != canonical
    assert format_text(mangled, path.name)[0] == canonical


def test_syntax_error_is_reported_not_formatted():
    formatted, diags = format_text("värde x = (1\n", "f.villkor")
    assert formatted is None and diags[0].code.startswith("V0")


def test_cli_fmt_check_and_rewrite(tmp_path):
    f = tmp_path / "a.villkor"
    f.write_text((ROOT / "agreements" / "fk-vgr-2010.villkor").read_text(encoding="utf-8")
                 .replace("\n  ", "\n"), encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["fmt", "--check", str(f)]).exit_code == 1
    assert runner.invoke(main, ["fmt", str(f)]).exit_code == 0
    assert runner.invoke(main, ["fmt", "--check", str(f)]).exit_code == 0


def test_check_json_output(tmp_path):
    bad = tmp_path / "b.villkor"
    bad.write_text('överenskommelse "X"\nslut\nvärde a = b\n  källa d\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--format", "json", str(bad)])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    codes = {d["kod"] for d in report[0]["diagnoser"]}
    assert {"V101", "V104"} <= codes
    first = next(d for d in report[0]["diagnoser"] if d["kod"] == "V101")
    assert (first["rad"], first["kolumn"]) == (3, 11)
