"""Candidate details: periods, known/new flags, diagnostic plots, the catalog files.

Column list (also the ECSV's column descriptions):
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from ebscan.atomic import atomic_open, write_csv
from ebscan.catalog import with_recorded_paths
from ebscan.catalogs import CatalogSet, known_eb_tics
from ebscan.errors import LightCurveError
from ebscan.io import read_lightcurve
from ebscan.periodogram import calnet_period_grid, gls
from ebscan.periods import PeriodEstimate, estimate_period
from ebscan.preprocess import PreprocessConfig
from ebscan.resample import clip_top, minmax, resample
from ebscan.segments import good_cadences, split_segments

COLUMNS = {
    "tic": "TESS Input Catalog id",
    "ra": "right ascension (deg, J2000) from the light-curve header",
    "dec": "declination (deg, J2000) from the light-curve header",
    "tmag": "TESS magnitude from the light-curve header",
    "max_score": "highest EB score of any segment",
    "mean_score": "mean EB score over all segments",
    "n_segments": "segments scored",
    "n_segments_above": "segments at or above the threshold",
    "n_sectors": "sectors observed",
    "sectors": "sectors observed, ';'-separated",
    "sectors_above": "sectors with a segment at or above the threshold",
    "best_sector": "sector of the best-scoring segment",
    "best_segment": "index of the best-scoring segment in its file",
    "best_file": "light-curve file of the best-scoring segment",
    "period_gls": "highest GLS peak of the best file's light curve (d)",
    "period_double": "twice period_gls (d): the orbit when the GLS caught half of it",
    "period_supported": "gls or double: double when odd and even eclipses differ",
    "period": "the supported period (d)",
    "odd_even_sigma": "odd/even dip depth difference at period_double, in standard errors",
    "in_prsa2022": "1 if Prsa et al. 2022 lists the TIC",
    "prsa2022_period": "Prsa et al. 2022 period (d), when listed",
    "in_calnet2025_new": "1 if the CALNet paper's new-EB list has the TIC",
    "status": "known (in an EB catalog) or new",
    "plot": "diagnostic plot, relative to the catalog",
}
__doc__ += "\n".join(f"\n- ``{name}``: {text}" for name, text in COLUMNS.items())


def _light_curve(path: str, config: PreprocessConfig):
    lc = read_lightcurve(path, config.flux_column)
    time, flux = good_cadences(lc)
    return lc, time, flux


def diagnostic_plot(
    path: str,
    segment_index: int,
    estimate: PeriodEstimate,
    title: str,
    output: str | os.PathLike,
    config: PreprocessConfig | None = None,
) -> None:
    """Raw and preprocessed light curve, GLS with its peak, fold at the chosen period."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    config = config or PreprocessConfig()
    lc, time, flux = _light_curve(path, config)
    segments = {s.index: s for s in split_segments(time, flux, config.gap_days, config.min_points)}
    segment = segments.get(segment_index) or next(iter(segments.values()))
    seg_time, seg_flux = clip_top(segment.time, segment.flux, config.clip_percentile)
    vector = resample(
        seg_time, seg_flux, config.n_lc, config.spline_mode, **config.spline_options()
    )
    grid = calnet_period_grid()
    power = minmax(gls(seg_time, seg_flux, grid))
    figure, axes = plt.subplots(4, 1, figsize=(8, 9))
    axes[0].plot(lc.time, lc.flux / np.nanmedian(lc.flux), ",", color="grey")
    axes[0].plot(time, flux / np.median(flux), ",", color="k")
    axes[0].set_title(title)
    axes[0].set_xlabel("BTJD (d)")
    axes[0].set_ylabel("relative flux")
    axes[1].plot(vector, lw=0.6)
    axes[1].set_xlabel(f"segment {segment.index}, resampled ({config.n_lc} points)")
    axes[2].semilogx(grid, power, lw=0.7)
    axes[2].axvline(
        estimate.period_gls, color="r", ls="--", lw=0.8, label=f"peak {estimate.period_gls:.5f} d"
    )
    axes[2].set_xlabel("period (d)")
    axes[2].set_ylabel("GLS (scaled)")
    axes[2].legend(loc="upper left")
    phase = ((time - time[0]) / estimate.period) % 1.0
    axes[3].plot(phase, flux / np.median(flux), ",", color="k")
    axes[3].set_xlabel(f"phase at {estimate.period:.5f} d ({estimate.supported})")
    figure.tight_layout()
    with atomic_open(output, "wb") as handle:
        figure.savefig(handle, format="png", dpi=80)
    plt.close(figure)


