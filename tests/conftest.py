"""Shared fixtures: the repository's own agreement and example data, copied so tests may edit."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AGREEMENT_2020 = ROOT / "agreements" / "sjukskrivning-2020.villkor"
EXAMPLE_2020 = ROOT / "examples" / "sjukskrivning-2020"


@pytest.fixture
def data_2020(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(EXAMPLE_2020, target)
    return target


@pytest.fixture(scope="session")
def model_2020():
    from villkor_engine.pipeline import load_agreement

    loaded = load_agreement(AGREEMENT_2020)
    assert loaded.ok, [d.header() for d in loaded.diagnostics]
    return loaded.model


# Minimal agreement skeleton for stage tests: header, one document, one recipient group.
HEADER = """
överenskommelse "Test"
  diarienummer "T-1"
slut
dokument d "Testdokument"
mottagargrupp regioner från befolkning namn region
tabell befolkning fil "befolkning.csv" per regioner nyckel lanskod
  lanskod: kod obligatorisk
  region: text obligatorisk
  befolkning: heltal obligatorisk positiv
slut
"""


@contextlib.contextmanager
def serving(app):
    """An ASGI app served by uvicorn on 127.0.0.1 (a free port) in a thread: its base URL."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "servern startade inte"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)
