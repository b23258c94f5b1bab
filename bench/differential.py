"""The differential test at scale: `python bench/differential.py [N]` (default 100 000 cases).

Runs tests/test_differential.py with N hypothesis cases for the pot agreement and N/2 for the
certificate records; every case compares the columnar engine's files with the reference's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    n = sys.argv[1] if len(sys.argv) > 1 else "100000"
    env = {**os.environ, "VILLKOR_DIFF_EXAMPLES": n}
    sys.exit(subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              str(ROOT / "tests" / "test_differential.py")], cwd=ROOT, env=env))
