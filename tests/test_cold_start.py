"""`villkor check` starts cold: what it loads, the parser cache, and the cheap frozen classes.

No timings here (the machine decides those; bench/cold_start.py measures them): the test is
that the heavy libraries stay unloaded, that the cached parser is the parser, and that
`@frozen` makes what `@dataclass(frozen=True)` makes.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from lark import Lark

from villkor_engine import diagnostics
from villkor_engine.eval import values
from villkor_engine.model import model
from villkor_engine.syntax import ast, grammar

ROOT = Path(__file__).resolve().parents[1]
AGREEMENTS = sorted((ROOT / "agreements").glob("*.villkor"))

# Loaded only by the commands that need them (run, report, sql, serve, lsp), never by `check`
HEAVY = ("duckdb", "pyarrow", "openpyxl", "fastapi", "pyspark", "pydantic", "sqlglot", "numpy",
         "pygls", "uvicorn")

CHECK_IN_A_NEW_PROCESS = """
import json, sys
from villkor_engine.cli import main
for args in json.loads(sys.argv[1]):
    try:
        main(args)
    except SystemExit:
        pass
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_check_loads_none_of_the_heavy_libraries(tmp_path):
    broken = tmp_path / "trasig.villkor"
    broken.write_text(AGREEMENTS[0].read_text(encoding="utf-8").replace("villkor ", "vilkor ", 1),
                      encoding="utf-8")
    runs = [["check", str(AGREEMENTS[0])], ["check", "--format", "json", *map(str, AGREEMENTS)],
            ["check", str(broken)], ["check", "--help"], ["--help"]]
    done = subprocess.run([sys.executable, "-c", CHECK_IN_A_NEW_PROCESS, json.dumps(runs)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "fel[" in done.stderr   # the broken file's diagnostics were rendered
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert "villkor_engine" in loaded and "lark" in loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


# ---- the parser cache -------------------------------------------------------------------------

def test_the_cached_parser_parses_as_the_built_one():
    cached = grammar.parser()
    built = Lark(grammar.grammar_text(), **grammar.OPTIONS)
    for path in [*AGREEMENTS, *sorted((ROOT / "bench").glob("*.villkor"))]:
        text = path.read_text(encoding="utf-8")
        mine, theirs = cached.parse(text), built.parse(text)
        assert mine == theirs, path
        for a, b in zip(mine.iter_subtrees(), theirs.iter_subtrees()):
            assert (a.meta.line, a.meta.column, a.meta.end_pos) == \
                (b.meta.line, b.meta.column, b.meta.end_pos), path


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="XDG_CACHE_HOME: Linux and BSD")
def test_the_cache_lives_in_the_user_cache_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert grammar.cache_dir() == tmp_path / "villkor-engine"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")   # not absolute: ignored, as XDG says
    assert grammar.cache_dir() == Path.home() / ".cache" / "villkor-engine"


SMALL = 'start: WORD+\nWORD: /[a-z]+/\n%ignore " "\n'


def test_a_parser_is_cached_once_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setattr(grammar, "cache_dir", lambda: tmp_path / "c")
    first = grammar.cached_lark(SMALL, parser="lalr")
    files = list((tmp_path / "c").iterdir())
    assert len(files) == 1 and files[0].suffix == ".pickle"   # no temp file left behind
    assert files[0].read_bytes().startswith(grammar.MAGIC)
    if hasattr(os, "getuid"):
        assert (tmp_path / "c").stat().st_mode & 0o077 == 0   # the user's alone
    second = grammar.cached_lark(SMALL, parser="lalr")
    assert not hasattr(second, "grammar") and hasattr(first, "grammar")   # loaded, not built
    assert second.parse("ab cd") == first.parse("ab cd")


def test_a_changed_grammar_is_never_served_stale(tmp_path, monkeypatch):
    monkeypatch.setattr(grammar, "cache_dir", lambda: tmp_path)
    grammar.cached_lark(SMALL, parser="lalr")
    changed = SMALL.replace("[a-z]", "[a-z0-9]")
    assert grammar.cached_lark(changed, parser="lalr").parse("a1")
    # even under the other grammar's file name (a checksum collision), the text is compared
    old, new = sorted(tmp_path.iterdir(), key=lambda p: p.stat().st_mtime_ns)
    new.write_bytes(old.read_bytes())
    assert grammar.cached_lark(changed, parser="lalr").parse("a1")
    # so are other options
    assert grammar.cached_lark(SMALL, parser="lalr", keep_all_tokens=True).options.keep_all_tokens


def test_a_damaged_cache_file_is_built_again_and_replaced(tmp_path, monkeypatch):
    monkeypatch.setattr(grammar, "cache_dir", lambda: tmp_path)
    grammar.cached_lark(SMALL, parser="lalr")
    [path] = tmp_path.iterdir()
    whole = path.read_bytes()
    path.write_bytes(whole[:len(whole) // 2])   # cut in half
    rebuilt = grammar.cached_lark(SMALL, parser="lalr")
    assert hasattr(rebuilt, "grammar") and rebuilt.parse("ab")   # built, not read
    assert path.read_bytes().startswith(grammar.MAGIC)   # and written whole again
    assert not hasattr(grammar.cached_lark(SMALL, parser="lalr"), "grammar")   # now read back


def test_no_cache_directory_or_an_unwritable_one_still_parses(tmp_path, monkeypatch):
    monkeypatch.setattr(grammar, "cache_dir", lambda: None)
    assert grammar.cached_lark(SMALL, parser="lalr").parse("ab")
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setattr(grammar, "cache_dir", lambda: blocker / "villkor-engine")
    assert grammar.cached_lark(SMALL, parser="lalr").parse("ab")
    assert blocker.read_text(encoding="utf-8") == ""

    def fail(*args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(grammar, "cache_dir", lambda: tmp_path / "full")
    monkeypatch.setattr(grammar.os, "replace", fail)
    assert grammar.cached_lark(SMALL, parser="lalr").parse("ab")
    assert list((tmp_path / "full").iterdir()) == []   # the temp file is gone too


# ---- @frozen is @dataclass(frozen=True) ---------------------------------------------------------

FROZEN = [c for m in (ast, diagnostics, model, values) for c in vars(m).values()
          if isinstance(c, type) and c.__module__ == m.__name__ and dataclasses.is_dataclass(c)
          and not c.__dataclass_params__.init]   # @frozen records its fields with init=False


def _twin(cls: type) -> type:
    """The same class made by the standard library's @dataclass(frozen=True)."""
    ns: dict = {"__module__": cls.__module__, "__qualname__": cls.__qualname__,
                "__annotations__": dict(cls.__annotations__)}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            ns[f.name] = dataclasses.field(default=f.default, compare=f.compare, repr=f.repr,
                                           hash=f.hash)
    generated = {"__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__",
                 "__doc__", "__dict__", "__weakref__", "__match_args__"}
    ns.update({k: v for k, v in cls.__dict__.items()
               if k not in ns and k not in generated and not k.startswith("__dataclass")})
    return dataclasses.dataclass(frozen=True)(type(cls.__name__, (), ns))


def _outcome(action, *args, **kwargs) -> tuple:
    try:
        return ("ok", action(*args, **kwargs))
    except Exception as exc:   # noqa: BLE001 - the exception is what is compared
        return (type(exc), str(exc))


def test_every_frozen_class_is_found():
    assert {ast.Num, ast.Module, ast.Villkor, diagnostics.Span, diagnostics.Diagnostic,
            model.TableSpec, values.Missing} <= set(FROZEN)
    assert len(FROZEN) >= 60


@pytest.mark.parametrize("cls", FROZEN, ids=lambda c: c.__name__)
def test_frozen_makes_what_the_dataclass_makes(cls):
    twin = _twin(cls)
    assert str(inspect.signature(cls)) == str(inspect.signature(twin))
    assert cls.__init__.__annotations__ == twin.__init__.__annotations__
    assert cls.__init__.__qualname__ == twin.__init__.__qualname__
    assert cls.__match_args__ == twin.__match_args__
    if cls.__doc__.startswith(cls.__name__ + "("):   # no docstring of its own
        assert cls.__doc__ == twin.__doc__
    fields = dataclasses.fields(cls)
    args = [f"v{i}" for i in range(len(fields))]
    mine, theirs = cls(*args), twin(*args)
    assert repr(mine) == repr(theirs) and vars(mine) == vars(theirs)
    assert hash(mine) == hash(theirs)
    assert dataclasses.asdict(mine) == dataclasses.asdict(theirs)
    same = [a if f.compare else "annat" for f, a in zip(fields, args)]
    other = ["annat", *args[1:]]
    assert (mine == cls(*same), mine == cls(*other)) == (theirs == twin(*same),
                                                         theirs == twin(*other))
    assert mine != theirs   # another class: never equal
    for action in (lambda o: setattr(o, fields[0].name, 1), lambda o: setattr(o, "ny", 1),
                   lambda o: delattr(o, fields[0].name)):
        assert _outcome(action, mine) == _outcome(action, theirs)
    assert _outcome(cls) == _outcome(twin)
    assert _outcome(cls, *args, x=1) == _outcome(twin, *args, x=1)
    assert vars(dataclasses.replace(mine, **{fields[0].name: "ny"})) == \
        vars(dataclasses.replace(theirs, **{fields[0].name: "ny"}))
    assert pickle.loads(pickle.dumps(mine)) == mine and copy.deepcopy(mine) == mine


def test_frozen_refuses_what_it_does_not_make():
    from villkor_engine.frozen import frozen

    with pytest.raises(TypeError, match="default_factory|fields"):
        @frozen
        class WithFactory:
            items: list = dataclasses.field(default_factory=list)
    with pytest.raises(TypeError, match="defines __eq__"):
        @frozen
        class OwnEquality:
            x: int

            def __eq__(self, other):
                return True
