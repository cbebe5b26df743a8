"""Candidate details: ephemeris, eclipse geometry, centroid test, cross-matches, plots, tables.

:func:`characterise` measures one star from all its light curves (every sector
together): the period search and ephemeris of :mod:`ebscan.survey.periods`, the two-Gaussian
eclipse geometry of :mod:`ebscan.survey.geometry` and the centroid test of
:mod:`ebscan.survey.centroids`. :func:`enrich` adds these to the catalog's candidates with
the cross-matches (Prsa et al. 2022, the Kepler EB catalogue, the CALNet new EBs) and a
diagnostic plot; :func:`write_catalog` writes CSV, ECSV and FITS with real dtypes,
units and a description per column (:data:`COLUMNS`).

Column list (also the ECSV's and FITS's column descriptions):
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ebscan.atomic import atomic_open, write_csv
from ebscan.config import PreprocessConfig
from ebscan.errors import LightCurveError
from ebscan.labels.catalogs import CatalogSet, known_eb_tics, read_kepler_eb_labels
from ebscan.lightcurves.io import LightCurve, read_lightcurve
from ebscan.lightcurves.preprocess import kept_segments
from ebscan.lightcurves.segments import good_cadences
from ebscan.survey.catalog import with_recorded_paths

if TYPE_CHECKING:
    from ebscan.survey.periods import Ephemeris

#: What measuring a star raises on data it cannot use: a file it cannot read, or a
#: light curve the period search cannot use (ValueError: constant flux, a few cadences).
UNMEASURABLE = (LightCurveError, OSError, ValueError)


@dataclass(frozen=True)
class Column:
    """A catalog column: dtype (``int``, ``float`` or ``str``), unit and description."""

    dtype: type
    unit: str | None
    description: str


#: Ephemeris and geometry columns: the catalog's and ``ebscan score``'s per-file output.
EPHEMERIS_COLUMNS = {
    "period": Column(float, "d", "orbital period; empty with one or two eclipses"),
    "period_error": Column(float, "d", "standard error of period (eclipse timings)"),
    "t0": Column(float, "d", "BTJD (BJD - 2457000) of a primary minimum"),
    "t0_error": Column(float, "d", "standard error of t0"),
    "period_lower_bound": Column(
        float, "d", "with one or two eclipses: shortest period putting no other in the data"
    ),
    "eclipse_times": Column(str, None, "with one or two eclipses: their BTJD, ';'-separated"),
    "variability_period": Column(
        float, "d", "period of a stronger signal the eclipses hide under (pulsation, spots)"
    ),
    "n_primary": Column(int, None, "primary eclipses seen in all sectors"),
    "n_secondary": Column(int, None, "secondary eclipses seen in all sectors"),
    "primary_depth": Column(float, "ppt", "primary eclipse depth (two-Gaussian model)"),
    "secondary_depth": Column(float, "ppt", "secondary eclipse depth; 0 without a secondary"),
    "primary_width": Column(float, None, "primary eclipse width, phase (5.6 Gaussian sigma)"),
    "secondary_width": Column(float, None, "secondary eclipse width, phase"),
    "secondary_phase": Column(
        float, None, "phase of the secondary after the primary (0.5: circular orbit)"
    ),
    "ellipsoidal": Column(float, "ppt", "full amplitude of the ellipsoidal variation"),
    "morphology": Column(
        float, None, "Prsa 2022-like morphology from the eclipse widths (0 detached, 1 contact)"
    ),
    "odd_even_sigma": Column(float, None, "odd minus even primary depth, in standard errors"),
    "flag_single_eclipse": Column(int, None, "1: one or two eclipses in all sectors"),
    "flag_odd_even": Column(int, None, "1: odd and even eclipses differ (period x2, or blend)"),
    "flag_no_secondary": Column(int, None, "1: no secondary minimum at the period"),
    "flag_equal_minima": Column(
        int, None, "1: period doubled from equal minima, twins assumed (may be half)"
    ),
    "centroid_shift": Column(float, "pix", "in- minus out-of-eclipse flux-weighted centroid"),
    "centroid_shift_sigma": Column(float, None, "centroid_shift over its standard error"),
    "source_offset": Column(
        float, "arcsec", "eclipsing source's distance from the target (centroid test)"
    ),
    "source_offset_sigma": Column(float, None, "source_offset over its standard error"),
    "flag_blend": Column(int, None, "1: the eclipses come from a neighbour (centroid test)"),
}

COLUMNS = {
    "tic": Column(int, None, "TESS Input Catalog id"),
    "ra": Column(float, "deg", "right ascension (J2000) from the light-curve header"),
    "dec": Column(float, "deg", "declination (J2000) from the light-curve header"),
    "tmag": Column(float, "mag", "TESS magnitude from the light-curve header"),
    "max_score": Column(float, None, "highest EB score of any segment"),
    "mean_score": Column(float, None, "mean EB score over all segments"),
    "n_segments": Column(int, None, "segments scored"),
    "n_segments_above": Column(int, None, "segments at or above the threshold"),
    "n_sectors": Column(int, None, "sectors observed"),
    "sectors": Column(str, None, "sectors observed, ';'-separated"),
    "sectors_above": Column(str, None, "sectors with a segment at or above the threshold"),
    "products": Column(str, None, "light-curve products scored (spoc-2min, tess-spoc-ffi)"),
    "sectors_by_product": Column(
        str, None, "sectors scored per product, e.g. spoc-2min:1,2;tess-spoc-ffi:14"
    ),
    "best_product": Column(str, None, "product of the best-scoring segment"),
    "best_sector": Column(int, None, "sector of the best-scoring segment"),
    "best_segment": Column(int, None, "index of the best-scoring segment in its file"),
    "best_file": Column(str, None, "light-curve file of the best-scoring segment"),
    **EPHEMERIS_COLUMNS,
    "in_prsa2022": Column(int, None, "1 if Prsa et al. 2022 lists the TIC"),
    "prsa2022_period": Column(float, "d", "Prsa et al. 2022 period, when listed"),
    "prsa2022_morphology": Column(float, None, "Prsa et al. 2022 morphology, when listed"),
    "in_kepler_eb": Column(int, None, "1 if the Kepler EB catalogue lists the TIC"),
    "kepler_eb_kic": Column(int, None, "Kepler Input Catalog id of the Kepler EB match"),
    "kepler_eb_period": Column(float, "d", "Kepler EB catalogue period, when listed"),
    "in_calnet2025_new": Column(int, None, "1 if the CALNet paper's new-EB list has the TIC"),
    "status": Column(str, None, "known (in an EB catalog) or new"),
    "plot": Column(str, None, "diagnostic plot, relative to the catalog"),
}
__doc__ += "\n".join(
    f"\n- ``{name}``{f' ({c.unit})' if c.unit else ''}: {c.description}"
    for name, c in COLUMNS.items()
)


def read_star(
    paths: Iterable[str], flux_column: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Good cadences of one star's light-curve files together: see :func:`stack_star`."""
    return stack_star([read_lightcurve(path, flux_column) for path in paths])