_DETAIL_FIELDS = (
    "period_gls",
    "period_double",
    "period_supported",
    "period",
    "odd_even_sigma",
    "plot",
)


def _details(job: tuple[dict, str | None, PreprocessConfig]) -> dict:
    """Period fields and plot of one candidate (one task of the process pool)."""
    row, plots_dir, config = job
    tic = int(row["tic"])
    details = dict.fromkeys(_DETAIL_FIELDS, "")
    try:
        _, time, flux = _light_curve(row["best_file"], config)
        time, flux = clip_top(time, flux, config.clip_percentile)
        estimate = estimate_period(time, flux)
        details.update(
            {
                "period_gls": f"{estimate.period_gls:.6f}",
                "period_double": f"{estimate.period_double:.6f}",
                "period_supported": estimate.supported,
                "period": f"{estimate.period:.6f}",
                "odd_even_sigma": f"{estimate.depth_difference_sigma:.1f}",
            }
        )
        if plots_dir is not None:
            name = f"TIC{tic}.png"
            diagnostic_plot(
                row["best_file"],
                int(row["best_segment"]),
                estimate,
                f"TIC {tic}  score {float(row['max_score']):.3f}",
                Path(plots_dir) / name,
                config,
            )
            details["plot"] = f"{Path(plots_dir).name}/{name}"
    except (LightCurveError, OSError) as exc:
        print(f"TIC {tic}: no period or plot ({exc})")
    return details


def enrich(
    candidates: list[dict],
    catalogs: CatalogSet | None = None,
    plots_dir: str | os.PathLike | None = None,
    config: PreprocessConfig | None = None,
    jobs: int = 1,
) -> list[dict]:
    """Add periods, catalog flags and (with ``plots_dir``) a diagnostic plot to each row.

    The light curves are read again (the best segment's file); ``jobs`` processes
    share the work, which is mostly drawing the plots (about 1 s a candidate).
    """
    config = config or PreprocessConfig()
    if plots_dir is not None:
        plots_dir = os.fspath(plots_dir)
        os.makedirs(plots_dir, exist_ok=True)
    known: set[int] = set()
    prsa_period: dict[int, float] = {}
    new_list: set[int] = set()
    if catalogs is not None:
        known = known_eb_tics(catalogs)
        for row in catalogs.prsa:
            prsa_period.setdefault(int(row["TIC"]), float(row["Per"]))
        new_list = {int(t) for t in catalogs.calnet_new["TIC"]}
    work = [(row, plots_dir, config) for row in candidates]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            details = list(pool.map(_details, work, chunksize=4))
    else:
        details = [_details(job) for job in work]
    out = []
    for row, extra in zip(candidates, details, strict=True):
        tic = int(row["tic"])
        out.append(
            {
                **row,
                **extra,
                "in_prsa2022": int(tic in prsa_period),
                "prsa2022_period": f"{prsa_period[tic]:.6f}" if tic in prsa_period else "",
                "in_calnet2025_new": int(tic in new_list),
                "status": ("known" if tic in known else "new") if catalogs is not None else "",
            }
        )
    return out


def write_catalog(rows: list[dict], csv_path: str | os.PathLike, ecsv_path: str | os.PathLike):
    """Write the candidate catalog as CSV and as ECSV (with column descriptions).

    ``best_file`` is recorded relative to each file (:mod:`ebscan.paths`).
    """
    from astropy.table import Table

    columns = [c for c in COLUMNS if c not in ("candidate",)]
    write_csv(csv_path, with_recorded_paths(rows, csv_path), columns)
    table = Table(
        rows=[[str(r.get(c, "")) for c in columns] for r in with_recorded_paths(rows, ecsv_path)]
        or None,
        names=columns,
        dtype=[str] * len(columns),
    )
    for column in columns:
        table[column].description = COLUMNS[column]
    table.meta["description"] = "ebscan eclipsing-binary candidates"
    with atomic_open(ecsv_path) as handle:
        table.write(handle, format="ascii.ecsv")
