"""Per-segment cost of preprocessing on the shared 2-minute light curves, one core.

Prints a table and records it in bench/RESULTS.md. Stages: read (ebscan's
fitsio reader; astropy.io.fits and lightkurve.read for reference), top clip +
spline for each mode, GLS on the CALNet grid for each ebscan method and for
astropy's ``cython`` and ``slow`` methods on the same grid (the anchors), and the
whole of ``preprocess_file`` with the defaults. Targets (issue 2): exact GLS
<= 3 ms and everything <= 15 ms per segment.

Run: .venv/bin/python bench/preprocess.py [--slow-segments 6]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, as a per-file worker gets

import numpy as np
from astropy.io import fits
from astropy.timeseries import LombScargle

from ebscan.config import PreprocessConfig
from ebscan.lightcurves.io import read_lightcurve
from ebscan.lightcurves.periodogram import METHODS, calnet_period_grid, gls
from ebscan.lightcurves.preprocess import preprocess_file
from ebscan.lightcurves.resample import SPLINE_MODES, clip_top, resample
from ebscan.lightcurves.segments import good_cadences, split_segments

from results import record

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "tess-spoc-2min"


def timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def astropy_read(path):
    with fits.open(path, memmap=False) as hdul:
        data = hdul["LIGHTCURVE"].data
        return (
            np.asarray(data["TIME"]),
            np.asarray(data["PDCSAP_FLUX"]),
            np.asarray(data["QUALITY"]),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--slow-segments",
        type=int,
        default=6,
        help="segments timed with the slow methods (direct, astropy slow)",
    )
    args = parser.parse_args()

    files = [p for p in sorted(SHARED.glob("*.fits")) if not preprocess_file(p).rejected]
    period = calnet_period_grid()
    frequency = 1.0 / period
    config = PreprocessConfig()
    segments, per_file = [], {}
    for path in files:
        t, f = good_cadences(read_lightcurve(path))
        found = [clip_top(s.time, s.flux) for s in split_segments(t, f)]
        per_file[path] = len(found)
        segments += found
    n_seg = len(segments)
    points = np.mean([s[0].size for s in segments])

    def per_segment_read(reader) -> float:
        return sum(timed(reader, p) for p in files) / n_seg

    stages: list[tuple[str, float, int]] = []
    stages.append(("read: ebscan (fitsio)", per_segment_read(read_lightcurve), n_seg))
    stages.append(("read: astropy.io.fits", per_segment_read(astropy_read), n_seg))
    try:
        import lightkurve

        stages.append(("read: lightkurve.read", per_segment_read(lightkurve.read), n_seg))
    except ImportError:
        pass
    for mode in SPLINE_MODES:
        options = config.spline_options() if mode == config.spline_mode else {}
        seconds = [timed(resample, t, f, config.n_lc, mode, **options) for t, f in segments]
        stages.append((f"clip+spline: {mode}", float(np.mean(seconds)), n_seg))
    for method in METHODS:
        subset = segments if method == "finufft" else segments[: args.slow_segments]
        seconds = [timed(gls, t, f, period, method) for t, f in subset]
        stages.append((f"GLS: ebscan {method}", float(np.mean(seconds)), len(subset)))
    for method in ("cython", "slow"):
        subset = segments if method == "cython" else segments[: args.slow_segments]
        seconds = [
            timed(
                LombScargle(t, f, fit_mean=True, center_data=True).power, frequency, method=method
            )
            for t, f in subset
        ]
        stages.append((f"GLS: astropy {method}", float(np.mean(seconds)), len(subset)))
    total = sum(timed(preprocess_file, p, config) for p in files) / n_seg
    stages.append(("total: preprocess_file (defaults)", total, n_seg))
    rows = [[name, f"{1e3 * s:.2f}", str(n)] for name, s, n in stages]
    note = (
        f"{len(files)} readable files, {n_seg} segments of {points:.0f} cadences on average "
        f"(after top clipping), GLS on the 1000-period CALNet grid; times per segment "
        f"(a file's read is shared among its segments). Defaults: spline_mode="
        f"{config.spline_mode}, knot_spacing_days={config.knot_spacing_days}, "
        f"gls_method={config.gls_method}."
    )
    record(
        "Preprocessing per segment (bench/preprocess.py)",
        ["stage", "ms/segment", "segments timed"],
        rows,
        note,
    )


if __name__ == "__main__":
    main()