def stack_star(lightcurves: Iterable[LightCurve]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Good cadences of one star's light curves together: (time, relative flux, sector).

    Each light curve's flux is divided by its median, so that sectors with different
    apertures or crowding line up; the result is sorted by time.
    """
    times, fluxes, sectors = [], [], []
    for lc in lightcurves:
        time, flux = good_cadences(lc)
        times.append(time)
        fluxes.append(flux / np.median(flux))
        sectors.append(np.full(len(time), lc.sector))
    time, flux, sector = (np.concatenate(x) for x in (times, fluxes, sectors))
    order = np.argsort(time, kind="stable")
    return time[order], flux[order], sector[order]


@dataclass(frozen=True)
class Characterisation:
    """Everything :func:`characterise` measured of one star (for the plot and the table).

    Attributes
    ----------
    columns : dict
        The :data:`EPHEMERIS_COLUMNS` values.
    time, flux, sector : numpy.ndarray
        The star's good cadences from :func:`read_star`.
    folded : numpy.ndarray
        The flux the geometry was fitted to: less the signal the eclipses hide under
        (if any) and the slow trend.
    ephemeris : ebscan.survey.periods.Ephemeris
    fit : ebscan.survey.geometry.EclipseFit or None
        None without a period.
    centroid_tests : dict
        Sector -> :class:`ebscan.survey.centroids.CentroidTest`.
    """

    columns: dict
    time: np.ndarray
    flux: np.ndarray
    folded: np.ndarray
    sector: np.ndarray
    ephemeris: Ephemeris
    fit: object | None
    centroid_tests: dict


def empty_ephemeris() -> dict:
    """:data:`EPHEMERIS_COLUMNS` with nothing measured: NaN, 0 or '' by column type."""
    return {
        name: (np.nan if c.dtype is float else 0 if c.dtype is int else "")
        for name, c in EPHEMERIS_COLUMNS.items()
    }


def characterise(paths: list[str], flux_column: str | None = None) -> Characterisation:
    """Ephemeris, eclipse geometry and centroid test of one star from all its files.

    Raises
    ------
    LightCurveError
        If a file cannot be read (naming it).
    """
    return characterise_lightcurves(
        [read_lightcurve(path, flux_column) for path in paths], paths, flux_column
    )


def characterise_lightcurves(
    lightcurves: list[LightCurve],
    centroid_files: Iterable[str] = (),
    flux_column: str | None = None,
) -> Characterisation:
    """Ephemeris and eclipse geometry of one star from its light curves (in memory),
    and the centroid test from those of ``centroid_files`` that have centroids."""
    from ebscan.survey.centroids import centroid_test, read_centroids
    from ebscan.survey.geometry import fit_two_gaussians
    from ebscan.survey.periods import (
        detrend,
        measure_ephemeris,
        out_of_eclipse,
        remove_variability,
    )

    time, flux, sector = stack_star(lightcurves)
    ephemeris = measure_ephemeris(time, flux)
    columns = empty_ephemeris()
    columns.update(
        {
            "period": ephemeris.period,
            "period_error": ephemeris.period_error,
            "t0": ephemeris.t0,
            "t0_error": ephemeris.t0_error,
            "period_lower_bound": ephemeris.period_lower_bound,
            "eclipse_times": ";".join(f"{t:.5f}" for t in ephemeris.eclipse_times),
            "variability_period": ephemeris.variability_period,
            "n_primary": ephemeris.n_primary,
            "n_secondary": ephemeris.n_secondary,
            "odd_even_sigma": ephemeris.odd_even_sigma,
            "flag_single_eclipse": int("single_eclipse" in ephemeris.flags),
            "flag_odd_even": int("odd_even" in ephemeris.flags),
            "flag_no_secondary": int("no_secondary" in ephemeris.flags),
            "flag_equal_minima": int("equal_minima" in ephemeris.flags),
        }
    )
    fit = None
    half_width = 0.05
    # Secondary phase and half width (d): none without a period.
    secondary = (np.nan, np.nan)
    folded = flux
    if np.isfinite(ephemeris.variability_period):
        keep = out_of_eclipse(time, ephemeris)
        folded = remove_variability(time, flux - 1, ephemeris.variability_period, keep=keep) + 1
    if np.isfinite(ephemeris.period):
        flat = detrend(time, folded - 1, ephemeris.period) + 1
        folded = flat
        fit = fit_two_gaussians(
            (time - ephemeris.t0) / ephemeris.period, flat, ephemeris.secondary_phase
        )
        columns.update(
            {
                "primary_depth": 1e3 * fit.primary_depth,
                "secondary_depth": 1e3 * fit.secondary_depth,
                "primary_width": fit.primary_width,
                "secondary_width": fit.secondary_width,
                "secondary_phase": fit.secondary_phase,
                "ellipsoidal": 1e3 * fit.ellipsoidal,
                "morphology": fit.morphology,
            }
        )
        half_width = 0.5 * fit.primary_width * ephemeris.period
        # The fit's secondary phase counts from its primary's centre, T0 + primary_phase.
        secondary = (
            (fit.primary_phase + fit.secondary_phase) % 1.0,
            0.5 * fit.secondary_width * ephemeris.period,
        )
    tests = {}
    for path in centroid_files:
        try:
            centroids = read_centroids(path, flux_column)
        except LightCurveError:
            continue
        tests[centroids.sector] = centroid_test(
            centroids, ephemeris.t0, ephemeris.period, half_width, ephemeris.eclipse_times,
            secondary_phase=secondary[0], secondary_half_width=secondary[1],
        )  # fmt: skip
    covered = [t for t in tests.values() if np.isfinite(t.source_offset)]
    if covered:
        # The sector with the most cadences in eclipse speaks for the star.
        best = max(covered, key=lambda t: t.n_in_eclipse)
        columns.update(
            {
                "centroid_shift": best.shift,
                "centroid_shift_sigma": best.shift_sigma,
                "source_offset": best.source_offset,
                "source_offset_sigma": best.source_offset_sigma,
                "flag_blend": int(best.blend),
            }
        )
    return Characterisation(columns, time, flux, folded, sector, ephemeris, fit, tests)


def no_period_title(ephemeris: Ephemeris) -> str:
    """What the diagnostic plot's fold panel says of a star without a period.

    Parameters
    ----------
    ephemeris : ebscan.survey.periods.Ephemeris
        Its period NaN.

    Returns
    -------
    str
        The eclipses seen and the period's lower bound, or the variability period the
        panel folds at, or that nothing was found.
    """
    if ephemeris.eclipse_times:
        count = len(ephemeris.eclipse_times)
        seen = {1: "one eclipse", 2: "two eclipses"}.get(count, f"{count} eclipses")
        bound = ephemeris.period_lower_bound
        return f"{seen}; period > {bound:.2f} d" if np.isfinite(bound) else seen
    if np.isfinite(ephemeris.variability_period):
        return (
            "no eclipses found; folded at the variability period, "
            f"{ephemeris.variability_period:.4f} d"
        )
    return "no period and no eclipses found"


def diagnostic_plot(
    result: Characterisation,
    title: str,
    output: str | os.PathLike,
    segment: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """A panel per sector (eclipse times marked), the fold with its model, the segment.

    ``segment`` is the (time, flux) CALNet scored best; its GLS is drawn beside it.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sectors = sorted(set(result.sector.tolist()))
    rows = len(sectors) + 1 + (segment is not None)
    figure = plt.figure(figsize=(9, 1.9 * rows + 0.6))
    grid = figure.add_gridspec(rows, 2)
    ephemeris = result.ephemeris
    for row, number in enumerate(sectors):
        axis = figure.add_subplot(grid[row, :])
        mine = result.sector == number
        axis.plot(result.time[mine], result.flux[mine], ",", color="k")
        test = result.centroid_tests.get(number)
        label = f"sector {number}"
        if test is not None and np.isfinite(test.source_offset):
            label += (
                f': source {test.source_offset:.1f}" from target '
                f"({test.source_offset_sigma:.1f} sigma){' BLEND' if test.blend else ''}"
            )
        axis.set_title(label if row else f"{title}\n{label}", fontsize=8)
        lo, hi = result.time[mine][[0, -1]]
        if np.isfinite(ephemeris.period):
            first = math.ceil((lo - ephemeris.t0) / ephemeris.period)
            for n in range(first, math.floor((hi - ephemeris.t0) / ephemeris.period) + 1):
                axis.axvline(ephemeris.t0 + n * ephemeris.period, color="r", lw=0.5, alpha=0.5)
        for when in ephemeris.eclipse_times:
            if lo <= when <= hi:
                axis.axvline(when, color="r", lw=0.8)
        axis.tick_params(labelsize=7)
    axis = figure.add_subplot(grid[len(sectors), :])
    if np.isfinite(ephemeris.period):
        phase = ((result.time - ephemeris.t0) / ephemeris.period + 0.25) % 1.0 - 0.25
        axis.plot(phase, result.folded, ",", color="k")
        fit = result.fit
        if fit is not None:
            model = np.linspace(-0.25, 0.75, 1000)
            axis.plot(model, fit.flux(model), color="r", lw=0.8)
            axis.set_title(
                f"P = {ephemeris.period:.6f} d, T0 = {ephemeris.t0:.5f} BTJD, model {fit.model}: "
                f"depths {1e3 * fit.primary_depth:.1f}/{1e3 * fit.secondary_depth:.1f} ppt",
                fontsize=8,
            )
        axis.set_xlabel("phase", fontsize=8)
    elif not ephemeris.eclipse_times and np.isfinite(ephemeris.variability_period):
        phase = (result.time / ephemeris.variability_period) % 1.0
        axis.plot(phase, result.flux, ",", color="k")
        axis.set_xlabel("phase", fontsize=8)
    else:
        axis.set_axis_off()
    if not np.isfinite(ephemeris.period):
        axis.set_title(no_period_title(ephemeris), fontsize=8)
    axis.tick_params(labelsize=7)
    if segment is not None:
        from ebscan.lightcurves.periodogram import calnet_period_grid, gls
        from ebscan.lightcurves.resample import minmax

        seg_time, seg_flux = segment
        axis = figure.add_subplot(grid[rows - 1, 0])
        axis.plot(seg_time, seg_flux, ",", color="k")
        axis.set_title("best segment (CALNet input)", fontsize=8)
        axis.tick_params(labelsize=7)
        axis = figure.add_subplot(grid[rows - 1, 1])
        periods = calnet_period_grid()
        axis.semilogx(periods, minmax(gls(seg_time, seg_flux, periods)), lw=0.7)
        axis.set_title("GLS of the segment", fontsize=8)
        axis.tick_params(labelsize=7)
    figure.tight_layout()
    with atomic_open(output, "wb") as handle:
        figure.savefig(handle, format="png", dpi=80)
    plt.close(figure)


def _best_segment(path: str, index: int, config: PreprocessConfig):
    """The (time, flux) of segment ``index`` of ``path`` as CALNet saw it, or None."""
    from ebscan.lightcurves.resample import clip_top

    try:
        lc = read_lightcurve(path, config.flux_column)
        segments = {s.index: s for s in kept_segments(lc, config)}
    except LightCurveError:
        return None
    segment = segments.get(index) or next(iter(segments.values()))
    return clip_top(segment.time, segment.flux, config.clip_percentile)


def _details(job: tuple[dict, str | None, PreprocessConfig]) -> dict:
    """Ephemeris, geometry, centroid columns and plot of one candidate (a pool task)."""
    row, plots_dir, config = job
    tic = int(row["tic"])
    details = {**empty_ephemeris(), "plot": ""}
    paths = [p for p in str(row.get("files") or row["best_file"]).split(";") if p]
    try:
        result = characterise(paths, config.flux_column)
        details.update(result.columns)
        if plots_dir is not None:
            name = f"TIC{tic}.png"
            segment = _best_segment(row["best_file"], int(row["best_segment"]), config)
            diagnostic_plot(
                result,
                f"TIC {tic}  score {float(row['max_score']):.3f}",
                Path(plots_dir) / name,
                segment,
            )
            details["plot"] = f"{Path(plots_dir).name}/{name}"
    except UNMEASURABLE as exc:
        print(f"TIC {tic}: no ephemeris or plot ({exc})")
    return details


def enrich(
    candidates: list[dict],
    catalogs: CatalogSet | None = None,
    plots_dir: str | os.PathLike | None = None,
    config: PreprocessConfig | None = None,
    jobs: int = 1,
    kepler_eb_labels: Iterable[str | os.PathLike] = (),
) -> list[dict]:
    """Add ephemeris, geometry, centroid test, cross-matches and a plot to each candidate.

    Parameters
    ----------
    candidates : list of dict
        Rows of :func:`ebscan.survey.catalog.build_catalog`; ``files`` (';'-separated, every
        light curve of the star) or else ``best_file`` are read again.
    catalogs : CatalogSet, optional
        For the Prsa 2022 and CALNet cross-matches and the known/new status.
    plots_dir : path, optional
        Where to draw each candidate's diagnostic plot.
    config : PreprocessConfig, optional
        Flux column and the segmenting of the best segment in the plot.
    jobs : int
        Processes sharing the work (about 1 s a candidate, most of it the plot).
    kepler_eb_labels : paths
        Labels tables with Kepler EB catalogue rows (see
        :func:`ebscan.labels.catalogs.read_kepler_eb_labels`), matched by TIC.
    """
    config = config or PreprocessConfig()
    if plots_dir is not None:
        plots_dir = os.fspath(plots_dir)
        os.makedirs(plots_dir, exist_ok=True)
    known: set[int] = set()
    prsa: dict[int, tuple[float, float]] = {}
    new_list: set[int] = set()
    if catalogs is not None:
        known = known_eb_tics(catalogs)
        for row in catalogs.prsa:
            prsa.setdefault(int(row["TIC"]), (_number(row["Per"]), _number(row["Morph"])))
        new_list = {int(t) for t in catalogs.calnet_new["TIC"]}
    kepler = read_kepler_eb_labels(kepler_eb_labels)
    work = [(row, plots_dir, config) for row in candidates]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            details = list(pool.map(_details, work, chunksize=4))
    else:
        details = [_details(job) for job in work]
    out = []
    for row, extra in zip(candidates, details, strict=True):
        tic = int(row["tic"])
        period, morph = prsa.get(tic, (np.nan, np.nan))
        kic, kepler_period = kepler.get(tic, (None, np.nan))
        out.append(
            {
                **row,
                **extra,
                "in_prsa2022": int(tic in prsa),
                "prsa2022_period": period,
                "prsa2022_morphology": morph,
                "in_kepler_eb": int(tic in kepler),
                "kepler_eb_kic": kic,
                "kepler_eb_period": kepler_period,
                "in_calnet2025_new": int(tic in new_list),
                "status": (
                    ("known" if tic in known or tic in kepler else "new")
                    if catalogs is not None or kepler
                    else ""
                ),
            }
        )
    return out


def _number(value) -> float:
    """A float from a table cell: NaN where it is masked or empty."""
    if value is np.ma.masked or value is None or value == "":
        return np.nan
    return float(value)


def _cell(value, column: Column):
    """One value as the column's type: NaN (float), None (int) or '' where missing."""
    if column.dtype is float:
        return _number(value)
    if column.dtype is int:
        return None if value is None or value == "" else int(float(value))
    return "" if value is None else str(value)


def _csv_text(value) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def catalog_table(rows: list[dict], columns: dict[str, Column] = COLUMNS):
    """The rows as an astropy Table: typed columns with units and descriptions.

    Floats are NaN where unknown; a missing int is masked.
    """
    from astropy import units as u
    from astropy.table import MaskedColumn, Table

    ppt = u.def_unit("ppt", 1e-3 * u.one, doc="parts per thousand")
    from ebscan import __version__

    table = Table(meta={"EXTNAME": "CANDIDATES", "ORIGIN": f"ebscan {__version__}"})
    for name, column in columns.items():
        values = [_cell(r.get(name), column) for r in rows]
        unit = ppt if column.unit == "ppt" else column.unit
        if column.dtype is int and None in values:
            mask = [v is None for v in values]
            data = np.array([0 if v is None else v for v in values], dtype=np.int64)
            table[name] = MaskedColumn(data, mask=mask, unit=unit, description=column.description)
        else:
            dtype = {float: np.float64, int: np.int64, str: str}[column.dtype]
            data = np.array(values, dtype=dtype) if values else np.array([], dtype=dtype)
            table[name] = data
            table[name].unit = unit
            table[name].description = column.description
    return table


def write_catalog(
    rows: list[dict],
    csv_path: str | os.PathLike,
    ecsv_path: str | os.PathLike,
    fits_path: str | os.PathLike | None = None,
) -> None:
    """Write the candidate catalog as CSV, ECSV and (optionally) FITS.

    ``best_file`` and ``files`` are recorded relative to each file (:mod:`ebscan.paths`;
    the ECSV and FITS files sit in the same folder). ECSV and FITS keep each column's
    dtype, unit and description (astropy). Depths are in ppt, defined as 1e-3; ECSV
    writes the name ``ppt`` (astropy reads it back as an unrecognised unit unless
    ``ppt`` is enabled), FITS the scale ``10**-3``.
    """
    write_csv(
        csv_path,
        [
            {k: _csv_text(_cell(r.get(k), c)) for k, c in COLUMNS.items()}
            for r in with_recorded_paths(rows, csv_path)
        ],
        COLUMNS,
    )
    table = catalog_table(with_recorded_paths(rows, ecsv_path))
    with atomic_open(ecsv_path) as handle:
        table.write(handle, format="ascii.ecsv")
    if fits_path is not None:
        with atomic_open(fits_path, "wb") as handle:
            table.write(handle, format="fits")


def ephemeris_row(path: str, flux_column: str | None = None) -> dict:
    """The ephemeris and geometry columns of one file (``ebscan score``'s per-file output).

    A file that cannot be measured gets empty columns, and the reason on stderr.
    """
    try:
        columns = characterise([path], flux_column).columns
    except UNMEASURABLE as exc:
        # A LightCurveError names the file itself.
        reason = str(exc) if isinstance(exc, LightCurveError) else f"{path}: {exc}"
        print(f"no ephemeris: {reason}", file=sys.stderr)
        columns = empty_ephemeris()
    return {k: _csv_text(_cell(v, EPHEMERIS_COLUMNS[k])) for k, v in columns.items()}
