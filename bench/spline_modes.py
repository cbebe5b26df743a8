"""Measure the two spline modes to choose the default (docs/preprocessing.md).

Two measurements, both printed as a table and recorded in bench/RESULTS.md:

1. Synthetic eclipsing binaries with known truth (seeded): 2-minute cadence over
   13 d, Gaussian-shaped primary and secondary eclipses of random period, depth
   and width, white noise at three levels. The score is the RMS difference
   between the resampled vector and the noiseless model on the same grid, after
   the best affine match (so min-max stretching by noise extremes does not
   count), in units of the model's full range. Also: eclipse depth kept, as the
   output's depth at the model minimum relative to the model's.
2. Real eclipsing binaries of ../shared: the same RMS against the cadences
   mean-binned onto the 4000 output bins (the data at the output's resolution).

Run: .venv/bin/python bench/spline_modes.py
"""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path

import numpy as np

from ebscan.io import read_lightcurve
from ebscan.resample import clip_top, resample
from ebscan.segments import good_cadences, split_segments

from results import record

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tess-spoc-2min"
N = 4000
MODES = [
    ("calnet-code", {}),
    ("paper", {"knot_spacing_days": 0.01}),
    ("paper", {"knot_spacing_days": 0.02}),
    ("paper", {"knot_spacing_days": 0.05}),
]


def eclipse_model(time, period, depth, width, t0):
    def dip(phase_offset):
        phase = ((time - t0) / period + phase_offset) % 1.0 - 0.5
        return np.exp(-0.5 * (phase * period / (width / 2.355)) ** 2)

    return 1.0 - depth * dip(0.5) - 0.4 * depth * dip(0.0)


def affine_rms(output, truth):
    design = np.column_stack([output, np.ones_like(output)])
    coef, *_ = np.linalg.lstsq(design, truth, rcond=None)
    return float(np.sqrt(np.mean((design @ coef - truth) ** 2)) / np.ptp(truth))


def synthetic(noise, draws=20, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, 13.0, 2.0 / 1440)
    grid = np.linspace(t[0], t[-1], N)
    scores = {i: [] for i in range(len(MODES))}
    depth_kept = {i: [] for i in range(len(MODES))}
    for _ in range(draws):
        period, depth = rng.uniform(0.3, 6.0), rng.uniform(0.01, 0.3)
        width = rng.uniform(0.04, 0.12) * min(period, 2.0)
        t0 = rng.uniform(0, period)
        flux = eclipse_model(t, period, depth, width, t0) + rng.normal(0, noise, t.size)
        truth = eclipse_model(grid, period, depth, width, t0)
        ct, cf = clip_top(t, flux)
        for i, (mode, options) in enumerate(MODES):
            out = resample(ct, cf, N, mode, **options)
            scores[i].append(affine_rms(out, truth))
            design = np.column_stack([out, np.ones_like(out)])
            coef, *_ = np.linalg.lstsq(design, truth, rcond=None)
            fitted = design @ coef
            lowest = np.argmin(truth)
            depth_kept[i].append((1.0 - fitted[lowest]) / (1.0 - truth[lowest]))
    return {i: (np.mean(scores[i]), np.median(depth_kept[i])) for i in scores}


def binned_reference(t, f):
    edges = np.linspace(t[0], t[-1], N + 1)
    which = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, N - 1)
    sums = np.bincount(which, f, N)
    counts = np.bincount(which, minlength=N)
    centres = 0.5 * (edges[:-1] + edges[1:])
    filled = counts > 0
    return np.interp(np.linspace(t[0], t[-1], N), centres[filled], sums[filled] / counts[filled])


def real_ebs():
    labels = list(csv.DictReader(open(SHARED / "labels.csv")))
    scores = {i: [] for i in range(len(MODES))}
    seconds = {i: [] for i in range(len(MODES))}
    for row in labels:
        if row["label"] != "EB" or not re.search(r"Prsa2022 EB P=", row["evidence"]):
            continue
        t, f = good_cadences(read_lightcurve(SHARED / row["file"]))
        for segment in split_segments(t, f):
            ct, cf = clip_top(segment.time, segment.flux)
            reference = binned_reference(ct, cf)
            for i, (mode, options) in enumerate(MODES):
                start = time.perf_counter()
                out = resample(ct, cf, N, mode, **options)
                seconds[i].append(time.perf_counter() - start)
                scores[i].append(affine_rms(out, reference))
    return {i: (np.mean(scores[i]), 1e3 * np.mean(seconds[i]), len(scores[i])) for i in scores}


def main() -> None:
    columns = [
        "mode",
        "RMS noise 0.1%",
        "RMS noise 0.5%",
        "RMS noise 2%",
        "depth kept (0.5%)",
        "RMS vs binned real EBs",
        "ms/segment",
    ]
    synth = {noise: synthetic(noise) for noise in (0.001, 0.005, 0.02)}
    real = real_ebs()
    rows = []
    for i, (mode, options) in enumerate(MODES):
        label = mode + (f" knots {options['knot_spacing_days']} d" if options else "")
        rows.append(
            [
                label,
                f"{synth[0.001][i][0]:.4f}",
                f"{synth[0.005][i][0]:.4f}",
                f"{synth[0.02][i][0]:.4f}",
                f"{synth[0.005][i][1]:.3f}",
                f"{real[i][0]:.4f}",
                f"{real[i][1]:.2f}",
            ]
        )
    note = (
        f"Synthetic: 20 seeded EBs per noise level, RMS after best affine match to the noiseless "
        f"model, in units of its range (lower is better). Real: {real[0][2]} segments of the "
        f"shared Prsa-catalogued EBs, RMS against the cadences mean-binned onto the 4000 bins."
    )
    record("Spline modes (bench/spline_modes.py)", columns, rows, note)


if __name__ == "__main__":
    main()
