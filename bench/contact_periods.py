"""How the pretrained CALNet scores a contact binary against its orbital period.

Contact binaries of one shape and depth are injected into the 30-minute light curves
of quiet held-out stars (the recipe's test stars, ``light_curves.csv`` of the shipped
model) at periods from 0.3 to 2.5 days; the table is the median score of the hosts per
shape and period. The shapes: the shallowest curve of the packaged PHOEBE library (a
low-inclination contact binary, nearly equal minima), a 40%-deep one (eclipses), both
brought down to the depth by third light, and a pure ellipsoidal variation (a
sinusoid at half the orbit, equal minima), which a spotted star or a pulsator at half
the period also shows.

Run: .venv/bin/python bench/contact_periods.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ebscan.learn.pretrained import PRETRAINED, pretrained_model
from ebscan.lightcurves.io import read_lightcurve
from ebscan.lightcurves.preprocess import preprocess_lightcurve
from ebscan.sim.eclipses import ContactBinary, binary_flux, contact_curves
from ebscan.sim.injection import inject
from ebscan.survey.inference import load_predictor, score_results

from periods import SHARED
from results import record

PERIODS = (0.3, 0.5, 0.74, 1.0, 1.5, 2.5)
DEPTH = 0.03
HOSTS = 8
CADENCE_DAYS = 30 / 1440


def quiet_hosts() -> list[Path]:
    """The first ``HOSTS`` non-variable 30-minute test stars of the shipped model."""
    with open(PRETRAINED / "light_curves.csv", newline="") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if r["role"] == "test" and r["class"] == "non-variable" and r["cadence"] == "30.0"
        ]
    return [SHARED / "data" / r["set"] / f"{r['tic']}.fits" for r in rows[:HOSTS]]


def library_curves() -> dict[str, np.ndarray]:
    """Half orbits of the library: the shallowest (low inclination) and the one nearest
    40% deep (eclipsing)."""
    curves = contact_curves()
    amplitude = 1 - curves.min(axis=1)
    return {
        "contact, low inclination": curves[np.argmin(amplitude)],
        "contact, eclipsing": curves[np.argmin(np.abs(amplitude - 0.4))],
    }


def shapes(
    time: np.ndarray, period: float, library: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Relative flux of each shape at ``time``: the ``library`` curves diluted by third
    light to ``DEPTH``, and the sinusoid."""
    t0 = float(time[0])
    relative = {
        name: binary_flux(
            ContactBinary(
                period=period,
                t0=t0,
                half_orbit=tuple(float(v) for v in half),
                third_light=1 - DEPTH / (1 - half[0]),
            ),
            time,
            exposure_days=CADENCE_DAYS,
        )
        for name, half in library.items()
    }
    phase = (time - t0) / period
    relative["ellipsoidal sinusoid"] = 1 - DEPTH / 2 * (1 + np.cos(4 * np.pi * phase))
    return relative


def main() -> None:
    predictor = load_predictor(pretrained_model())
    hosts = [read_lightcurve(path) for path in quiet_hosts()]
    library = library_curves()
    scores: dict[str, dict[float, list[float]]] = {}
    for period in PERIODS:
        for host in hosts:
            for name, relative in shapes(host.time, period, library).items():
                result = preprocess_lightcurve(inject(host, relative, shape=name))
                _, files = score_results(predictor, [result])
                scores.setdefault(name, {}).setdefault(period, []).append(
                    float(files[0]["max_score"])
                )
    rows = [
        [name, *(f"{np.median(by_period[p]):.2f}" for p in PERIODS)]
        for name, by_period in scores.items()
    ]
    record(
        "Contact binaries against their period (bench/contact_periods.py)",
        ["shape", *(f"{p:g} d" for p in PERIODS)],
        rows,
        f"Median score of the shipped model over {len(hosts)} quiet held-out 30-minute "
        f"stars, each with the shape injected at {DEPTH:.0%} depth. The library curves "
        "are the shallowest (low inclination) and a 40%-deep one of the packaged PHOEBE "
        "table, diluted by third light; the sinusoid is at half the orbit.",
    )


if __name__ == "__main__":
    main()
