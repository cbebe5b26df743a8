"""The folded view: a segment's LC vector folded on its periodogram's peak.

A classifier that sees a segment only as 4000 points in time must itself stack a
binary's cycles to see the eclipses' shape, and a shallow eclipse (S/N 10-20 over a
sector) is a few sigma deep in any one cycle. Folding stacks them: this is the
"global view" of astronet (Shallue & Vanderburg 2018), which folds at the period
its transit search found. Here the fold needs nothing beyond the two vectors the
survey already stores: the GLS peak of an eclipsing binary sits at half its orbit
(two eclipses an orbit) or at the orbit itself, so the view folds at twice the peak
period, and at the peak period itself. At twice the period the two halves of a
binary's fold hold its primary and secondary eclipses, which differ, and those of
a pulsator or a spotted star's one cycle repeated.

Each fold has two channels per bin: the mean of the LC vector's points that fall in
it, and their standard deviation, both in units of the fold's range (the
standard deviation says whether the cycles agree: small for a binary's coherent
eclipses, large for noise or beating pulsation modes). Each fold is rolled so that
its deepest three-bin mean sits at a quarter of the bins, which puts a binary's
primary eclipse at a fixed place and its secondary, half an orbit later, at three
quarters.

References
----------
Shallue, C. J. & Vanderburg, A. 2018, AJ 155, 94 (astronet's global view).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Phase bins of each fold.
FOLD_BINS = 128
#: Channels of the view: the mean and standard deviation of each bin, at twice the
#: GLS peak period and at the peak period.
FOLD_CHANNELS = 4
#: The input name of the folded view in a model (:func:`ebscan.models.input_names`).
FOLD_INPUT = "fold"
#: The shortest period the fold looks for a peak at, in cadences: below three
#: cadences a periodogram's peaks are aliases of longer periods.
MIN_PERIOD_CADENCES = 3.0
#: The shortest period looked at whatever the cadence (days): ultra-short binaries
#: have orbits of 0.15 d and more, so their half orbits are 0.075 d and more.
MIN_PERIOD_DAYS = 0.04


def peak_period(
    gls: np.ndarray, period: np.ndarray, span_days: float, cadence_days: float
) -> float:
    """The period (days) of the highest periodogram peak that a fold can use.

    Peaks shorter than :data:`MIN_PERIOD_CADENCES` cadences or :data:`MIN_PERIOD_DAYS`,
    or longer than half the segment's span (fewer than two cycles), are passed over.
    An unknown cadence (NaN: shards of format 2) passes over the periods below
    :data:`MIN_PERIOD_DAYS` only. Where no trial period is left, the longest trial
    period within the span.
    """
    shortest = MIN_PERIOD_DAYS
    if np.isfinite(cadence_days):
        shortest = max(shortest, MIN_PERIOD_CADENCES * cadence_days)
    usable = (period >= shortest) & (period <= span_days / 2)
    if not usable.any():
        within = period[period <= span_days]
        return float(within.max() if within.size else period.min())
    return float(period[usable][np.argmax(gls[usable])])


def _fold(lc: np.ndarray, time: np.ndarray, period: float) -> np.ndarray:
    bins = np.minimum(((time / period) % 1.0 * FOLD_BINS).astype(np.int64), FOLD_BINS - 1)
    counts = np.bincount(bins, minlength=FOLD_BINS).astype(np.float64)
    filled = counts > 0
    safe = np.where(filled, counts, 1.0)
    mean = np.bincount(bins, lc, FOLD_BINS) / safe
    spread = np.sqrt(np.maximum(np.bincount(bins, lc * lc, FOLD_BINS) / safe - mean**2, 0.0))
    centres = np.arange(FOLD_BINS)
    # A fold finer than the data (a period of a few cadences) leaves bins empty.
    mean = np.interp(centres, centres[filled], mean[filled], period=FOLD_BINS)
    spread = np.interp(centres, centres[filled], spread[filled], period=FOLD_BINS)
    smoothed = (np.roll(mean, 1) + mean + np.roll(mean, -1)) / 3.0
    shift = FOLD_BINS // 4 - int(np.argmin(smoothed))
    mean, spread = np.roll(mean, shift), np.roll(spread, shift)
    low, scale = mean.min(), max(float(np.ptp(mean)), 1e-6)
    return np.stack([(mean - low) / scale, spread / scale], axis=-1)


def fold_view(
    lc: np.ndarray, gls: np.ndarray, period: np.ndarray, span_days: float, cadence_days: float
) -> np.ndarray:
    """The folded view of one segment, (:data:`FOLD_BINS`, :data:`FOLD_CHANNELS`) float32.

    Parameters
    ----------
    lc : numpy.ndarray
        The segment's LC vector: values on an even grid from its first to its last
        cadence (:func:`ebscan.lightcurves.resample.resample`).
    gls : numpy.ndarray
        Its periodogram on ``period``.
    period : numpy.ndarray
        The trial periods of ``gls`` (days).
    span_days : float
        Last cadence minus first cadence (``t_end - t_start``).
    cadence_days : float
        The light curve's cadence.

    Examples
    --------
    A binary of 1.6 d with eclipses 0.4 and 0.2 deep (its periodogram peaks at half
    the orbit):

    >>> import numpy as np
    >>> from ebscan.lightcurves.periodogram import calnet_period_grid, gls
    >>> t = np.linspace(0.0, 13.0, 4000)
    >>> phase = (t / 1.6) % 1
    >>> lc = 1 - 0.4 * np.exp(-0.5 * ((phase - 0.3) / 0.02) ** 2)
    >>> lc -= 0.2 * np.exp(-0.5 * ((phase - 0.8) / 0.02) ** 2)
    >>> grid = calnet_period_grid()
    >>> round(peak_period(gls(t, lc, grid), grid, 13.0, 2 / 1440), 2)
    0.8
    >>> view = fold_view(lc, gls(t, lc, grid), grid, 13.0, 2 / 1440)
    >>> view.shape
    (128, 4)
    >>> view[[32, 96], 0].round(2)  # primary at a quarter, secondary half as deep
    array([0. , 0.5], dtype=float32)
    """
    lc = np.asarray(lc, dtype=np.float64)
    time = np.linspace(0.0, span_days, lc.size)
    peak = peak_period(np.asarray(gls), np.asarray(period), span_days, cadence_days)
    view = np.concatenate([_fold(lc, time, 2.0 * peak), _fold(lc, time, peak)], axis=-1)
    return view.astype(np.float32)


def model_inputs(
    names: Sequence[str],
    lc: np.ndarray | None,
    gls: np.ndarray | None,
    period: np.ndarray | None = None,
    spans_days: np.ndarray | None = None,
    cadences_days: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The inputs a model named ``names`` takes for a batch of segments.

    ``lc`` and ``gls`` (n, length) become (n, length, 1) float32 (either may be None
    where ``names`` does not need it); the folded view, where ``names`` asks for it,
    is made from both (:func:`fold_view`) with the trial ``period`` grid and each
    segment's span and cadence (days).
    """
    vectors = {"lc": lc, "gls": gls}
    inputs = {}
    for name in names:
        if name != FOLD_INPUT:
            inputs[name] = np.asarray(vectors[name], dtype=np.float32)[..., None]
            continue
        views = [
            fold_view(a, g, period, float(s), float(c))
            for a, g, s, c in zip(lc, gls, spans_days, cadences_days, strict=True)
        ]
        inputs[name] = (
            np.stack(views) if views else np.zeros((0, FOLD_BINS, FOLD_CHANNELS), np.float32)
        )
    return inputs
