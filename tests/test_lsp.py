"""The language server, spoken to over stdio like an editor does (JSON-RPC with headers)."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import AGREEMENT_2020

TIMEOUT = 30


class Client:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "villkor_engine.cli", "lsp"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.inbox: queue.Queue = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        out = self.proc.stdout
        while True:
            headers = {}
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                key, _, value = line.decode().partition(":")
                headers[key.strip().lower()] = value.strip()
            self.inbox.put(json.loads(out.read(int(headers["content-length"]))))

    def send(self, method, params, request=True):
        msg = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            msg["id"] = self.next_id
        body = json.dumps(msg).encode()
        self.proc.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        self.proc.stdin.flush()
        return msg.get("id")

    def wait(self, match):
        while True:
            msg = self.inbox.get(timeout=TIMEOUT)
            if match(msg):
                return msg

    def request(self, method, params):
        i = self.send(method, params)
        return self.wait(lambda m: m.get("id") == i)

    def close(self):
        self.request("shutdown", None)
        self.send("exit", None, request=False)
        self.proc.wait(timeout=TIMEOUT)


@pytest.fixture
def client():
    c = Client()
    yield c
    if c.proc.poll() is None:
        c.proc.kill()


def open_doc(client, uri, text):
    client.send("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "villkor", "version": 1, "text": text}}, request=False)
    return client.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics")


def test_initialize_diagnostics_hover_completion_definition(client, tmp_path: Path):
    init = client.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    caps = init["result"]["capabilities"]
    assert caps["hoverProvider"] and caps["completionProvider"] and caps["definitionProvider"]
    client.send("initialized", {}, request=False)

    text = AGREEMENT_2020.read_text(encoding="utf-8")
    uri = (tmp_path / "a.villkor").as_uri()
    diags = open_doc(client, uri, text)
    assert diags["params"]["diagnostics"] == []

    lines = text.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("  pott v2_regioner"))
    col = lines[row].index("v2_regioner") + 2
    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                  "position": {"line": row, "character": col}})
    value = hover["result"]["contents"]["value"]
    assert "belopp" in value and "140000000" in value and "1. Bakgrund, villkor 2" in value

    target = client.request("textDocument/definition", {"textDocument": {"uri": uri},
                                                        "position": {"line": row,
                                                                     "character": col}})
    defined = lines[target["result"]["range"]["start"]["line"]]
    assert defined.startswith("värde v2_regioner")

    row = next(i for i, line in enumerate(lines) if "krav redovisning.2.2a" in line)
    col = lines[row].index("redovisning.") + len("redovisning.")
    items = client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                       "position": {"line": row,
                                                                    "character": col}})
    labels = {i["label"] for i in items["result"]["items"]}
    assert {"2.2a", "2.2b", "inkom"} <= labels

    client.close()


def test_diagnostics_have_code_range_and_swedish_message(client, tmp_path: Path):
    client.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    client.send("initialized", {}, request=False)
    text = 'överenskommelse "X"\nslut\ndokument d "D"\nvärde pott = 1 kr\n  källa d\n' \
           'kontroll "k" pot = 1 kr\n  källa d\n'
    diags = open_doc(client, (tmp_path / "b.villkor").as_uri(), text)["params"]["diagnostics"]
    d = next(x for x in diags if x["code"] == "V101")
    assert d["range"]["start"] == {"line": 5, "character": 13}
    assert "okänt namn" in d["message"] and "menade du `pott`?" in d["message"]
    client.close()


# ---- what a client sends may be wrong or hostile; the server answers and lives on ----------

def _start(client, tmp_path, text="överenskommelse \"X\"\nslut\n"):
    client.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    client.send("initialized", {}, request=False)
    uri = (tmp_path / "a.villkor").as_uri()
    open_doc(client, uri, text)
    return uri


BAD_POSITIONS = [{"line": -1, "character": 0}, {"line": 2 ** 31, "character": 0},
                 {"line": 0, "character": -5}, {"line": 0, "character": 2 ** 40}]


def test_a_position_out_of_range_gets_an_error_response(client, tmp_path):
    """Before, such a request was dropped while deserialising: no answer at all, and an editor
    waiting for one. Now: an InvalidParams error in Swedish; the next request is answered."""
    uri = _start(client, tmp_path)
    for method in ("textDocument/hover", "textDocument/definition", "textDocument/completion"):
        for position in BAD_POSITIONS:
            answer = client.request(method, {"textDocument": {"uri": uri}, "position": position})
            assert answer["error"]["code"] == -32602, (method, position, answer)
            assert "ogiltig position" in answer["error"]["message"]
        fine = client.request(method, {"textDocument": {"uri": uri},
                                       "position": {"line": 2 ** 31 - 1,
                                                    "character": 2 ** 31 - 1}})
        assert "error" not in fine, fine
    client.close()


def test_an_oversized_request_is_answered_and_the_server_lives_on(client, tmp_path):
    """A 17 MiB request (over the 16 MiB bound) is read past and answered with an error for its
    id; the server answers the next request normally."""
    uri = _start(client, tmp_path)
    pad = "x" * (17 * 1024 * 1024)
    answer = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                   "position": {"line": 0, "character": 0},
                                                   "fyllnad": pad})
    assert answer["error"]["code"] == -32600
    assert "större än gränsen 16 MiB" in answer["error"]["message"]
    client.send("textDocument/didChange", {"fyllnad": pad}, request=False)
    shown = client.wait(lambda m: m.get("method") == "window/showMessage")
    assert "hoppades över" in shown["params"]["message"]
    after = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                  "position": {"line": 0, "character": 1}})
    assert "error" not in after
    client.close()


def test_a_huge_content_length_does_not_kill_the_server(client, tmp_path):
    """`Content-Length: 100000000000` made pygls allocate 100 GB (MemoryError, the server
    died). Now the body is read past in chunks: the client ends the stream early, the server
    says what it skipped and exits cleanly on end of input."""
    _start(client, tmp_path)
    client.proc.stdin.write(b"Content-Length: 100000000000\r\n\r\n{\"jsonrpc\": \"2.0\"")
    client.proc.stdin.flush()
    client.proc.stdin.close()
    shown = client.wait(lambda m: m.get("method") == "window/showMessage")
    assert "100000000000 byte" in shown["params"]["message"]
    assert client.proc.wait(timeout=TIMEOUT) == 0
    err = client.proc.stderr.read().decode(errors="replace")
    assert "MemoryError" not in err


def test_a_content_length_of_ten_thousand_digits_does_not_kill_the_server(client, tmp_path):
    """int() of a 10 000-digit header raised ValueError out of the read loop."""
    _start(client, tmp_path)
    client.proc.stdin.write(b"Content-Length: " + b"9" * 10_000 + b"\r\n\r\n{}")
    client.proc.stdin.flush()
    client.proc.stdin.close()
    client.wait(lambda m: m.get("method") == "window/showMessage")
    assert client.proc.wait(timeout=TIMEOUT) == 0
