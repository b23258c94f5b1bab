"""The OpenFisca 46 peer: a minimal model of bench/pott.villkor (run in its own venv).

Usage: python bench/openfisca_pott.py DIR OUT.csv. OpenFisca computes in numpy floats (float32 by
default for `float` variables); the harness counts how many of its amounts differ from the exact
integer result. Prints its own computation time (without CSV I/O) on stderr.
"""

from __future__ import annotations

import csv
import sys
import time

import numpy as np
from openfisca_core.entities import build_entity
from openfisca_core.periods import DateUnit
from openfisca_core.simulation_builder import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

POT = 1_000_000_000
PERIOD = "2020"

Mottagare = build_entity(key="mottagare", plural="mottagarna", label="Mottagare", is_person=True)


class befolkning(Variable):
    value_type = int
    entity = Mottagare
    definition_period = DateUnit.YEAR


class a(Variable):
    value_type = bool
    entity = Mottagare
    definition_period = DateUnit.YEAR


class b(Variable):
    value_type = bool
    entity = Mottagare
    definition_period = DateUnit.YEAR


class uppfyller(Variable):
    value_type = bool
    entity = Mottagare
    definition_period = DateUnit.YEAR

    def formula(mottagare, period):
        return mottagare("a", period) * mottagare("b", period)


class andel(Variable):
    value_type = float
    entity = Mottagare
    definition_period = DateUnit.YEAR

    def formula(mottagare, period):
        pop = mottagare("befolkning", period)
        ok = mottagare("uppfyller", period)
        total = (pop * ok).sum()
        # Careful, idiomatic OpenFisca: divide first (POT * pop overflows int32 silently and
        # gives 0), round with numpy; the `float` variable is stored as float32.
        return np.round(pop * ok / total * POT)


def main(data_dir: str, out: str) -> None:
    ids, pop, av, bv = [], [], [], []
    with open(f"{data_dir}/mottagare.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            ids.append(r["id"])
            pop.append(int(r["befolkning"]))
            av.append(r["a"].lower() == "ja")
            bv.append(r["b"].lower() == "ja")
    system = TaxBenefitSystem([Mottagare])
    for v in (befolkning, a, b, uppfyller, andel):
        system.add_variable(v)
    started = time.perf_counter()
    sim = SimulationBuilder().build_default_simulation(system, count=len(ids))
    sim.set_input("befolkning", PERIOD, np.array(pop))
    sim.set_input("a", PERIOD, np.array(av))
    sim.set_input("b", PERIOD, np.array(bv))
    shares = sim.calculate("andel", PERIOD)
    ok = sim.calculate("uppfyller", PERIOD)
    print(f"openfisca-beräkning {time.perf_counter() - started:.3f} s", file=sys.stderr)
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["mottagare", "villkor", "utfall", "belopp"])
        for i, code in enumerate(ids):
            verdict = "uppfyllt" if ok[i] else "ej uppfyllt"
            w.writerow([code, "1", verdict, int(shares[i])])
            w.writerow([code, "summa", verdict, int(shares[i])])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
