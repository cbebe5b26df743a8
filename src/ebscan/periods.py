"""Period estimates for candidates: the GLS peak, or twice it, decided by the eclipses.

An eclipsing binary with two similar eclipses puts its strongest GLS peak at half the
orbital period. Folding at twice the GLS period lays odd and even eclipses side by
side (phases 0 and 0.5); different depths mean the true period is the longer one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ebscan.periodogram import calnet_period_grid, gls


@dataclass(frozen=True)
class PeriodEstimate:
    """Periods of one light curve (days) and which one its eclipses support.

    Attributes
    ----------
    period_gls : float
        Highest GLS peak on the CALNet grid, refined by a finer search around it.
    period_double : float
        Twice ``period_gls``.
    supported : str
        ``"double"`` when odd and even dips of the fold at ``period_double`` differ
        by more than ``significance`` standard errors, else ``"gls"``.
    depth_odd, depth_even : float
        Dip depths (relative flux) at phases 0 and 0.5 of that fold.
    depth_difference_sigma : float
        |odd - even| in units of its standard error.
    """

    period_gls: float
    period_double: float
    supported: str
    depth_odd: float
    depth_even: float
    depth_difference_sigma: float

    @property
    def period(self) -> float:
        return self.period_double if self.supported == "double" else self.period_gls


def refine_peak(time: np.ndarray, flux: np.ndarray, coarse: float, points: int = 400) -> float:
    """Best GLS period within one grid step (0.8%) of ``coarse``, on a fine grid."""
    step = 10 ** (4 / 1124)
    fine = np.geomspace(coarse / step, coarse * step, points)
    return float(fine[np.argmax(gls(time, flux, fine, "finufft"))])


#: Bins of a folded light curve.
_BINS = 200


def _folded_bins(time: np.ndarray, relative: np.ndarray, period: float):
    """Binned fold with the deepest bin at phase 0: (centres, means, standard errors)."""
    phase = ((time - time[0]) / period) % 1.0
    which = np.minimum((phase * _BINS).astype(int), _BINS - 1)
    counts = np.bincount(which, minlength=_BINS)
    sums = np.bincount(which, relative, _BINS)
    squares = np.bincount(which, relative**2, _BINS)
    filled = counts > 1
    means = np.where(filled, sums / np.maximum(counts, 1), np.inf)
    variance = np.where(
        filled, (squares - sums**2 / np.maximum(counts, 1)) / np.maximum(counts - 1, 1), np.inf
    )
    errors = np.sqrt(np.maximum(variance, 0) / np.maximum(counts, 1))
    shift = np.argmin(means)
    centres = (np.arange(_BINS) - shift) % _BINS / _BINS
    return centres, means, errors


def _deepest(centres, means, errors, lo: float, hi: float) -> tuple[float, float]:
    """Depth (positive) and error of the lowest bin with phase in [lo, hi)."""
    inside = np.flatnonzero((centres >= lo) & (centres < hi) & np.isfinite(means))
    if not inside.size:
        return 0.0, np.inf
    best = inside[np.argmin(means[inside])]
    return float(-means[best]), float(errors[best])


def _differ(a: tuple[float, float], b: tuple[float, float], significance: float) -> bool:
    """Two depths differ: by ``significance`` errors and by 10% of the deeper."""
    gap = abs(a[0] - b[0])
    return gap > significance * np.hypot(a[1], b[1]) and gap > 0.1 * max(a[0], b[0])


def estimate_period(
    time: np.ndarray, flux: np.ndarray, significance: float = 3.0
) -> PeriodEstimate:
    """GLS period, twice it, and which one the eclipses support.

    Folded at twice the GLS period, the deepest dip sits at phase 0; the deepest dip
    near phase 0.5 (within 0.1, for eccentric orbits) is compared with it. Odd and
    even dips that differ (by ``significance`` errors and by 10%) are a primary and a
    secondary eclipse: the doubled period is the orbit. Equal dips are either the
    same eclipse seen twice (the GLS period is the orbit, and its own fold shows a
    second, shallower dip, the secondary) or twins (no second dip in the GLS fold):
    the doubled period then. A binary whose secondary is invisible and whose GLS
    peak is its orbit also shows no second dip; it comes out ``double``, so both
    periods are always reported.

    Parameters
    ----------
    time, flux : numpy.ndarray
        Good cadences of one light curve (all segments together; days).
    significance : float
        Threshold in standard errors for a dip and for a depth difference.
    """
    grid = calnet_period_grid()
    relative = flux / np.median(flux) - 1.0
    coarse = grid[np.argmax(gls(time, relative, grid, "finufft"))]
    period = refine_peak(time, relative, coarse)
    folded = _folded_bins(time, relative, 2.0 * period)
    odd = _deepest(*folded, 0.0, 1.0 / _BINS)
    even = _deepest(*folded, 0.4, 0.6)
    sigma = abs(odd[0] - even[0]) / np.hypot(odd[1], even[1])
    sigma = float(sigma) if np.isfinite(sigma) else 0.0
    single = _folded_bins(time, relative, period)
    primary = _deepest(*single, 0.0, 1.0 / _BINS)
    second = _deepest(*single, 0.1, 0.9)
    has_second_dip = second[0] > significance * second[1] and second[0] > 0.1 * primary[0]
    doubled = _differ(odd, even, significance) or not has_second_dip
    return PeriodEstimate(
        period_gls=period,
        period_double=2.0 * period,
        supported="double" if doubled else "gls",
        depth_odd=odd[0],
        depth_even=even[0],
        depth_difference_sigma=sigma,
    )
