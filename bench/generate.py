"""Generate bench data: `python bench/generate.py N DIR` writes DIR/mottagare.csv (seeded)."""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path


def generate(n: int, target: Path, seed: int = 46) -> Path:
    rng = random.Random(seed)
    target.mkdir(parents=True, exist_ok=True)
    path = target / "mottagare.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "befolkning", "a", "b"])
        for i in range(n):
            w.writerow([f"m{i:07d}", rng.randint(1, 2_500_000),
                        "ja" if rng.random() < 0.9 else "nej",
                        "ja" if rng.random() < 0.9 else "nej"])
    return path


if __name__ == "__main__":
    print(generate(int(sys.argv[1]), Path(sys.argv[2])))
