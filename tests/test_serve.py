"""`villkor serve`: the HTTP API (FastAPI), its bounds and its Swedish errors."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx`")

from click.testing import CliRunner  # noqa: E402

from conftest import serving  # noqa: E402
from villkor_engine import api  # noqa: E402
from villkor_engine.cli import main  # noqa: E402
from villkor_engine.serve import Limits, create_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
AGREEMENT = ROOT / "agreements" / "sjukskrivning-2020.villkor"
EXAMPLE = ROOT / "examples" / "sjukskrivning-2020"
TEXT = AGREEMENT.read_bytes()


def _files(agreement: bytes = TEXT, data: Path = EXAMPLE) -> list:
    return [("overenskommelse", ("sjukskrivning-2020.villkor", agreement))] + \
        [("data", (p.name, p.read_bytes())) for p in sorted(data.glob("*.csv"))]


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    with TestClient(create_app(examples=ROOT)) as c:
        yield c


def _cli_csv(tmp_path: Path) -> str:
    out = tmp_path / "cli" / "utfall.csv"
    done = CliRunner().invoke(main, ["run", str(AGREEMENT), "--data", str(EXAMPLE),
                                     "--out", str(out)])
    assert done.exit_code == 0, done.output
    return out.read_text(encoding="utf-8")


def _as_csv(body: dict) -> str:
    from villkor_engine.write.output import ResultRow

    return api.csv_of_rows(ResultRow.model_validate(r) for r in body["rader"])


def test_check_200_without_and_with_errors(client):
    r = client.post("/api/check", content=TEXT)
    assert r.status_code == 200 and r.json()["ok"] is True and r.json()["diagnoser"] == []
    broken = TEXT.replace(b"heltal obligatorisk positiv", b"heltl obligatorisk", 1)
    r = client.post("/api/check", content=broken, params={"namn": "a.villkor"})
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is False and body["fil"] == "a.villkor"
    d = body["diagnoser"][0]
    assert {"kod", "allvarlighet", "meddelande", "tips", "rad", "kolumn"} <= set(d)
    assert d["allvarlighet"] == "fel" and d["rad"] > 1


def test_check_is_cli_json_shape(client):
    import json

    cli = json.loads(CliRunner().invoke(main, ["check", "--format", "json",
                                               str(AGREEMENT)]).output)[0]
    body = client.post("/api/check", content=TEXT,
                       params={"namn": "sjukskrivning-2020.villkor"}).json()
    assert body["diagnoser"] == cli["diagnoser"] and body["ok"] == cli["ok"]


def test_run_gives_cli_amounts_byte_for_byte(client, tmp_path):
    r = client.post("/api/run", files=_files())
    assert r.status_code == 200, r.text
    body = r.json()
    assert _as_csv(body) == _cli_csv(tmp_path)
    assert body["version"].startswith("tillägg juni2020") and body["fel"] == []
    gotland = {x["villkor"]: x["belopp"] for x in body["rader"] if x["mottagare"] == "09"}
    assert gotland["1"] == "577898" and gotland["summa"] == "1386955"
    assert {p["utbetalning"] for p in body["potter"]}


def test_run_csv_download_is_the_cli_file(client, tmp_path):
    r = client.post("/api/run", files=_files(), data={"format": "csv"})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert r.content.decode("utf-8") == _cli_csv(tmp_path)
    x = client.post("/api/run", files=_files(), data={"format": "xlsx"})
    assert x.status_code == 200 and x.content[:2] == b"PK"


def test_run_on_bundled_example_and_explanations(client):
    r = client.post("/api/run", files=[("overenskommelse", ("a.villkor", TEXT))],
                    data={"exempel": "sjukskrivning-2020", "forklaringar": "ja"})
    assert r.status_code == 200
    assert "Region Gotland" in r.json()["forklaringar"]["f-09-1"]
    assert client.get("/api/exempel").json()[0]["namn"]
    assert "överenskommelse" in client.get("/api/exempel/sjukskrivning-2020").json()["text"]
    bad = client.post("/api/run", files=[("overenskommelse", ("a.villkor", TEXT))],
                      data={"exempel": "../etc"})
    assert bad.status_code == 400 and bad.json()["fel"][0]["kod"] == "V323"


def test_run_params_and_per(client):
    r = client.post("/api/run", files=_files(),
                    data={"param": ["ersättning_per_kontakt=100"], "per": "2020-03-01"})
    assert r.status_code == 200, r.text
    assert not r.json()["version"].startswith("tillägg")
    bad = client.post("/api/run", files=_files(), data={"param": "okänd=1"})
    assert bad.status_code == 400 and bad.json()["fel"][0]["kod"] == "V301"
    bad = client.post("/api/run", files=_files(), data={"per": "igår"})
    assert bad.status_code == 400


def test_run_422_with_diagnostics(client):
    r = client.post("/api/run", files=_files(TEXT + b"\nxx"))
    assert r.status_code == 422
    body = r.json()
    assert body["steg"] == "överenskommelse"
    assert body["fel"][0]["kod"].startswith("V0") and body["fel"][0]["rad"]
    missing = client.post("/api/run", files=_files()[:2])
    assert missing.status_code == 422 and missing.json()["steg"] == "indata"


@pytest.mark.parametrize("name", ["../x.csv", "/etc/x", "a/../../x.csv", "C:x.csv",
                                  "a\\b.csv", "", "./"])
def test_part_named_with_a_path_is_400(client, name):
    r = client.post("/api/run", files=_files() + [("data", (name, b"a,b\n1,2\n"))])
    assert r.status_code == 400
    assert r.json()["fel"][0]["kod"] == "V214"
    assert "Traceback" not in r.text


def test_upload_stays_in_its_request_folder(client, tmp_path):
    import tempfile

    before = set(Path(tempfile.gettempdir()).glob("villkor-serve-*"))
    client.post("/api/run", files=_files())
    client.post("/api/run", files=_files() + [("data", ("../x.csv", b"a"))])
    assert set(Path(tempfile.gettempdir()).glob("villkor-serve-*")) <= before


def test_413_body_and_rows():
    from fastapi.testclient import TestClient

    with TestClient(create_app(examples=ROOT, limits=Limits(body=50_000))) as small:
        r = small.post("/api/run", files=_files(TEXT + b"#" * 60_000))
        assert r.status_code == 413 and r.json()["fel"][0]["meddelande"].startswith("begäran")
        r = small.post("/api/check", content=b"x" * 60_000)
        assert r.status_code == 413
    with TestClient(create_app(examples=ROOT, limits=Limits(rows=10))) as few:
        r = few.post("/api/run", files=_files())
        assert r.status_code == 413 and "rader" in r.json()["fel"][0]["meddelande"]


def test_408_time_limit():
    from fastapi.testclient import TestClient

    with TestClient(create_app(examples=ROOT, limits=Limits(seconds=0.001))) as slow:
        r = slow.post("/api/run", files=_files())
        assert r.status_code == 408
        assert "tog längre tid" in r.json()["fel"][0]["meddelande"]


def test_errors_are_swedish_json(client):
    r = client.get("/finns-inte")
    assert r.status_code == 404 and r.json()["fel"][0]["meddelande"] == "sidan finns inte"
    r = client.post("/api/run", content=b"inget formul\xc3\xa4r",
                    headers={"content-type": "text/plain"})
    assert r.status_code == 400 and r.json()["fel"][0]["kod"] in ("V321", "V322")
    r = client.post("/api/check", content=b"\xff\xfe")
    assert r.status_code == 400 and r.json()["fel"][0]["kod"] == "V001"
    r = client.post("/api/hover", content=b"{")
    assert r.status_code == 400


def test_openapi_lists_the_endpoints(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/check", "/api/run", "/api/explain", "/api/report", "/api/diff"} <= set(paths)
    assert "multipart/form-data" in paths["/api/run"]["post"]["requestBody"]["content"]


def test_explain_and_report(client):
    r = client.post("/api/explain", files=_files(), data={"mottagare": "09", "villkor": "1"})
    assert r.status_code == 200 and "577 898 kr" in r.json()["forklaring"]
    r = client.post("/api/explain", files=_files(), data={"mottagare": "99"})
    assert r.status_code == 404 and r.json()["fel"][0]["kod"] == "V303"
    r = client.post("/api/explain", files=_files(), data={"mottagare": "09", "format": "html"})
    assert r.status_code == 200 and "<section" in r.text
    r = client.post("/api/report", files=_files())
    assert r.status_code == 200 and 'id="utfall"' in r.text
    assert "script-src" not in r.headers["content-security-policy"]
    r = client.post("/api/report", files=_files(), data={"format": "xlsx"})
    assert r.status_code == 200 and r.content[:2] == b"PK"


def test_report_and_explain_need_the_reference_engine_and_say_so(client, tmp_path):
    """The column engine keeps no explanations: a report or an explanation asked of it is a
    Swedish 400 (it was a 500 internal error), and the default engine gives the report."""
    import subprocess
    import sys

    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "30", str(tmp_path)],
                   check=True)
    pott = [("overenskommelse", ("pott.villkor", (ROOT / "bench" / "pott.villkor").read_bytes())),
            ("data", ("mottagare.csv", (tmp_path / "mottagare.csv").read_bytes()))]
    for path, extra in (("/api/report", {}), ("/api/explain", {"mottagare": "m0"})):
        r = client.post(path, files=pott, data={"motor": "kolumn", **extra})
        assert r.status_code == 400, (path, r.status_code, r.text)
        assert r.json()["fel"][0]["kod"] == "V300" and "referensmotorn" in r.text
    assert client.post("/api/report", files=pott).status_code == 200


def test_diff_money_per_recipient(client):
    edited = TEXT.replace(b"577", b"577", 1)
    r = client.post("/api/diff", files=_files(edited) + [("sparad", ("s.villkor", TEXT))])
    assert r.status_code == 200, r.text
    body = r.json()
    assert any(s["mottagare"] == "09" for s in body["summor"])
    assert body["totalt"]["skillnad"] in ("0", None)


def test_hover_like_the_language_server(client):
    text = TEXT.decode("utf-8")
    lines = text.splitlines()
    line = next(i for i, x in enumerate(lines) if x.startswith("tabell befolkning"))
    r = client.post("/api/hover", json={"text": text, "rad": line, "tecken": 9})
    assert r.status_code == 200
    assert r.json()["typ"] == "tabell" and "befolkning.csv" in r.json()["text"]


# ---- a real server on 127.0.0.1 -----------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    with serving(create_app(examples=ROOT)) as url:
        yield url


def test_40_concurrent_runs_agree(server, tmp_path):
    expected = _cli_csv(tmp_path)

    async def one(client: httpx.AsyncClient) -> tuple[int, str]:
        r = await client.post(f"{server}/api/run", files=_files())
        return r.status_code, _as_csv(r.json()) if r.status_code == 200 else r.text

    async def all_of_them():
        limits = httpx.Limits(max_connections=40)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            return await asyncio.wait_for(asyncio.gather(*(one(client) for _ in range(40))), 120)

    answers = asyncio.run(all_of_them())
    assert [status for status, _ in answers] == [200] * 40
    assert all(text == expected for _, text in answers)
