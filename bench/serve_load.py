"""Load on `villkor serve`: requests per second and p50/p99 latency for /api/check and /api/run
on the 2020 agreement, with 1, 8 and 32 concurrent clients.

    python bench/serve_load.py [--requests N] [--seconds S] [--workers W]

Starts the server (uvicorn, one process of its own, apart from the client's) on 127.0.0.1 at a
free port, warms it up, then per endpoint and client count sends N requests (default 200)
through a bounded asyncio/httpx client (exactly `clients` requests in flight), each phase
stopping after S seconds (default 60) at the latest. Two check variants: `check` sends the same
text every time (an editor re-checking an unchanged text: served from the server's cache of
checked texts), `check (ny text)` makes every text unique (a trailing comment with a counter),
so each request is parsed and checked.
`run` uploads the agreement and the three example CSV files as multipart.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]

AGREEMENT = ROOT / "agreements" / "sjukskrivning-2020.villkor"
EXAMPLE = ROOT / "examples" / "sjukskrivning-2020"


def start_server(workers: int) -> tuple[str, subprocess.Popen]:
    """The server in its own process (its own interpreter lock, apart from the client's)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = ("import sys, uvicorn; from pathlib import Path; "
            "from villkor_engine.serve import Limits, create_app; "
            "uvicorn.run(create_app(examples=Path(sys.argv[1]), limits=Limits(workers="
            "int(sys.argv[3]))), host='127.0.0.1', port=int(sys.argv[2]), "
            "log_level='warning', access_log=False)")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen([sys.executable, "-c", code, str(ROOT), str(port), str(workers)],
                            env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/api/version", timeout=1).status_code == 200:
                return base, proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("servern startade inte")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


async def phase(url: str, make, clients: int, requests: int, seconds: float):
    """`requests` requests, `clients` at a time, stopping at `seconds`; (rps, p50, p99, bad)."""
    latencies: list[float] = []
    bad = 0
    counter = iter(range(requests))
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        async def worker():
            nonlocal bad
            for i in counter:
                if time.monotonic() > deadline:
                    return
                kwargs = make(i)
                t = time.perf_counter()
                r = await client.post(url, **kwargs)
                latencies.append(time.perf_counter() - t)
                bad += r.status_code != 200

        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(clients))),
                               seconds + 120)
        wall = time.perf_counter() - started
    return len(latencies) / wall, percentile(latencies, 50) * 1000, \
        percentile(latencies, 99) * 1000, bad, len(latencies)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    text = AGREEMENT.read_bytes()
    files = [("overenskommelse", ("sjukskrivning-2020.villkor", text))] + \
        [("data", (p.name, p.read_bytes())) for p in sorted(EXAMPLE.glob("*.csv"))]
    base, proc = start_server(args.workers)
    cases = [
        ("check", "/api/check", lambda i: {"content": text}),
        ("check (ny text)", "/api/check", lambda i: {"content": text + f"\n# {i}\n".encode()}),
        ("run", "/api/run", lambda i: {"files": files}),
    ]
    try:
        asyncio.run(phase(base + "/api/run", lambda i: {"files": files}, 2, 10, 30))  # warm-up
        print(f"villkor serve på {base}: 1 serverprocess (klienten i en egen), "
              f"{args.workers} beräkningstrådar, "
              f"{os.cpu_count()} kärnor, Python {sys.version.split()[0]}")
        print(f"{'slutpunkt':<18}{'klienter':>9}{'förfrågningar':>15}{'per s':>9}"
              f"{'p50 ms':>9}{'p99 ms':>9}{'fel':>5}")
        for name, path, make in cases:
            for clients in (1, 8, 32):
                rps, p50, p99, bad, n = asyncio.run(
                    phase(base + path, make, clients, args.requests, args.seconds))
                print(f"{name:<18}{clients:>9}{n:>15}{rps:>9.1f}{p50:>9.1f}{p99:>9.1f}"
                      f"{bad:>5}", flush=True)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
