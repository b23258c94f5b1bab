"""Benchmark bench/pott.villkor against its peers, whole process CSV → CSV, in one run.

    python bench/run.py [--sizes 1000,100000,1000000] [--repeat 3] [--openfisca PYTHON]
                        [--intyg 10000000] [--reference 20000]

Tools, timed alternately: `villkor run` (columnar back-end), the hand-written pyarrow + numpy
script (bench/handwritten.py) and OpenFisca 46 (bench/openfisca_pott.py, in the venv whose python
is given with --openfisca; skipped without). Wall time and peak memory come from /usr/bin/time.
Each tool's amounts are compared with the exact result computed here with Python integers.
With --intyg N: bench/intyg.villkor on N certificates from Parquet, its verdicts checked against
numpy. Also: the reference evaluator (with its explanations) in recipients per second.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402

POT = 1_000_000_000


def exact_shares(data: Path) -> dict[str, int]:
    """The oracle: ⌊(2·P·k + T) / 2T⌋ in Python integers, for the rows with a = b = ja."""
    rows = list(csv.DictReader(open(data / "mottagare.csv", encoding="utf-8")))
    ok = {r["id"]: r["a"].lower() == "ja" and r["b"].lower() == "ja" for r in rows}
    total = sum(int(r["befolkning"]) for r in rows if ok[r["id"]])
    return {r["id"]: (2 * POT * int(r["befolkning"]) + total) // (2 * total) if ok[r["id"]] else 0
            for r in rows}


def timed(cmd: list[str]) -> tuple[float, int, str]:
    done = subprocess.run(["/usr/bin/time", "-f", "%e %M", *cmd], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    last = done.stderr.strip().splitlines()[-1].split()
    return float(last[0]), int(last[1]), done.stderr


def wrong(out: Path, oracle: dict[str, int]) -> int:
    bad = 0
    for r in csv.DictReader(open(out, encoding="utf-8")):
        if r["villkor"] == "1" and int(r["belopp"] or -1) != oracle[r["mottagare"]]:
            bad += 1
    return bad


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,100000,1000000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--openfisca", default=None, help="python of a venv with openfisca-core 46")
    ap.add_argument("--intyg", type=int, default=0,
                    help="certificate records for bench/intyg.villkor (Parquet), e.g. 10000000")
    ap.add_argument("--reference", type=int, default=20000,
                    help="recipients for the reference-evaluator rate")
    args = ap.parse_args()
    villkor = shutil.which("villkor") or str(Path(sys.executable).parent / "villkor")
    work = Path(tempfile.mkdtemp(prefix="villkor-bench-"))
    print("| mottagare | verktyg | tid (median) s | relativt villkor | topp-minne MB "
          "| fel belopp |")
    print("|---:|---|---:|---:|---:|---:|")
    for n in (int(x) for x in args.sizes.split(",")):
        data = work / f"n{n}"
        generate(n, data)
        oracle = exact_shares(data)
        tools = {
            "villkor run (kolumn)": [villkor, "run", str(HERE / "pott.villkor"), "--data",
                                     str(data), "--out", str(data / "villkor.csv")],
            "villkor run --out .parquet": [villkor, "run", str(HERE / "pott.villkor"), "--data",
                                           str(data), "--out", str(data / "villkor.parquet")],
            "DuckDB för hand (samma byte)": [sys.executable, str(HERE / "handwritten_duckdb.py"),
                                             str(data), str(data / "duck.csv")],
            "pyarrow+numpy för hand": [sys.executable, str(HERE / "handwritten.py"), str(data),
                                       str(data / "hand.csv")],
        }
        outs = {"villkor run (kolumn)": data / "villkor.csv",
                "DuckDB för hand (samma byte)": data / "duck.csv",
                "pyarrow+numpy för hand": data / "hand.csv"}
        if args.openfisca:
            tools["OpenFisca 46"] = [args.openfisca, str(HERE / "openfisca_pott.py"), str(data),
                                     str(data / "openfisca.csv")]
            outs["OpenFisca 46"] = data / "openfisca.csv"
        times = {k: [] for k in tools}
        peaks = {k: 0 for k in tools}
        compute = []
        for _ in range(args.repeat):
            for name, cmd in tools.items():   # alternately, so load drifts hit all alike
                secs, kb, err = timed(cmd)
                times[name].append(secs)
                peaks[name] = max(peaks[name], kb)
                if name == "OpenFisca 46":
                    compute += [float(line.split()[1]) for line in err.splitlines()
                                if line.startswith("openfisca-beräkning")]
        base = statistics.median(times["villkor run (kolumn)"])
        same = (data / "duck.csv").read_bytes() == (data / "villkor.csv").read_bytes()
        for name in tools:
            t = statistics.median(times[name])
            bad = f"{wrong(outs[name], oracle):,}" if name in outs else ""
            print(f"| {n:,} | {name} | {t:.2f} | {t / base:.2f} | {peaks[name] / 1024:.0f} | "
                  f"{bad} |".replace(",", " "))
        print(f"| {n:,} | (DuckDB-skriptets fil = villkor runs fil, byte för byte: "
              f"{'ja' if same else 'NEJ'}) | | | | |".replace(",", " "))
        if compute:
            print(f"| {n:,} | OpenFisca 46, bara beräkningen | {statistics.median(compute):.3f} "
                  "| | | |".replace(",", " "))
    if args.intyg:
        certificates(villkor, work / "intyg", args.intyg, args.repeat)
    data = work / "reference"
    generate(args.reference, data)
    secs, kb, _ = timed([villkor, "run", str(HERE / "pott.villkor"), "--data", str(data),
                         "--out", str(data / "ref.csv"), "--motor", "referens"])
    print(f"\nReferensutvärderaren (med förklaringar), {args.reference:,} mottagare: {secs:.2f} s, "
          f"{args.reference / secs:,.0f} mottagare/s, topp {kb / 1024:.0f} MB".replace(",", " "))
    shutil.rmtree(work)


def certificates(villkor: str, data: Path, n: int, repeat: int) -> None:
    """bench/intyg.villkor on N records from Parquet: time, memory, verdicts against numpy."""
    from generate_intyg import generate as generate_intyg

    generate_intyg(n, data)
    cmd = [villkor, "run", str(HERE / "intyg.villkor"), "--data", str(data), "--out",
           str(data / "ut.csv")]
    query = [sys.executable, str(HERE / "handwritten_intyg.py"), str(data / "intyg.parquet"),
             str(data / "hand.csv")]
    runs, hand = [], []
    for _ in range(repeat):     # alternately, so load drifts hit both alike
        runs.append(timed(cmd))
        hand.append(timed(query))
    secs = statistics.median(r[0] for r in runs)
    peak = max(r[1] for r in runs) / 1024
    hand_secs = statistics.median(r[0] for r in hand)
    hand_verdicts = {(r["villkor"], r["mottagare"]): r["utfall"]
                     for r in csv.DictReader(open(data / "hand.csv", encoding="utf-8"))}
    expected = intyg_oracle(data / "intyg.parquet")
    got = {(r["villkor"], r["mottagare"]): r["utfall"]
           for r in csv.DictReader(open(data / "ut.csv", encoding="utf-8"))
           if r["villkor"] != "summa"}
    bad = sum(got.get(k) != v for k, v in expected.items()) + len(got.keys() - expected.keys())
    print(f"\nIntyg (FK–VGR 2010, delmålet), {n:,} poster från Parquet: {secs:.2f} s (median av "
          f"{repeat}), topp {peak:.0f} MB, {len(got):,} utfall, {bad} fel mot numpy".replace(
              ",", " "))
    hand_bad = sum(hand_verdicts.get(k) != v for k, v in expected.items())
    print(f"DuckDB-fråga för hand, samma poster: {hand_secs:.2f} s (median av {repeat}), "
          f"{len(hand_verdicts):,} utfall, {hand_bad} fel mot numpy; villkor run "
          f"{secs / hand_secs:.2f}× dess tid".replace(",", " "))


def intyg_oracle(path: Path) -> dict[tuple[str, str], str]:
    """Per unit (villkor 1) and centre (villkor 2): the share of 2010's certificates with all
    five items, ≥ 70 % in integers; a certificate with a blank item and no `nej` → underlag
    saknas. numpy only."""
    import numpy as np
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    t = pq.read_table(path)
    days = pc.cast(t["datum"], "int32").to_numpy()
    start, end = (np.datetime64(d, "D").astype(int) for d in ("2010-01-01", "2010-12-31"))
    year = (days >= start) & (days <= end)
    items = ("diagnos", "funktionsnedsättning", "aktivitetsbegränsning", "arbetsförmåga",
             "prognos")
    blank = np.zeros(len(days), bool)
    good = np.ones(len(days), bool)
    no = np.zeros(len(days), bool)
    for item in items:
        col = t[item].combine_chunks()
        blank |= col.is_null().to_numpy(zero_copy_only=False)
        good &= pc.fill_null(col, False).to_numpy(zero_copy_only=False)
        no |= pc.fill_null(pc.invert(col), False).to_numpy(zero_copy_only=False)
    blank &= ~no     # `och`: a `nej` decides the certificate even beside a blank item
    out = {}
    for vid, column in (("1", "enhet"), ("2", "center")):
        codes, inverse = np.unique(t[column].to_numpy(zero_copy_only=False), return_inverse=True)
        rows = np.bincount(inverse, weights=year, minlength=len(codes))
        chosen = np.bincount(inverse, weights=year & good & ~blank, minlength=len(codes))
        open_ = np.bincount(inverse, weights=year & blank, minlength=len(codes))
        for code, n_rows, n_chosen, n_open in zip(codes, rows, chosen, open_):
            out[(vid, code)] = ("underlag saknas" if n_open or not n_rows else
                                "uppfyllt" if 10 * int(n_chosen) >= 7 * int(n_rows) else
                                "ej uppfyllt")
    return out


if __name__ == "__main__":
    main()
