"""Quality masking and splitting of a light curve into gap-free segments."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ebscan.config import PAPER_MIN_POINTS, PreprocessConfig
from ebscan.errors import LightCurveError
from ebscan.lightcurves.io import LightCurve


@dataclass(frozen=True)
class Segment:
    """One gap-free stretch of good cadences of a light curve.

    Attributes
    ----------
    index : int
        Position among all gap-split stretches of the file (0-based), counted
        before short stretches are dropped, so it is stable when ``min_points``
        changes.
    time, flux : numpy.ndarray
        The good cadences of the stretch (float64).
    """

    index: int
    time: np.ndarray
    flux: np.ndarray

    @property
    def n_points(self) -> int:
        return len(self.time)


def good_cadences(lc: LightCurve) -> tuple[np.ndarray, np.ndarray]:
    """Times and fluxes of cadences with ``QUALITY == 0`` and finite time and flux.

    Raises
    ------
    LightCurveError
        If no cadence is left, or the good times are not strictly increasing
        (unsorted or duplicated cadences would make gap splitting and the
        spline meaningless).
    """
    path = lc.meta.get("path", "<memory>")
    finite_time = np.isfinite(lc.time)
    finite_flux = np.isfinite(lc.flux)
    if not finite_flux.any():
        raise LightCurveError(path, f"{lc.flux_column} is NaN everywhere")
    good = (lc.quality == 0) & finite_time & finite_flux
    if not good.any():
        raise LightCurveError(path, "no cadence with QUALITY == 0 and finite flux")
    time, flux = lc.time[good], lc.flux[good]
    steps = np.diff(time)
    if (steps == 0).any():
        raise LightCurveError(path, f"duplicated times ({int((steps == 0).sum())} repeats)")
    if (steps < 0).any():
        raise LightCurveError(path, "times not sorted")
    return time, flux


def cadence_minutes(time: np.ndarray) -> float:
    """The cadence of a light curve in minutes: the median step between its finite
    times, rounded to the second.

    Rounded because the barycentric time stamps of a sector drift by up to about 0.2 s
    around the nominal cadence (30-minute files of ../shared step by 1800.02 s); it
    gives 120 s for 2-minute files (their ``TIMEDEL`` exactly), 200 s, 600 s and
    1800 s for the full-frame-image cadences.
    """
    steps = np.diff(time[np.isfinite(time)])
    steps = steps[steps > 0]
    if not steps.size:
        return float("nan")
    return round(float(np.median(steps)) * 86400) / 60


def _stretch_bounds(time: np.ndarray, gap_days: float) -> np.ndarray:
    breaks = np.flatnonzero(np.diff(time) > gap_days) + 1
    return np.concatenate(([0], breaks, [len(time)]))


def longest_stretch(time: np.ndarray, gap_days: float = PreprocessConfig.gap_days) -> int:
    """Number of cadences in the longest gap-free stretch."""
    return int(np.diff(_stretch_bounds(time, gap_days)).max())


def split_segments(
    time: np.ndarray,
    flux: np.ndarray,
    gap_days: float = PreprocessConfig.gap_days,
    min_points: int = PAPER_MIN_POINTS,
) -> list[Segment]:
    """Split at gaps longer than ``gap_days`` and keep stretches of ``min_points`` or more.

    Parameters
    ----------
    time, flux : numpy.ndarray
        Good cadences, time strictly increasing.
    gap_days : float
        A new segment starts wherever consecutive times differ by more than this.
    min_points : int
        Segments with fewer cadences are dropped (2000 suits 2-minute data; a
        30-minute sector has about 1300 cadences in all; see
        :meth:`ebscan.config.PreprocessConfig.min_points_at`).

    Returns
    -------
    list of Segment
    """
    bounds = _stretch_bounds(time, gap_days)
    return [
        Segment(index=i, time=time[lo:hi], flux=flux[lo:hi])
        for i, (lo, hi) in enumerate(itertools.pairwise(bounds))
        if hi - lo >= min_points
    ]
