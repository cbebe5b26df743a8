"""Light curves of contact binaries (W UMa stars) from Roche geometry, as a packaged table.

Two stars sharing one envelope are pears, not spheres: their light varies smoothly all
orbit long and their eclipses have no sharp contacts, which the spherical model of
:mod:`ebscan.sim.eclipses` cannot draw. PHOEBE 2 (Prsa et al. 2016; Conroy et al. 2020)
computes them from a mesh of the Roche-lobe-filling surface with gravity and limb
darkening and reflection, at seconds a light curve: too slow to call per training
example, fast enough to tabulate once. ``python -m ebscan.sim.contact_library`` (needs
``pip install phoebe``) writes :data:`ebscan.sim.eclipses.CONTACT_LIBRARY`: seeded draws
of mass ratio, fill-out factor, inclination and temperature ratio, and for each the
flux over half an orbit (the curves of unspotted systems are symmetric) in units of
its maximum.
:class:`ebscan.sim.eclipses.ContactBinary` turns a row into a light curve.

The passband is Johnson V, the one PHOEBE ships for use offline: contact-binary light
curves are set by geometry far more than by atmospheres (Rucinski 1993), so the shapes
carry over to the TESS band.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Sequence

import numpy as np

from ebscan.sim.eclipses import CONTACT_LIBRARY, CONTACT_PHASES

PARAMETERS = ("mass_ratio", "fillout", "inclination", "temperature_ratio")


def draw_systems(n: int, seed: int) -> list[dict]:
    """Seeded draws: mass ratio log-uniform in [0.07, 1], fill-out in [0, 0.8],
    isotropic inclinations above 30 degrees, secondary 0.85-1.05 times as hot."""
    rng = np.random.default_rng(seed)
    return [
        {
            "mass_ratio": float(np.exp(rng.uniform(np.log(0.07), 0.0))),
            "fillout": float(rng.uniform(0.0, 0.8)),
            "inclination": float(np.degrees(np.arccos(rng.uniform(0.0, np.cos(np.radians(30)))))),
            "temperature_ratio": float(rng.uniform(0.85, 1.05)),
        }
        for _ in range(n)
    ]


def light_curve(system: dict) -> np.ndarray:
    """PHOEBE's flux of one system at :data:`CONTACT_PHASES`, in units of its maximum."""
    import phoebe

    phoebe.logger(clevel="ERROR")
    bundle = phoebe.default_binary(contact_binary=True)
    # The envelope's potential follows from the primary's radius by default; make it
    # follow from the fill-out factor instead, and the radius from the potential.
    bundle.flip_constraint("pot@contact_envelope", solve_for="requiv@primary")
    bundle.flip_constraint("fillout_factor@contact_envelope", solve_for="pot@contact_envelope")
    bundle["q@binary@component"] = system["mass_ratio"]
    bundle["fillout_factor@contact_envelope@component"] = system["fillout"]
    bundle["incl@binary@component"] = system["inclination"]
    bundle["teff@secondary@component"] = 6000.0 * system["temperature_ratio"]
    bundle["teff@primary@component"] = 6000.0
    # 1500 surface elements (half the default): light to 1e-3, twice as fast.
    bundle["ntriangles@contact_envelope@compute"] = 1500
    bundle.add_dataset("lc", compute_phases=CONTACT_PHASES, passband="Johnson:V", dataset="light")
    bundle.run_compute(progressbar=False)
    flux = np.asarray(bundle.get_value("fluxes", context="model", dataset="light"))
    return flux / flux.max()


def main(argv: Sequence[str] | None = None) -> int:
    """Write the packaged contact-binary library (needs PHOEBE)."""
    from ebscan.atomic import atomic_open

    parser = argparse.ArgumentParser(
        prog="python -m ebscan.sim.contact_library", description=__doc__
    )
    parser.add_argument("--systems", type=int, default=160)
    parser.add_argument("--seed", type=int, default=1993)
    parser.add_argument("--output", "-o", default=str(CONTACT_LIBRARY))
    args = parser.parse_args(argv)
    rows, start = [], time.perf_counter()
    for i, system in enumerate(draw_systems(args.systems, args.seed)):
        try:
            flux = light_curve(system)
        # PHOEBE refuses some geometries (a potential beyond the outer Lagrangian
        # point; a mesh it cannot project), with one exception type or another.
        except Exception as exc:
            print(f"system {i}: skipped ({exc})", flush=True)
            continue
        rows.append([*(f"{system[p]:.5g}" for p in PARAMETERS), *(f"{v:.5f}" for v in flux)])
        print(f"system {i}: {time.perf_counter() - start:.0f} s", flush=True)
    import phoebe

    with atomic_open(args.output, newline="") as handle:
        handle.write(
            f"# {len(rows)} contact binaries from PHOEBE {phoebe.__version__} (Johnson V), "
            f"seed {args.seed}; flux at phases 0-0.5 in units of the maximum\n"
        )
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([*PARAMETERS, *(f"phase_{p:.2f}" for p in CONTACT_PHASES)])
        writer.writerows(rows)
    print(f"{args.output}: {len(rows)} systems in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
