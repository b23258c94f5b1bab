"""Loading the grammar, and its parser built once per grammar rather than once per process.

The wheel carries `dsl/villkor.lark` as package data (see pyproject.toml), so an installed
`villkor` finds it from any directory; an editable install reads the checkout's copy.

Building the LALR tables takes about 0.4 s; loading them takes a tenth of that. So the built
parser is kept in the user's cache directory (`$XDG_CACHE_HOME/villkor-engine`, else
`~/.cache/villkor-engine`; `%LOCALAPPDATA%` on Windows, `~/Library/Caches` on macOS), never in
the installed package. Not lark's own `cache=True`: it writes into the shared temp directory,
not atomically, and unpickles whatever file holds the expected name there.
"""

from __future__ import annotations

import os
import sys
import tempfile
import zlib
from functools import lru_cache
from importlib import resources
from pathlib import Path

from lark import Lark

GRAMMAR_FILE = "villkor.lark"
OPTIONS = {"parser": "lalr", "lexer": "contextual", "propagate_positions": True,
           "maybe_placeholders": False}
MAGIC = b"villkor-engine parser 1\n"


def grammar_text() -> str:
    packaged = resources.files("villkor_engine").joinpath("grammar").joinpath(GRAMMAR_FILE)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[3] / "dsl" / GRAMMAR_FILE
    return checkout.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def parser() -> Lark:
    """The LALR parser, built once. No transformer here: parse first, then transform with meta."""
    return cached_lark(grammar_text(), **OPTIONS)


def cache_dir() -> Path | None:
    """The user's cache directory for this package; None when there is no home to put it in."""
    try:
        if sys.platform == "win32":
            base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        elif sys.platform == "darwin":
            base = Path.home() / "Library" / "Caches"
        else:
            xdg = os.environ.get("XDG_CACHE_HOME", "")
            base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    except (RuntimeError, KeyError):   # no HOME and no passwd entry
        return None
    return base / "villkor-engine"


def cached_lark(grammar: str, **options) -> Lark:
    """`Lark(grammar, **options)`, read from the cache when the same grammar was built before.

    The file holds the exact grammar text, options and lark and Python versions it was built
    from, compared in full before the tables are read, so a changed grammar (or lark) is built
    anew, never served stale. Written to a temporary file and renamed, so a reader never sees
    half a file; an unwritable or missing cache directory means building every time, nothing
    worse.
    """
    import lark

    ident = repr((grammar, sorted(options.items()), lark.__version__,
                  tuple(sys.version_info[:2]))).encode("utf-8")
    directory = cache_dir()
    path = directory / f"parser-{zlib.crc32(ident):08x}-{len(ident)}.pickle" if directory \
        else None
    if path is not None:
        loaded = _load(path, ident)
        if loaded is not None:
            return loaded
    built = Lark(grammar, **options)
    if path is not None:
        _save(built, path, ident)
    return built


def _load(path: Path, ident: bytes) -> Lark | None:
    try:
        with open(path, "rb") as f:
            if hasattr(os, "getuid") and os.fstat(f.fileno()).st_uid != os.getuid():
                return None   # not written by us: not unpickled
            if f.read(len(MAGIC)) != MAGIC or f.readline() != b"%d\n" % len(ident) \
                    or f.read(len(ident)) != ident:
                return None   # another grammar with the same checksum: built and replaced
            return Lark.load(f)
    except FileNotFoundError:
        return None
    except Exception:   # a damaged or unreadable file: built again and replaced
        return None


def _save(built: Lark, path: Path, ident: bytes) -> None:
    tmp = None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + b"%d\n" % len(ident) + ident)
            built.save(f)
        os.replace(tmp, path)
    except Exception:   # read-only home, full disk …: the cache is only ever a shortcut
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
