"""Flare clipping and resampling of a segment to a fixed-length vector.

Four modes turn a segment of any length into ``n_points`` samples scaled to
[0, 1] (``SPLINE_MODES``):

``binned`` (the default)
    Where the cadences are finer than the output grid (segments of more than
    ``n_points`` cadences: 2-minute segments longer than 5.6 days, 200-second ones
    longer than 9.3), the mean of the cadences nearest each grid point (bins one grid
    step wide; empty bins, inside gaps, interpolated linearly). Where they are not
    (shorter segments, 10- and 30-minute full-frame-image cadences), the interpolating
    spline of ``calnet-code``: there is nothing to average. Averaging in bins is the
    box filter that downsampling needs: the noise drops as the root of the cadences
    per bin, and an eclipse keeps its depth and shape down to the grid step, with no
    ringing around it.
``adaptive``
    Where the cadences are dense enough for the knots of ``paper`` (at least
    ``MIN_POINTS_PER_KNOT_INTERVAL`` per ``knot_spacing_days``: 2-minute and
    200-second data), its least-squares spline with outliers removed above the fit
    only (flares, cosmic rays), never below it (eclipses). Where they are not
    (10- and 30-minute full-frame-image cadences, coarser than the knots), the
    interpolating spline of ``calnet-code``: a least-squares spline with knots a
    few cadences apart would smooth away eclipses only a few cadences long.
``paper``
    What Shan et al. (2025) describe: a least-squares cubic spline with knots
    every ``knot_spacing_days``, fitted, 3-sigma outliers removed and refitted
    ``clip_rounds`` times (Vanderburg & Johnson 2014), then evaluated on an even
    grid. The spline averages the photometric noise away. Clipping on both sides
    erases every eclipse the knots cannot follow: the eclipses of a detached EB,
    a few cadences long in a 30-minute light curve, are "outliers" and vanish.
``calnet-code``
    What their public code runs: an interpolating cubic spline (a knot at every
    cadence) on time rescaled to [0, 1]. It passes through every point, so its
    residuals are round-off and their clipping loop selects points by
    floating-point noise; that loop is left out here so the mode is
    deterministic across machines. Evaluating an interpolant of noisy data on a
    coarser grid keeps the noise, point for point.

``docs/preprocessing.md`` says which mode is the default and why.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ebscan.config import PreprocessConfig
from ebscan.errors import LightCurveError


def clip_top(
    time: np.ndarray, flux: np.ndarray, percentile: float = PreprocessConfig.clip_percentile
) -> tuple[np.ndarray, np.ndarray]:
    """Drop the brightest cadences (flares); never the faintest (eclipses).

    Keeps cadences strictly below the ``percentile``-th percentile of the flux,
    as the reference code does.
    """
    keep = flux < np.percentile(flux, percentile)
    return time[keep], flux[keep]


def minmax(values: np.ndarray) -> np.ndarray:
    """Scale to [0, 1]; raises ``ValueError`` for a constant input."""
    lo, hi = np.min(values), np.max(values)
    if not hi > lo:
        raise ValueError("constant values cannot be min-max scaled")
    return (values - lo) / (hi - lo)


#: Fewest cadences between two knots of the least-squares spline.
MIN_POINTS_PER_KNOT_INTERVAL = 4


def _interior_knots(time: np.ndarray, spacing: float) -> np.ndarray:
    """Knots every ``spacing`` days, skipping those that would leave an interval too sparse.

    Each kept interval holds at least ``MIN_POINTS_PER_KNOT_INTERVAL`` cadences, so
    every B-spline has data under it (the Schoenberg-Whitney condition) across
    data gaps and for cadences coarser than the spacing (30-minute data).
    """
    candidates = time[0] + spacing * np.arange(1, int((time[-1] - time[0]) / spacing) + 1)
    n_before = np.searchsorted(time, candidates)
    kept, last = [], 0
    for knot, n in zip(candidates, n_before, strict=True):
        if (
            n - last >= MIN_POINTS_PER_KNOT_INTERVAL
            and time.size - n >= MIN_POINTS_PER_KNOT_INTERVAL
        ):
            kept.append(knot)
            last = n
    return np.asarray(kept)


def _lsq_spline(time: np.ndarray, flux: np.ndarray, spacing: float):
    # Imported here: SciPy's interpolation takes 0.4 s to import, which commands that
    # only list their options should not pay.
    from scipy.interpolate import LSQUnivariateSpline

    # FITPACK's banded solver; scipy's make_lsq_spline gives the same spline
    # (to 1e-14) about 17 times slower on a 2-minute segment.
    return LSQUnivariateSpline(time, flux, _interior_knots(time, spacing), k=3)


def resample_paper(
    time: np.ndarray,
    flux: np.ndarray,
    n_points: int = PreprocessConfig.n_lc,
    knot_spacing_days: float = PreprocessConfig.knot_spacing_days,
    clip_sigma: float = PreprocessConfig.clip_sigma,
    clip_rounds: int = PreprocessConfig.clip_rounds,
    clip_below: bool = True,
) -> np.ndarray:
    """Least-squares cubic spline with iterative sigma clipping (the paper's method).

    Parameters
    ----------
    time, flux : numpy.ndarray
        One segment, time strictly increasing (days).
    n_points : int
        Length of the output vector.
    knot_spacing_days : float
        Distance between interior knots. It must stay well below the duration
        of the shortest eclipses to be kept (a contact binary of 0.25 d has
        eclipses of about 0.1 d), or eclipse bottoms become "outliers".
    clip_sigma : float
        Cadences further than this many robust standard deviations
        (1.4826 x MAD of the residuals) from the fit are removed.
    clip_rounds : int
        Rounds of clip-and-refit after the first fit; stops early once no
        cadence is removed.
    clip_below : bool
        Clip cadences below the fit too (the paper); otherwise only those above.

    Returns
    -------
    numpy.ndarray
        ``n_points`` values in [0, 1] on an even grid from the first to the last
        cadence.
    """
    keep = np.ones(time.size, dtype=bool)
    spline = _lsq_spline(time, flux, knot_spacing_days)
    for _ in range(clip_rounds):
        residuals = flux - spline(time)
        offset = residuals - np.median(residuals[keep])
        sigma = 1.4826 * np.median(np.abs(offset[keep]))
        new_keep = (np.abs(offset) if clip_below else offset) <= clip_sigma * sigma
        if np.array_equal(new_keep, keep):
            break
        keep = new_keep
        spline = _lsq_spline(time[keep], flux[keep], knot_spacing_days)
    grid = np.linspace(time[0], time[-1], n_points)
    return minmax(spline(grid))


def resample_calnet_code(
    time: np.ndarray, flux: np.ndarray, n_points: int = PreprocessConfig.n_lc
) -> np.ndarray:
    """Interpolating cubic spline on time rescaled to [0, 1] (the reference code)."""
    from scipy.interpolate import InterpolatedUnivariateSpline

    scaled = (time - time[0]) / (time[-1] - time[0])
    spline = InterpolatedUnivariateSpline(scaled, flux, k=3)
    return minmax(spline(np.linspace(0.0, 1.0, n_points)))


def resample_adaptive(
    time: np.ndarray,
    flux: np.ndarray,
    n_points: int = PreprocessConfig.n_lc,
    knot_spacing_days: float = PreprocessConfig.knot_spacing_days,
    clip_sigma: float = PreprocessConfig.clip_sigma,
    clip_rounds: int = PreprocessConfig.clip_rounds,
) -> np.ndarray:
    """The paper's spline clipped above the fit only, or the interpolant for coarse cadences.

    Parameters are those of :func:`resample_paper`; the least-squares spline is used
    when the median cadence leaves at least ``MIN_POINTS_PER_KNOT_INTERVAL`` cadences
    per ``knot_spacing_days``, :func:`resample_calnet_code` otherwise.
    """
    cadence = float(np.median(np.diff(time)))
    if knot_spacing_days >= MIN_POINTS_PER_KNOT_INTERVAL * cadence:
        return resample_paper(
            time, flux, n_points, knot_spacing_days, clip_sigma, clip_rounds, clip_below=False
        )
    return resample_calnet_code(time, flux, n_points)


def resample_binned(
    time: np.ndarray, flux: np.ndarray, n_points: int = PreprocessConfig.n_lc
) -> np.ndarray:
    """Bin means on the output grid, or the interpolant for coarse cadences.

    Each cadence goes to the nearest of ``n_points`` grid points from the first to
    the last cadence; a grid point's value is the mean of its cadences, and grid
    points with none (gaps) are interpolated linearly. When the median cadence is not
    finer than the grid step, :func:`resample_calnet_code` instead: most grid points
    would be empty.

    Parameters
    ----------
    time, flux : numpy.ndarray
        One segment after top clipping, time strictly increasing (days).
    n_points : int
        Length of the output vector.

    Returns
    -------
    numpy.ndarray
        ``n_points`` values in [0, 1] on an even grid from the first to the last
        cadence.
    """
    grid = np.linspace(time[0], time[-1], n_points)
    step = grid[1] - grid[0]
    if float(np.median(np.diff(time))) >= step:
        return resample_calnet_code(time, flux, n_points)
    nearest = np.clip(np.rint((time - time[0]) / step).astype(np.int64), 0, n_points - 1)
    counts = np.bincount(nearest, minlength=n_points)
    sums = np.bincount(nearest, flux, n_points)
    filled = counts > 0
    return minmax(np.interp(grid, grid[filled], sums[filled] / counts[filled]))


SPLINE_MODES: dict[str, Callable[..., np.ndarray]] = {
    "binned": resample_binned,
    "adaptive": resample_adaptive,
    "paper": resample_paper,
    "calnet-code": resample_calnet_code,
}


def resample(
    time: np.ndarray,
    flux: np.ndarray,
    n_points: int = PreprocessConfig.n_lc,
    mode: str = PreprocessConfig.spline_mode,
    *,
    path: str = "<memory>",
    **options: float,
) -> np.ndarray:
    """Resample one segment to ``n_points`` values in [0, 1] with a named spline mode.

    Parameters
    ----------
    time, flux : numpy.ndarray
        One segment after top clipping.
    n_points : int
        Output length (``PreprocessConfig.n_lc`` for CALNet).
    mode : {'binned', 'adaptive', 'paper', 'calnet-code'}
        See the module docstring.
    path : str
        File name used in error messages.
    **options
        Passed to the mode: ``knot_spacing_days``, ``clip_sigma`` and
        ``clip_rounds`` for ``adaptive`` and ``paper``; none for ``binned`` and
        ``calnet-code``.

    Raises
    ------
    LightCurveError
        If the segment's flux is constant or the spline cannot be fitted.
    """
    try:
        implementation = SPLINE_MODES[mode]
    except KeyError:
        raise ValueError(
            f"unknown spline mode {mode!r}; choose from {sorted(SPLINE_MODES)}"
        ) from None
    if np.ptp(flux) == 0:
        raise LightCurveError(path, "flux is constant")
    try:
        return implementation(time, flux, n_points, **options)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise LightCurveError(path, f"spline failed: {exc}") from None
