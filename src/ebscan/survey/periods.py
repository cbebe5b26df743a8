"""Orbital periods of eclipsing binaries: a period search made for eclipses.

The search (:func:`search_period`) works in four steps, measured on the real EBs of
``../shared`` (``bench/periods.py``; ``docs/catalog.md`` gives the comparison with the
alternatives tried):

1. Trial periods: the highest peaks of the Lomb-Scargle periodogram (astropy, on the
   whole baseline of all sectors) and their multiples. A detached binary's narrow
   eclipses spread the GLS power over many harmonics, so the strongest peak can be
   P/2, P/3, ... of the eclipse spacing; its multiples bring the spacing back.
2. Each trial period is refined by phase-dispersion minimisation and scored by the
   cross-validated scatter of the fold: the fold of the even cycles predicts the odd
   cycles and the other way round (linear interpolation between phase bins), after a
   running median of the residuals (1 d) takes out slow trends. Cross-validation
   does not reward the longer periods that fit noise with fewer cycles per bin, as
   plain phase dispersion does. The trial period of least scatter is the eclipse
   spacing, unless a shorter one explains 97% of the variance that one explains, in
   a fold about as smooth (cycles that differ a little, a spotted contact binary,
   can put the least scatter at a multiple of the spacing). A tolerance on the
   scatter itself (5% of it, once) let a wrong short period win where the eclipses
   are a small part of the light curve's variance.
3. Eclipses under another signal: box least squares (astropy) on the light curve less
   its fold at the spacing. Narrow boxes of 10 standard errors at a period that is no
   multiple or fraction of the spacing are eclipses that a pulsation or spots hid;
   their period replaces the spacing, and the other signal's fold is taken out before
   the eclipses are measured.
4. Spacing or twice it: eclipses whose depths alternate from cycle to cycle at the
   spacing (odd and even eclipses differ, :func:`parity_test`) are primaries and
   secondaries: the orbit is twice the spacing, whatever else the fold shows (spots or
   an ellipsoidal variation at half the orbit can make a second minimum there).
   Otherwise, a fold at the spacing that shows a second minimum (a dip of
   its own between two maxima: the secondary eclipse, or the other minimum of a
   contact binary; or, found by a matched filter, a secondary eclipse as long as
   the primary half an orbit after it: :func:`shows_secondary`) is the orbit. The
   fold has no bin narrower than a third of a cadence (down to 12 bins), so that a
   period of a few cadences does not show how the cadences of different cycles fall
   on it. A fold with one minimum is taken to be twins (equal eclipses, or a contact
   binary's equal minima): the orbit is twice the spacing, which is the catalogue
   convention. A binary whose secondary is invisible (or a
   transiting planet) also shows one minimum; its period comes out doubled, and the
   ``equal_minima`` flag says so.

:func:`measure_ephemeris` then times every primary eclipse seen, fits the times with a
line (period, T0 and their uncertainties; each time's white-noise error scaled by its
own fit's misfit and by the red noise of the light curve on an eclipse's time scale,
:func:`red_noise_factor`),
counts the primary and secondary eclipses seen, and compares odd and even eclipse
depths. A light curve with one or two eclipses
in all its sectors, or whose period the eclipses seen one by one do not bear out, gets
the eclipse times and a lower bound on the period instead (:func:`find_eclipses`,
:func:`period_lower_bound`); first, if that period came from eclipses under another
signal (step 3), the search without step 3 gets its chance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import median_filter

#: Shortest period searched (d); the shortest Kepler EB is 0.126 d.
MIN_PERIOD = 0.05
#: Multiples of each periodogram peak tried.
HARMONICS = 8
#: Periodogram peaks used as seeds.
PEAKS = 5
#: A trial period that explains this fraction of the variance that the best one
#: (least cross-validated scatter) explains is a candidate (large signals whose cycles
#: differ a little, spotted contact binaries) ...
EXPLAINED_TOLERANCE = 0.97
#: ... and the candidates whose folds are about as smooth as the smoothest one's are
#: good: the share of the folded profile's variance in jumps from bin to bin
#: (:func:`fold_roughness`) no more than this above the smoothest's. A cadence close
#: to a whole fraction of the period samples the light curve in a few phase tracks,
#: which fold into any order at the period's aliases, and such a fold can explain as
#: much as the right one, or more: a fifth of a 0.79-day detached binary at 30-minute
#: cadence (38 cadences an orbit) explains 97.8% of its variance, a jagged profile of
#: 0.92 against 0.04 at half the orbit; it was the best fold, and was taken while the
#: smoothness was measured against the best's (bench/periods.py, simulated binary 33).
ROUGHNESS_TOLERANCE = 0.1
#: Window of the running median that removes slow trends (d).
TREND_WINDOW = 1.0
#: Light curves are averaged into bins of this length for the search (d).
SEARCH_CADENCE = 10 / 1440
#: Phase bins of the fold in which :func:`shows_secondary` looks for a second minimum.
SECOND_MINIMUM_BINS = 100
#: A second minimum needs this prominence over the noise of the smoothed fold: the 1%
#: false-alarm level on white noise. Of 40 000 seeded folds of Gaussian white noise in
#: :data:`SECOND_MINIMUM_BINS` bins, :func:`profile_second_minimum` gives over 5.76 in
#: 1%, 4.70 in 10% and 3.72 in half (``docs/catalog.md``; a test checks the rate) ...
SECOND_MINIMUM_SIGMA = 5.75
#: ... and this fraction of the primary's depth.
SECOND_MINIMUM_FRACTION = 0.05
#: Fewest phase bins of that fold, for periods of a few cadences (fewer bins lower the
#: false-alarm rate of :data:`SECOND_MINIMUM_SIGMA`: 0.3% in 30 bins, 0.06% in 14).
MIN_FOLD_BINS = 12
#: A secondary eclipse half an orbit after the primary and as long as it (a circular
#: orbit's) is looked for within this phase of 0.5, or one bin
#: (:func:`profile_half_orbit_secondary`) ...
HALF_ORBIT_TOLERANCE = 0.02
#: ... and found where its depth stands this many standard errors above zero: above
#: the 1% false-alarm level on folds of white noise with a primary eclipse, which is
#: 2.9 at most over primaries of half widths 0.005-0.08 of the period and depths 8-100
#: times one bin's noise, in 30 or 100 bins (``docs/catalog.md``; a test checks the
#: rate).
HALF_ORBIT_SIGMA = 3.0
#: Box durations (d) and shortest period (d) of the box search for eclipses under
#: another signal ...
BOX_DURATIONS = (0.04, 0.08, 0.16)
BOX_MIN_PERIOD = 0.3
#: ... which must stand this many standard errors out of the residuals ...
BOX_SNR = 10.0
#: ... at a period that no multiple or fraction (1-8) of the signal's spacing is, nor 3/2
#: or 2/3 of it, to 2% (:data:`BOX_RELATED_RATIOS`), ...
BOX_HARMONIC_TOLERANCE = 0.02
#: The box periods, over the spacing, that the signal at the spacing itself leaves: its
#: multiples and fractions, and 3/2 and 2/3. The last two are what the fold leaves of
#: an eclipse shorter than a cadence (sampled alike every third cycle) or of a binary
#: longer than half the sector: every such box in the shared sets and bench/periods.py
#: gave a wrong period (docs/catalog.md).
BOX_RELATED_RATIOS = (
    *range(1, HARMONICS + 1),
    *(1 / k for k in range(2, HARMONICS + 1)),
    3 / 2,
    2 / 3,
)
#: ... and in boxes shorter than this fraction of the period: detached eclipses. (A
#: contact binary's residuals, its minima changing from cycle to cycle, give wide boxes
#: near its period: on the shared Kepler EBs they all have boxes of 0.16 of the period or
#: more, the hidden eclipses 0.13 or less.)
BOX_MAX_DUTY = 0.1
#: The box search looks at no more than this much baseline (d), the densest stretch.
BOX_MAX_SPAN = 100.0
#: A box that the search finds must also stay this many standard errors deep when
#: fitted together with a smooth curve at its period (:data:`SMOOTH_HARMONICS`
#: harmonics): an eclipse is a dip that no smooth curve makes, while BLS also fits
#: boxes into the minima of spots or a pulsation. Not a calibrated significance (BLS
#: chose the box's period, phase and duration on the same data, and the error takes
#: the cadences as independent): an empirical cut between the boxes fitted into spots
#: that the fold leaves (2.8-4.7 on seeded spotted twins with 5-ppt spots; 3.2 for TIC
#: 122603455) and the hidden eclipses of the shared sets (8.4-44; docs/catalog.md).
BOX_BEYOND_SMOOTH_SIGMA = 6.0
#: Harmonics of the smooth curve: a spotted star's fundamental and first harmonic.
SMOOTH_HARMONICS = 2


@dataclass(frozen=True)
class PeriodSearch:
    """Outcome of :func:`search_period`.

    Attributes
    ----------
    period : float
        The orbital period (d): ``spacing`` or twice it.
    spacing : float
        Shortest period at which the light curve folds well (d).
    doubled : bool
        True when ``period`` is twice ``spacing`` (one minimum per spacing).
    second_minimum_sigma : float
        Prominence of the fold's most prominent second minimum anywhere at
        ``spacing``, over the fold's noise (:func:`shows_secondary`, whose half-orbit
        test can find a secondary under :data:`SECOND_MINIMUM_SIGMA` too).
    peaks : tuple of float
        The periodogram peaks that seeded the search (d).
    variability_period : float
        When the eclipses hide under another periodic signal (pulsation, spots): that
        signal's period (d), whose fold :func:`remove_variability` takes out before the
        eclipses are measured; NaN otherwise.
    explained : float
        Fraction of the variance the fold at ``spacing`` explains, cross-validated
        (about 0 or below for noise).
    alternating : bool
        True when the eclipses at ``spacing`` alternate in depth (odd and even cycles
        differ: :func:`parity_test`), which makes ``period`` twice ``spacing`` whatever
        the fold's minima say: primary and secondary eclipses of similar depth.
    """

    period: float
    spacing: float
    doubled: bool
    second_minimum_sigma: float
    peaks: tuple[float, ...] = field(default_factory=tuple)
    variability_period: float = np.nan
    explained: float = np.nan
    alternating: bool = False


def bin_series(time: np.ndarray, flux: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Means of consecutive ``width``-long stretches (empty stretches dropped)."""
    which = np.floor((time - time[0]) / width).astype(np.int64)
    counts = np.bincount(which)
    filled = counts > 0
    return (
        np.bincount(which, time)[filled] / counts[filled],
        np.bincount(which, flux)[filled] / counts[filled],
    )


def running_median(time: np.ndarray, values: np.ndarray, window: float) -> np.ndarray:
    """Running median of ``values`` over ``window`` days, on a grid of window/50 steps."""
    step = max(float(np.median(np.diff(time))), window / 50)
    which = np.floor((time - time[0]) / step).astype(np.int64)
    counts = np.bincount(which)
    means = np.bincount(which, values) / np.maximum(counts, 1)
    grid = np.arange(len(counts))
    filled = counts > 0
    means = np.interp(grid, grid[filled], means[filled])
    size = max(3, int(window / step)) | 1
    return median_filter(means, size=size, mode="nearest")[which]


def phase_dispersion(time: np.ndarray, flux: np.ndarray, period: float, bins: int) -> float:
    """Sum of squared deviations from the bin means of the fold (Stellingwerf 1978)."""
    which = np.minimum(((time / period) % 1.0 * bins).astype(np.int64), bins - 1)
    counts = np.bincount(which, minlength=bins)
    sums = np.bincount(which, flux, bins)
    squares = np.bincount(which, flux * flux, bins)
    return float((squares - sums**2 / np.maximum(counts, 1)).sum())


def cross_validated_fold(
    time: np.ndarray, flux: np.ndarray, period: float, bins: int
) -> tuple[np.ndarray, np.ndarray]:
    """Residuals of each cadence from the fold of the other cycles' parity, and that fold.

    The fold of the even cycles (bin means, linearly interpolated in phase) predicts
    the odd cycles and the other way round, so that no cadence predicts itself.
    """
    cycle = np.floor(time / period)
    phase = time / period - cycle
    which = np.minimum((phase * bins).astype(np.int64), bins - 1)
    odd = cycle.astype(np.int64) % 2 == 1
    centres = (np.arange(bins) + 0.5) / bins
    prediction = np.zeros_like(flux)
    for source in (odd, ~odd):
        target = ~source
        counts = np.bincount(which[source], minlength=bins)
        sums = np.bincount(which[source], flux[source], bins)
        filled = counts > 0
        if filled.sum() < 2:
            prediction[target] = flux[source].mean() if source.any() else 0.0
            continue
        knots = np.concatenate([centres[filled] - 1, centres[filled], centres[filled] + 1])
        means = np.tile(sums[filled] / counts[filled], 3)
        prediction[target] = np.interp(phase[target], knots, means)
    return flux - prediction, prediction


def fold_scatter(time: np.ndarray, flux: np.ndarray, period: float, bins: int) -> float:
    """Cross-validated scatter of the fold at ``period`` after slow trends are removed."""
    _, model = cross_validated_fold(time, flux, period, bins)
    trend = running_median(time, flux - model, TREND_WINDOW)
    residuals, _ = cross_validated_fold(time, flux - trend, period, bins)
    return float((residuals**2).sum())


def refine_period(time: np.ndarray, flux: np.ndarray, period: float, bins: int) -> float:
    """Period of least phase dispersion within about one periodogram step of ``period``."""
    span = time[-1] - time[0]
    step = period**2 / span / bins / 2
    trials = period + step * np.arange(-40, 41)
    trials = trials[trials > 0]
    dispersion = [phase_dispersion(time, flux, p, bins) for p in trials]
    return float(trials[int(np.argmin(dispersion))])


def periodogram_peaks(
    time: np.ndarray, flux: np.ndarray, min_period: float, max_period: float, count: int = PEAKS
) -> np.ndarray:
    """The ``count`` highest local maxima of the Lomb-Scargle periodogram, as periods (d).

    Peaks closer than 2% in frequency to a higher one are skipped.
    """
    from astropy.timeseries import LombScargle

    span = time[-1] - time[0]
    step = 1 / (5 * span)
    frequency = np.arange(1 / max_period, 1 / min_period, step)
    if len(frequency) > 2_000_000:
        frequency = np.linspace(1 / max_period, 1 / min_period, 2_000_000)
    power = LombScargle(time, flux).power(frequency, method="fast")
    maxima = np.flatnonzero((power[1:-1] > power[:-2]) & (power[1:-1] >= power[2:])) + 1
    maxima = maxima[np.argsort(power[maxima])[::-1]]
    chosen: list[int] = []
    for index in maxima:
        if all(abs(frequency[index] / frequency[other] - 1) > 0.02 for other in chosen):
            chosen.append(int(index))
        if len(chosen) == count:
            break
    return 1 / frequency[chosen]


def folded_profile(
    time: np.ndarray, flux: np.ndarray, period: float, bins: int, t0: float = 0.0
) -> np.ndarray:
    """Bin means of the fold at ``period`` from phase 0 at ``t0``; empty bins interpolated."""
    which = np.minimum((((time - t0) / period) % 1.0 * bins).astype(np.int64), bins - 1)
    counts = np.bincount(which, minlength=bins)
    means = np.bincount(which, flux, bins) / np.maximum(counts, 1)
    grid = np.arange(bins)
    filled = counts > 0
    return np.interp(grid, grid[filled], means[filled], period=bins)


def fold_roughness(time: np.ndarray, flux: np.ndarray, period: float, bins: int) -> float:
    """Share of the folded profile's variance in jumps from one bin to the next.

    The mean squared difference of neighbouring bins (round the phase circle) over
    twice the profile's variance (von Neumann's ratio, the "string length" of
    Dworetsky 1983): near 0 for a smooth fold of a large signal, near 1 for noise or
    for light-curve stretches folded in no order. Every jump counts, not a robust
    median of them: a fold at an alias of a binary sampled in a few phase tracks can
    be flat but for the eclipses' few cadences, each a spike of its own (a 0.79-d
    binary at 19/38 of a 30-minute cadence folded at a fifth of its orbit: 0.92,
    against 0.04 at half the orbit).
    """
    profile = folded_profile(time, flux, period, bins)
    variance = float(np.var(profile))
    if variance == 0:
        return 1.0
    jumps = np.diff(profile, append=profile[:1])
    return float(np.mean(jumps**2) / (2 * variance))


def fold_bins(time: np.ndarray, period: float, bins: int = SECOND_MINIMUM_BINS) -> int:
    """``bins``, or fewer (:data:`MIN_FOLD_BINS` at the fewest) where three bins of the
    fold at ``period`` would be narrower than one cadence of ``time``.

    A light curve holds nothing narrower than its sampling; a fold finer than that
    shows how the cadences of different cycles fall on it (with their slow trends),
    not the star. The cadence is that of the series folded: the search's 10-minute
    bins, or a light curve's own cadence.

    Examples
    --------
    >>> import numpy as np
    >>> from ebscan.survey.periods import fold_bins
    >>> time = np.arange(0, 27, 30 / 1440)
    >>> fold_bins(time, 1.0), fold_bins(time, 0.1), fold_bins(time, 0.05)
    (100, 14, 12)
    """
    cadence = float(np.median(np.diff(time)))
    return int(min(bins, max(MIN_FOLD_BINS, 3 * period / cadence)))


def shows_secondary(
    time: np.ndarray, flux: np.ndarray, period: float, primary: float | None = None
) -> tuple[bool, float, float]:
    """Whether the fold at ``period`` has a second minimum: (found, phase, sigma).

    The fold has :data:`SECOND_MINIMUM_BINS` bins, or fewer (:func:`fold_bins`). A
    second minimum anywhere (:func:`profile_second_minimum`, :data:`SECOND_MINIMUM_SIGMA`),
    or a secondary eclipse half an orbit after the primary
    (:func:`profile_half_orbit_secondary`, :data:`HALF_ORBIT_SIGMA`), each
    :data:`SECOND_MINIMUM_FRACTION` of the primary's depth at least. The second test is
    the more sensitive where it applies: it fits one depth at a known place with a
    known shape, where the first pays for looking everywhere. ``phase`` is that of
    the minimum found after the primary (NaN if none), ``sigma`` the prominence of the
    most prominent minimum anywhere, whichever test found one. The primary is the
    minimum at phase ``primary`` of ``time`` (BTJD d over ``period``) where given, else
    the fold's deepest: of two eclipses as deep as each other, the coarse fold's deepest
    need not be the one the caller timed (TIC 118313102, sector 9: 45% deep, 0.4 of the
    orbit apart).
    """
    bins = fold_bins(time, period)
    t0 = 0.0 if primary is None else primary * period
    profile = folded_profile(time, flux, period, bins, t0=t0)
    # A primary at phase 0 falls at the start of bin 0: its smoothed minimum is in bin
    # 0 or in the bin before (which of them, the noise decides; the phase found is
    # then half a bin early or late, as with the deepest bin of a fold from any t0).
    primary_bin = None if primary is None else 0
    sigma, phase, fraction = profile_second_minimum(profile, primary_bin)
    if sigma > SECOND_MINIMUM_SIGMA and fraction > SECOND_MINIMUM_FRACTION:
        return True, phase, sigma
    half_orbit_sigma, phase, fraction = profile_half_orbit_secondary(profile, primary_bin)
    if half_orbit_sigma > HALF_ORBIT_SIGMA and fraction > SECOND_MINIMUM_FRACTION:
        return True, phase, sigma
    return False, np.nan, sigma


def profile_second_minimum(
    profile: np.ndarray, primary_bin: int | None = None
) -> tuple[float, float, float]:
    """A folded profile's most prominent minimum after the primary: (sigma, phase, fraction).

    The primary is the smoothed profile's minimum at bin ``primary_bin`` or next to it,
    or its deepest bin when ``primary_bin`` is None. A minimum's
    prominence is its depth below the lower of the highest points between it and the
    primary on either side; ``sigma`` is that over the noise of the smoothed profile,
    ``fraction`` over the primary's depth (maximum minus minimum) and ``phase`` its
    phase after the primary.

    The noise is :func:`smoothed_fold_noise`; :data:`SECOND_MINIMUM_SIGMA` is the 1%
    false-alarm level of ``sigma`` on folds of white noise.
    """
    bins = len(profile)
    noise = smoothed_fold_noise(profile)
    smooth = _three_bin_mean(profile)
    smooth = np.roll(smooth, -_primary_bin(smooth, primary_bin))
    best, where = 0.0, np.nan
    for j in range(2, bins - 1):
        if smooth[j] <= smooth[j - 1] and smooth[j] <= smooth[j + 1]:
            prominence = min(smooth[: j + 1].max(), smooth[j:].max()) - smooth[j]
            if prominence > best:
                best, where = float(prominence), j / bins
    depth = float(smooth.max() - smooth[0])
    tiny = np.finfo(float).tiny
    return best / max(noise, tiny), where, best / max(depth, tiny)


def profile_half_orbit_secondary(
    profile: np.ndarray, primary_bin: int | None = None
) -> tuple[float, float, float]:
    """A secondary eclipse as long as the primary, half an orbit after it.

    The secondary eclipse of a circular orbit lasts as long as the primary and comes
    half an orbit after it, so the primary's own shape (the profile within twice its
    half width of its deepest bin, below the baseline) is the template of a matched
    filter. Its depth, as a fraction of the primary's, is fitted by least squares at
    each bin centre within :data:`HALF_ORBIT_TOLERANCE` of phase 0.5 (one bin in a
    coarse fold), against the baseline: the median of the bins outside both windows.
    The primary is as in :func:`profile_second_minimum`.

    Returns
    -------
    sigma : float
        The largest fitted depth over its standard error where there is no secondary
        (the noise of one bin, from the profile's second differences, and the
        baseline's); negative where the profile rises half an orbit on.
    phase : float
        Where that depth was fitted, after the primary.
    fraction : float
        That depth over the primary's.

    (0, NaN, 0) where the two windows leave fewer than three bins for the baseline:
    wide minima (contact binaries, whose second minimum :func:`profile_second_minimum`
    finds) and folds of fewer than 15 bins.
    """
    bins = len(profile)
    lowest = _primary_bin(_three_bin_mean(profile), primary_bin)
    # The smoothed minimum of a primary one bin wide can sit beside its deepest bin,
    # from which _eclipse_half_width measures the width.
    lowest += int(np.argmin(profile[(lowest + np.arange(-1, 2)) % bins])) - 1
    profile = np.roll(profile, -lowest)
    # At least 2 bins: _eclipse_half_width is one bin at the least.
    reach = round(2 * _eclipse_half_width(profile) * bins)
    window = np.arange(-reach, reach + 1)
    tolerance = max(1.0, HALF_ORBIT_TOLERANCE * bins)
    centres = np.arange(np.ceil(bins / 2 - tolerance), np.floor(bins / 2 + tolerance) + 1)
    centres = centres.astype(np.int64)
    outside = np.ones(bins, dtype=bool)
    outside[window % bins] = False
    outside[np.arange(centres[0] - reach, centres[-1] + reach + 1) % bins] = False
    if outside.sum() < 3:
        return 0.0, np.nan, 0.0
    baseline = float(np.median(profile[outside]))
    template = baseline - profile[window % bins]
    power = float(np.dot(template, template))
    noise = _bin_noise(profile)
    # The median of n bins has about 1.2533 / sqrt(n) of one bin's noise: a figure for
    # many bins, which errs on the safe side (a larger error) for the few used here.
    baseline_error = 1.2533 * noise / np.sqrt(outside.sum())
    error = float(np.hypot(noise / np.sqrt(power), baseline_error * template.sum() / power))
    if not (power > 0 and np.isfinite(error)):
        return 0.0, np.nan, 0.0
    error = max(error, np.finfo(float).tiny)
    depths = [np.dot(baseline - profile[(c + window) % bins], template) / power for c in centres]
    best = int(np.argmax(depths))
    return float(depths[best] / error), float(centres[best] / bins), float(depths[best])


def _primary_bin(smooth: np.ndarray, near_bin: int | None) -> int:
    """The deepest bin of ``smooth``, or its deepest of bins ``near_bin`` - 1 to + 1."""
    if near_bin is None:
        return int(np.argmin(smooth))
    near = (near_bin + np.arange(-1, 2)) % len(smooth)
    return int(near[np.argmin(smooth[near])])


def point_to_point_scatter(values: np.ndarray) -> float:
    """Robust white-noise level of a series from its successive differences.

    1.4826 times the median absolute difference, over sqrt(2): slow variability and a
    few outliers (an eclipse's edges) hardly raise it.
    """
    return float(1.4826 * np.median(np.abs(np.diff(values))) / np.sqrt(2))


def _three_bin_mean(profile: np.ndarray) -> np.ndarray:
    """A folded profile smoothed over three bins, around the circle."""
    return (np.roll(profile, 1) + profile + np.roll(profile, -1)) / 3


def _bin_noise(profile: np.ndarray) -> float:
    """Noise ``s`` of one bin of a folded profile (robust, :func:`smoothed_fold_noise`)."""
    second_differences = np.roll(profile, 1) - 2 * profile + np.roll(profile, -1)
    return float(1.4826 * np.median(np.abs(second_differences)) / np.sqrt(6))


def smoothed_fold_noise(profile: np.ndarray) -> float:
    """Noise of a folded profile smoothed over three bins (robust, from its bins).

    The noise ``s`` of one bin comes from the second differences of the unsmoothed
    profile, taken around the circle: white noise gives them ``sqrt(6) s``, a smooth
    curve hardly raises them, and their median ignores the few bins at an eclipse's
    edges. The mean of three bins has ``s / sqrt(3)``. (The second differences of the
    smoothed profile are ``2 s / 3`` of white noise, correlated over neighbouring bins:
    scaled as if they were white, as the second-minimum test once did, they gave
    ``0.27 s``, half the smoothed profile's noise.)
    """
    return _bin_noise(profile) / float(np.sqrt(3))


def search_period(
    time: np.ndarray,
    flux: np.ndarray,
    max_period: float | None = None,
    look_for_hidden: bool = True,
) -> PeriodSearch:
    """The orbital period of an eclipsing binary from its light curve (all sectors).

    Parameters
    ----------
    time : numpy.ndarray
        Times of the good cadences (BTJD days), increasing; all sectors together.
    flux : numpy.ndarray
        Relative flux (each sector divided by its median).
    max_period : float, optional
        Longest spacing tried (d); half the baseline by default, so that at least two
        cycles of the spacing are covered.
    look_for_hidden : bool, optional
        Look for eclipses under the signal at the spacing (step 3); True by default.

    Returns
    -------
    PeriodSearch

    Raises
    ------
    ValueError
        If the flux is constant.

    Examples
    --------
    >>> import numpy as np
    >>> from ebscan.sim.eclipses import Binary, binary_flux
    >>> from ebscan.survey.periods import search_period
    >>> time = np.arange(0, 27, 2 / 1440)
    >>> binary = Binary(period=2.3, t0=0.4, radius_1=0.1, radius_2=0.08,
    ...                 surface_brightness_ratio=0.5, inclination=88.0)
    >>> found = search_period(time, binary_flux(binary, time))
    >>> round(found.period, 3), found.doubled
    (2.3, False)
    """
    time = np.asarray(time, dtype=np.float64)
    flux = np.asarray(flux, dtype=np.float64)
    span = float(time[-1] - time[0])
    max_period = max_period or span / 2
    binned_time, binned_flux = bin_series(time, flux - np.median(flux), SEARCH_CADENCE)
    if not np.ptp(binned_flux) > 0:
        raise ValueError("constant flux: no signal to search for a period")
    bins = int(np.clip(len(binned_time) / 20, 50, 500))
    peaks = periodogram_peaks(binned_time, binned_flux, MIN_PERIOD, max_period)
    trials = sorted({k * p for p in peaks for k in range(1, HARMONICS + 1) if k * p <= max_period})
    refined = np.array([refine_period(binned_time, binned_flux, p, bins) for p in trials])
    scatter = np.array([fold_scatter(binned_time, binned_flux, p, bins) for p in refined])
    explained = 1 - scatter / np.sum((binned_flux - binned_flux.mean()) ** 2)
    by_explained = explained >= EXPLAINED_TOLERANCE * explained.max()
    roughness = np.full(len(refined), np.inf)
    for i in np.flatnonzero(by_explained):
        roughness[i] = fold_roughness(binned_time, binned_flux, refined[i], bins)
    good = roughness <= roughness.min() + ROUGHNESS_TOLERANCE
    spacing = float(refined[good].min())
    spacing_explained = float(explained[refined == spacing][0])
    variability = np.nan
    hidden = (
        hidden_eclipses(binned_time, binned_flux, spacing, max_period) if look_for_hidden else None
    )
    if hidden is not None:
        variability = spacing
        binned_flux = remove_variability(binned_time, binned_flux, spacing, "mean")
        spacing = refine_period(binned_time, binned_flux, hidden, bins)
    found, _, sigma = shows_secondary(binned_time, binned_flux, spacing)
    # Primary and secondary eclipses of similar depth fold together at half the orbit,
    # and other features of the light curve (spots, a shoulder) can show as a second
    # minimum there: the odd and even eclipses differing is the stronger evidence.
    covered = _covered_eclipses(binned_time, binned_flux, spacing)[0]
    alternating = alternate(covered)
    doubled = not found or alternating
    return PeriodSearch(
        period=2 * spacing if doubled else spacing,
        spacing=spacing,
        doubled=doubled,
        second_minimum_sigma=float(sigma),
        peaks=tuple(float(p) for p in peaks),
        variability_period=variability,
        explained=spacing_explained,
        alternating=alternating,
    )


def remove_variability(
    time: np.ndarray,
    flux: np.ndarray,
    period: float,
    statistic: str = "median",
    keep: np.ndarray | None = None,
) -> np.ndarray:
    """``flux`` less its fold at ``period`` and a slow trend.

    The fold is each phase bin's ``statistic`` of the cadences ``keep`` selects (all
    by default), interpolated between bins. Out of eclipse (:func:`out_of_eclipse`),
    with the median, the fold holds the pulsation or spots alone, and the eclipses'
    depths stay whole (:func:`ebscan.survey.candidates.characterise` fits the geometry
    so). The mean of all cadences takes out everything that repeats at ``period``,
    eclipses included: a binary whose fold is right leaves nothing for
    :func:`hidden_eclipses`, which the search needs.
    """
    from scipy.stats import binned_statistic

    keep = np.ones(len(time), dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    bins = int(np.clip(np.count_nonzero(keep) / 20, 50, 500))
    centres = (np.arange(bins) + 0.5) / bins
    profile, _, _ = binned_statistic(
        (time[keep] / period) % 1.0, flux[keep], statistic=statistic, bins=bins, range=(0, 1)
    )
    filled = np.isfinite(profile)
    # No cadence kept: no fold to take out.
    profile = (
        np.interp(centres, centres[filled], profile[filled], period=1.0)
        if filled.any()
        else np.zeros(bins)
    )
    residual = flux - np.interp((time / period) % 1.0, centres, profile, period=1.0)
    return residual - running_median(time, residual, TREND_WINDOW)


def secondary_or_primary_width(primary: float, secondary: float, period: float = 1.0) -> float:
    """The secondary's half width where it is an eclipse's, else the primary's.

    An unknown width (NaN), or one so wide that twice it either side of the secondary
    would span half the orbit (``period``, in the widths' unit), is no eclipse's: a
    Gaussian fit takes up the broad light of reflection so (TIC 32150630: 0.7 of the
    orbit wide).
    """
    return secondary if 4 * secondary < 0.5 * period else primary


def out_of_eclipse(time: np.ndarray, ephemeris: Ephemeris) -> np.ndarray:
    """Cadences farther than an eclipse's full width at half depth from the centre of
    every primary and secondary eclipse of ``ephemeris``.

    A V-shaped eclipse lasts twice its full width at half depth, so this leaves out
    the whole of it; each eclipse is measured by its own width (an eccentric orbit's
    two eclipses can differ by a factor of several), the primary's standing for a
    secondary's that is unknown or would span half the orbit. The fold of a star's own
    variability is made of these cadences: over a few cycles, the median of a phase
    bin can be an eclipse's (TIC 118313102, sector 8: its "variability" at 3.70 d is
    the 0.4 of the orbit from its primary to its secondary, and a fold of all cadences
    took 2/3 of their depths out). All cadences are kept without a period, and where
    the windows would cover half the orbit or more (contact binaries, ellipsoidal
    variables): what is left would be too little to fold.
    """
    keep = np.ones(len(time), dtype=bool)
    primary = ephemeris.primary_half_width
    windows = [(0.0, 2 * primary)]
    if np.isfinite(ephemeris.secondary_phase):
        secondary = secondary_or_primary_width(primary, ephemeris.secondary_half_width)
        windows.append((ephemeris.secondary_phase, 2 * secondary))
    if not np.isfinite(ephemeris.period) or not sum(2 * w for _, w in windows) < 0.5:
        return keep
    for centre, window in windows:
        phase = ((time - ephemeris.t0) / ephemeris.period - centre + 0.5) % 1.0 - 0.5
        keep &= np.abs(phase) > window
    return keep


def hidden_eclipses(
    time: np.ndarray, flux: np.ndarray, spacing: float, max_period: float
) -> float | None:
    """The period of eclipses under another periodic signal, or None.

    Box least squares (astropy) on the light curve less its fold at ``spacing`` (in
    the densest stretch of at most :data:`BOX_MAX_SPAN` days). Eclipses that the fold
    of a stronger signal (a pulsation, spots) hides stand out there; a box signal of
    :data:`BOX_SNR` standard errors, in narrow boxes (:data:`BOX_MAX_DUTY`), at a
    period unrelated to ``spacing``, that stays :data:`BOX_BEYOND_SMOOTH_SIGMA` deep
    beside a smooth curve at its period (:func:`box_beyond_smooth_sigma`), is them.
    """
    from astropy.timeseries import BoxLeastSquares

    if max_period <= BOX_MIN_PERIOD:
        return None
    residual = remove_variability(time, flux, spacing, "mean")
    if time[-1] - time[0] > BOX_MAX_SPAN:
        ends = np.searchsorted(time, time + BOX_MAX_SPAN)
        start = int(np.argmax(ends - np.arange(len(time))))
        time, residual = time[start : ends[start]], residual[start : ends[start]]
    span = time[-1] - time[0]
    longest = min(max_period, span / 2)
    if longest <= BOX_MIN_PERIOD:
        return None
    step = min(BOX_DURATIONS) / (3 * span * BOX_MIN_PERIOD)
    trials = np.sort(1 / np.arange(1 / longest, 1 / BOX_MIN_PERIOD, step))
    bls = BoxLeastSquares(time, residual)
    result = bls.power(trials, list(BOX_DURATIONS))
    best = int(np.argmax(result.power))
    period, depth, duration = (
        float(x[best]) for x in (result.period, result.depth, result.duration)
    )
    noise = point_to_point_scatter(residual)
    if not noise > 0:
        return None  # a flat series: no box stands out of nothing
    snr = depth / noise * np.sqrt(len(time) * duration / period)
    ratio = period / spacing
    related = any(abs(ratio / r - 1) < BOX_HARMONIC_TOLERANCE for r in BOX_RELATED_RATIOS)
    narrow = duration / period < BOX_MAX_DUTY
    if not (snr > BOX_SNR and narrow and not related):
        return None
    in_box = bls.transit_mask(time, period, duration, float(result.transit_time[best]))
    beyond_smooth = box_beyond_smooth_sigma(time, residual, period, in_box)
    return period if beyond_smooth > BOX_BEYOND_SMOOTH_SIGMA else None


def box_beyond_smooth_sigma(
    time: np.ndarray, flux: np.ndarray, period: float, in_box: np.ndarray
) -> float:
    """Depth of a box, in standard errors, fitted together with a smooth periodic curve.

    Parameters
    ----------
    time, flux : numpy.ndarray
        The series (days, relative flux).
    period : float
        Period of the smooth curve (d).
    in_box : numpy.ndarray
        Booleans: the cadences in the box.

    Returns
    -------
    float
        The box's depth over its standard error, from the least-squares fit of
        ``flux`` on a constant, the box (1 in it, 0 outside) and
        :data:`SMOOTH_HARMONICS` harmonics of ``period``, the error from the residuals
        of that fit; a dip is positive. NaN where the fit cannot tell the box from the
        rest (no cadence in it or out of it, too few cadences) or leaves no residual.
    """
    phase = 2 * np.pi * time / period
    harmonics = [f(k * phase) for k in range(1, SMOOTH_HARMONICS + 1) for f in (np.cos, np.sin)]
    box = np.asarray(in_box, dtype=bool).astype(np.float64)
    design = np.column_stack([np.ones_like(time), box, *harmonics])
    coefficients, rss, rank, _ = np.linalg.lstsq(design, flux, rcond=None)
    if rank < design.shape[1] or len(time) <= rank or not rss[0] > 0:
        return np.nan
    variance = float(rss[0]) / (len(time) - rank)
    covariance = np.linalg.pinv(design.T @ design) * variance
    return float(-coefficients[1] / np.sqrt(covariance[1, 1]))


#: An eclipse is seen when its depth reaches this fraction of the folded depth.
SEEN_FRACTION = 0.5
#: A fold that explains less of the variance than this (cross-validated) is noise:
#: white noise gives -0.05 to -0.01, the shared real EBs 0.016 and more.
MIN_EXPLAINED = 0.01
#: Odd and even eclipses differ when their mean depths differ by this many standard
#: errors (Gaussian-equivalent, :func:`parity_test`) ...
ODD_EVEN_SIGMA = 3.0
#: ... and by this fraction of the deeper.
ODD_EVEN_FRACTION = 0.1
#: Eclipses found one by one (:func:`find_eclipses`) stand this many times the noise
#: of the smoothed light curve below it.
EVENT_SIGMA = 6.0
#: Durations of the boxes that :func:`find_eclipses` smooths with (d).
EVENT_WIDTHS = (0.04, 0.08, 0.16, 0.32)


@dataclass(frozen=True)
class Ephemeris:
    """Period, T0 and the eclipses seen in one star's light curves.

    Attributes
    ----------
    period, period_error : float
        Orbital period and its standard error (d); NaN when fewer than three eclipses
        were seen, or when the eclipses found one by one fit no period up to half the
        baseline (then ``period_lower_bound`` and ``eclipse_times`` say what is known).
    t0, t0_error : float
        Time of a primary minimum (BTJD d; the one nearest the middle of the data) and
        its standard error: that of the line through the eclipse times, and the
        timing resolution of the fold they are timed against (one phase bin, whose
        uniform error is a bin over sqrt(12): 0.01 d for a 2.3-d binary at 30-minute
        cadence).
    n_primary, n_secondary : int
        Primary and secondary eclipses seen (each at least half the folded depth).
    secondary_phase : float
        Phase of the secondary minimum after the primary; NaN when there is none.
    odd_even_sigma : float
        Difference between the mean depths of odd and even primary eclipses, in
        standard errors (:func:`parity_test`; 0 with fewer than two of either).
    period_lower_bound : float
        Without a period: the shortest period (d) that puts no eclipse but the ones
        seen in the data; NaN otherwise.
    eclipse_times : tuple of float
        Without a period: the times of the eclipses found one by one (BTJD d); empty
        otherwise.
    doubled : bool
        The period is twice the spacing of the minima (one minimum per spacing).
    variability_period : float
        Period (d) of the other signal whose fold was taken out before the eclipses
        were measured (:attr:`PeriodSearch.variability_period`); NaN when none was.
    primary_half_width : float
        Half the primary's full width at half depth in the fold (phase); NaN
        without a period.
    secondary_half_width : float
        The same of the secondary (phase); NaN without a secondary.
    flags : tuple of str
        ``single_eclipse`` (one or two eclipses in all the data), ``odd_even`` (odd and
        even eclipses differ: the period may be twice this, or a blend),
        ``no_secondary`` (no second minimum in the fold at the period),
        ``equal_minima`` (the period is twice the spacing of equal minima: twins or a
        contact binary assumed; an invisible secondary would make it half this).
    """

    period: float
    period_error: float
    t0: float
    t0_error: float
    n_primary: int
    n_secondary: int
    secondary_phase: float
    odd_even_sigma: float
    period_lower_bound: float = np.nan
    eclipse_times: tuple[float, ...] = ()
    doubled: bool = False
    variability_period: float = np.nan
    primary_half_width: float = np.nan
    secondary_half_width: float = np.nan
    flags: tuple[str, ...] = ()


def detrend(time: np.ndarray, flux: np.ndarray, period: float, bins: int = 200) -> np.ndarray:
    """``flux`` less its slow trend: a running median of the residuals from the fold."""
    _, model = cross_validated_fold(time, flux, period, bins)
    return flux - running_median(time, flux - model, max(TREND_WINDOW, period))


def _eclipse_half_width(profile: np.ndarray) -> float:
    """Half the full width at half depth of the fold's minimum at bin 0 (phase units)."""
    bins = len(profile)
    base = np.median(profile)
    below = profile < base - (base - profile[0]) / 2
    right = next((j for j in range(1, bins // 2) if not below[j]), bins // 2)
    left = next((j for j in range(1, bins // 2) if not below[-j]), bins // 2)
    return max(right + left - 1, 2) / bins / 2


@dataclass(frozen=True)
class _Eclipse:
    """One eclipse: cycle number, time and its error, and its depth relative to the fold's."""

    cycle: int
    time: float
    time_error: float
    scale: float
    scale_error: float


def _time_eclipses(
    time: np.ndarray,
    flux: np.ndarray,
    period: float,
    centre: float,
    half_width: float,
    profile: np.ndarray,
    noise: float,
    minimum: float = 0.0,
) -> list[_Eclipse]:
    """Each covered eclipse at ``centre + n period``: its time and its depth.

    The template is the folded profile around the eclipse, whose bin 0 is centred on
    ``centre`` and whose minimum lies ``minimum`` bins after it. Each eclipse's time
    is the shift that fits it best (least squares with a free level and depth,
    parabola through the three best shifts), its error from the curvature of
    chi-square, scaled up by the root of the fit's reduced chi-square where the
    eclipse departs from the template by more than ``noise`` (spots, a changing depth,
    the cadences falling differently on it than on the fold's bins: that last moves
    the fitted time from cycle to cycle and tilts the line through the times without
    adding scatter to it). Its depth is the fitted scale of the template (1: as deep
    as the fold). An eclipse is covered when its window holds 60% of the cadences it
    would without gaps.
    """
    bins = len(profile)
    # Bin 0 sits at bins // 2 of the rolled template; the knots put the template's
    # minimum at phase 0, so that a time is that of the eclipse's minimum.
    knots = (np.arange(-bins, 2 * bins) - bins // 2 - minimum) / bins
    template = np.tile(np.roll(profile, bins // 2), 3)
    cadence = float(np.median(np.diff(time)))
    half = max(half_width * period, cadence)
    window = min(max(2.5 * half, 4 * cadence), 0.5 * period)
    shifts = np.linspace(-half, half, 41)
    step = shifts[1] - shifts[0]
    eclipses = []
    first = int(np.floor((time[0] - centre) / period))
    last = int(np.ceil((time[-1] - centre) / period))
    for cycle in range(first, last + 1):
        expected = centre + cycle * period
        lo, hi = np.searchsorted(time, [expected - window, expected + window])
        core = np.count_nonzero(np.abs(time[lo:hi] - expected) < half)
        if hi - lo < 0.6 * 2 * window / cadence or core < min(3, 0.6 * 2 * half / cadence):
            continue
        t, y = time[lo:hi], flux[lo:hi]
        chi = np.empty(len(shifts))
        for i, shift in enumerate(shifts):
            model = np.interp((t - expected - shift) / period, knots, template)
            model = model - model.mean()
            scale = np.dot(y - y.mean(), model) / max(np.dot(model, model), 1e-300)
            chi[i] = np.sum((y - y.mean() - scale * model) ** 2) / noise**2
        best = int(np.clip(np.argmin(chi), 1, len(shifts) - 2))
        a, b, c = chi[best - 1 : best + 2]
        curvature = (a - 2 * b + c) / step**2
        offset = 0.5 * step * (a - c) / (a - 2 * b + c) if curvature > 0 else 0.0
        found = expected + shifts[best] + float(np.clip(offset, -step, step))
        misfit = max(1.0, float(chi.min()) / max(len(t) - 3, 1))
        model = np.interp((t - found) / period, knots, template)
        model = model - model.mean()
        power = max(np.dot(model, model), 1e-300)
        eclipses.append(
            _Eclipse(
                cycle=cycle,
                time=found,
                time_error=float(np.sqrt(2 * misfit / curvature)) if curvature > 0 else half,
                scale=float(np.dot(y - y.mean(), model) / power),
                scale_error=float(noise / np.sqrt(power)),
            )
        )
    return eclipses


def _covered_eclipses(
    time: np.ndarray, flux: np.ndarray, period: float
) -> tuple[list[_Eclipse], np.ndarray, np.ndarray, float, float, float]:
    """The covered eclipses at the fold's deepest phase, timed one by one.

    Returns the eclipses (:func:`_time_eclipses`), the detrended flux, the folded
    profile from the eclipse, the eclipse's time (BTJD d), its half width (phase) and
    the noise of one cadence.
    """
    bins = int(np.clip(len(time) / 20, 50, 1000))
    flat = detrend(time, flux, period, bins)
    profile = folded_profile(time, flat, period, bins, t0=time[0])
    start = int(np.argmin(_three_bin_mean(profile)))
    centre = time[0] + (start + 0.5) / bins * period
    profile = np.roll(profile, -start)
    half_width = _eclipse_half_width(profile)
    # Both estimate the noise of one cadence from above: the successive differences
    # of the light curve hold the signal's own steps, which outgrow the noise when an
    # orbit lasts a few cadences (TIC 271164763: 0.25 d at 30 minutes, 17% deep); the
    # residuals from the fold of the other cycles hold its misfit and that fold's noise.
    residuals, _ = cross_validated_fold(time, flat, period, bins)
    noise = min(point_to_point_scatter(flat), point_to_point_scatter(residuals))
    covered = _time_eclipses(
        time, flat, period, centre, half_width, profile, noise, _vertex(profile)
    )
    return covered, flat, profile, centre, half_width, noise


def _vertex(profile: np.ndarray) -> float:
    """Where the minimum of ``profile`` lies from its bin 0 (in bins, within one):
    the vertex of the parabola through bins -1, 0 and 1."""
    before, at, after = profile[-1], profile[0], profile[1]
    curvature = before - 2 * at + after
    return float(np.clip(0.5 * (before - after) / curvature, -1, 1)) if curvature > 0 else 0.0


def parity_test(eclipses: list[_Eclipse]) -> tuple[float, float]:
    """Odd against even eclipse depths: (significance, difference over the deeper).

    Student's two-sample t test: the error of the difference of the mean depths
    comes from the spread of the depths within each parity (pooled), which holds the
    red noise that each eclipse's own error leaves out, but is no smaller than those
    errors say. Unlike the spread of all the depths, the pooled one does not grow with
    the difference it tests. The t value is turned into Gaussian standard deviations
    with its degrees of freedom, so that a few eclipses need a large difference.
    Fewer than two eclipses of either parity: (0, 0).
    """
    from scipy.stats import norm
    from scipy.stats import t as student

    odd = np.array([e.scale for e in eclipses if e.cycle % 2])
    even = np.array([e.scale for e in eclipses if not e.cycle % 2])
    if len(odd) < 2 or len(even) < 2:
        return 0.0, 0.0
    dof = len(odd) + len(even) - 2
    within = (np.sum((odd - odd.mean()) ** 2) + np.sum((even - even.mean()) ** 2)) / dof
    formal = float(np.mean([e.scale_error**2 for e in eclipses]))
    error = np.sqrt(max(within, formal) * (1 / len(odd) + 1 / len(even)))
    gap = abs(odd.mean() - even.mean())
    deeper = max(odd.mean(), even.mean())
    if error <= 0 or deeper <= 0:
        return 0.0, 0.0
    tail = max(float(student.sf(gap / error, dof)), 1e-300)
    return float(norm.isf(tail)), float(gap / deeper)


def alternate(eclipses: list[_Eclipse]) -> bool:
    """Odd and even eclipses differ: by :data:`ODD_EVEN_SIGMA` and :data:`ODD_EVEN_FRACTION`."""
    sigma, fraction = parity_test(eclipses)
    return sigma > ODD_EVEN_SIGMA and fraction > ODD_EVEN_FRACTION


def _seen(eclipses: list[_Eclipse]) -> list[_Eclipse]:
    """Eclipses at least ``SEEN_FRACTION`` as deep as the fold, by three standard errors."""
    return [e for e in eclipses if e.scale > max(SEEN_FRACTION, 3 * e.scale_error)]


def red_noise_factor(time: np.ndarray, residuals: np.ndarray, duration: float) -> float:
    """How much more the residuals scatter over ``duration`` than white noise would.

    The "beta" factor of Pont, Zucker & Queloz (2006) and Winn et al. (2008): the
    scatter of the residuals averaged in consecutive stretches of ``duration``
    (1.4826 times their median absolute deviation, so that the few stretches an
    eclipse's misfit sits in do not count) over what white noise of their
    point-to-point level (:func:`point_to_point_scatter`) gives for such averages; at
    least 1. Red noise (spots, granulation, systematics) on the time scale of an
    eclipse shifts an eclipse's fitted time by more than its white-noise error says.
    1 when there is nothing to measure it by: stretches shorter than two cadences,
    fewer than three full stretches, or no point-to-point scatter.
    """
    cadence = float(np.median(np.diff(time)))
    per_stretch = duration / cadence
    white_level = point_to_point_scatter(residuals)
    if per_stretch < 2 or not white_level > 0:
        return 1.0
    which = np.floor((time - time[0]) / duration).astype(np.int64)
    counts = np.bincount(which)
    full = counts >= 0.8 * per_stretch
    if full.sum() < 3:
        return 1.0
    means = (np.bincount(which, residuals) / np.maximum(counts, 1))[full]
    white = white_level / np.sqrt(counts[full])
    spread = 1.4826 * float(np.median(np.abs(means - np.median(means))))
    return max(1.0, spread / float(np.sqrt(np.mean(white**2))))


#: Numbers of groups of consecutive eclipses that :func:`timing_drift_factor` tries.
DRIFT_GROUPS = (3, 4, 6)


def timing_drift_factor(residuals: np.ndarray, weights: np.ndarray) -> float:
    """How much more groups of consecutive eclipse times wander off their line than
    the times' errors say.

    The "beta" of Pont, Zucker & Queloz (2006) for eclipse times: the residuals from
    the line (in cycle order, with weights one over their squared errors) are averaged
    in 3, 4 and 6 groups of consecutive eclipses (:data:`DRIFT_GROUPS`, at least two
    eclipses a group), and the root of the groups' reduced chi-square is set against
    that of the single times. Spots that wander over a contact binary shift its
    eclipses by a minute or so over days (Tran et al. 2013): a slow drift that bends
    the line through the times, and so its period, but hardly adds to their scatter.
    At least 1; 1 with fewer than six eclipses.

    Examples
    --------
    >>> import numpy as np
    >>> from ebscan.survey.periods import timing_drift_factor
    >>> rng = np.random.default_rng(3)
    >>> cycles = np.arange(60)
    >>> white = rng.normal(0, 1, 60)
    >>> drift = white + 2 * np.sin(2 * np.pi * cycles / 60)
    >>> weights = np.ones(60)
    >>> bool(timing_drift_factor(white, weights) < 1.5)
    True
    >>> bool(timing_drift_factor(drift, weights) > 3)
    True
    """
    count = len(residuals)
    if count < 6:
        return 1.0
    single = max(1.0, float(np.sum(weights * residuals**2)) / (count - 2))
    factor = 1.0
    for groups in DRIFT_GROUPS:
        if count < 2 * groups:
            continue
        chi_square = 0.0
        for members in np.array_split(np.arange(count), groups):
            weight = float(weights[members].sum())
            chi_square += weight * float(np.dot(weights[members], residuals[members]) / weight) ** 2
        factor = max(factor, float(np.sqrt(chi_square / (groups - 2) / single)))
    return factor


def _linear_ephemeris(
    eclipses: list[_Eclipse], red_noise: float = 1.0
) -> tuple[float, float, float, float]:
    """Weighted least-squares line through eclipse times: (period, error, t0, error).

    T0 is the eclipse nearest the weighted mean cycle, so that it and the period are
    nearly uncorrelated. The times' errors are their white-noise errors times
    ``red_noise`` (:func:`red_noise_factor`); the line's errors are scaled up further
    by the root of the reduced chi-square when the times scatter more than that says
    (which two eclipses cannot tell), and by :func:`timing_drift_factor` when groups
    of consecutive times drift off the line together.
    """
    cycles = np.array([e.cycle for e in eclipses], dtype=float)
    times = np.array([e.time for e in eclipses])
    weights = 1 / (red_noise * np.array([e.time_error for e in eclipses])) ** 2
    middle = np.round(np.average(cycles, weights=weights))
    design = np.column_stack([np.ones_like(cycles), cycles - middle])
    covariance = np.linalg.inv(design.T @ (design * weights[:, None]))
    t0, period = covariance @ (design.T @ (weights * times))
    residuals = times - design @ np.array([t0, period])
    dof = len(times) - 2
    scale = max(1.0, float(np.sum(weights * residuals**2)) / dof) if dof > 0 else 1.0
    errors = np.sqrt(np.diag(covariance) * scale) * timing_drift_factor(residuals, weights)
    return float(period), float(errors[1]), float(t0), float(errors[0])


def find_eclipses(
    time: np.ndarray, flux: np.ndarray, widths: tuple[float, ...] = EVENT_WIDTHS
) -> tuple[np.ndarray, np.ndarray]:
    """Eclipses found one by one: (times, depths), deepest first.

    The light curve less a 2-day running median is averaged in boxes of each of
    ``widths``; a dip is where a box mean falls ``EVENT_SIGMA`` times the robust
    scatter of the box means below zero, its time the lowest box. Dips closer than
    the widest box are one eclipse.
    """
    flat = flux - running_median(time, flux, 2.0)
    cumulative = np.concatenate([[0.0], np.cumsum(flat)])
    found: list[tuple[float, float]] = []
    for width in widths:
        lo = np.searchsorted(time, time - width / 2)
        hi = np.searchsorted(time, time + width / 2)
        counts = hi - lo
        means = (cumulative[hi] - cumulative[lo]) / np.maximum(counts, 1)
        full = counts >= 0.6 * np.median(counts)
        noise = 1.4826 * np.median(np.abs(means[full] - np.median(means[full])))
        low = full & (means < -EVENT_SIGMA * noise)
        starts = np.flatnonzero(np.diff(np.concatenate([[0], low.astype(int)])) == 1)
        ends = np.flatnonzero(np.diff(np.concatenate([low.astype(int), [0]])) == -1)
        for start, end in zip(starts, ends, strict=True):
            lowest = start + int(np.argmin(means[start : end + 1]))
            found.append((float(time[lowest]), float(-means[lowest])))
    found.sort(key=lambda event: -event[1])
    events: list[tuple[float, float]] = []
    for when, depth in found:
        if all(abs(when - other) > max(widths) for other, _ in events):
            events.append((when, depth))
    return np.array([e[0] for e in events]), np.array([e[1] for e in events])


def period_lower_bound(
    time: np.ndarray, eclipse_times: np.ndarray, duration: float, longest: float | None = None
) -> float:
    """Shortest period that puts no eclipse but the ones seen into the data (d).

    Every eclipse seen repeats at multiples of the period; a period is ruled out when
    one of those repeats, more than a quarter of ``duration`` from every eclipse seen,
    falls on at least three cadences (within a quarter of ``duration``). Periods from
    ``duration`` to ``longest`` (twice the baseline by default) are tried on a
    logarithmic grid.
    """
    span = time[-1] - time[0]
    longest = longest or 2 * span
    trials = np.geomspace(max(duration, 0.05), longest, 20_000)
    seen = np.sort(np.asarray(eclipse_times))
    for period in trials:
        ruled_out = False
        for when in seen:
            k = np.arange(
                np.floor((time[0] - when) / period), np.ceil((time[-1] - when) / period) + 1
            )
            repeats = when + k * period
            apart = np.min(np.abs(repeats[:, None] - seen[None, :]), axis=1)
            repeats = repeats[apart > duration / 4]
            if repeats.size:
                lo = np.searchsorted(time, repeats - duration / 4)
                hi = np.searchsorted(time, repeats + duration / 4)
                if np.any(hi - lo >= 3):
                    ruled_out = True
                    break
        if not ruled_out:
            return float(period)
    return float(longest)


def measure_ephemeris(
    time: np.ndarray, flux: np.ndarray, search: PeriodSearch | None = None
) -> Ephemeris:
    """Period, T0, eclipse counts and flags of one star (all its sectors).

    Parameters
    ----------
    time : numpy.ndarray
        Good cadences of all sectors (BTJD d), increasing.
    flux : numpy.ndarray
        Relative flux (each sector divided by its median).
    search : PeriodSearch, optional
        The result of :func:`search_period` on the same data (computed if not given).
        When its period came from eclipses under another signal (step 3) and the
        eclipses seen one by one do not bear it out, the search without step 3 is
        tried too, and its ephemeris kept if it has a period
        (:attr:`Ephemeris.variability_period` says which was kept).
    """
    time = np.asarray(time, dtype=np.float64)
    flux = np.asarray(flux, dtype=np.float64) - np.median(flux)
    search = search or search_period(time, flux)
    observed = flux
    if np.isfinite(search.variability_period):
        # The mean fold, as in the search: with the median here, two of the shared
        # real EBs lost their period (bench/periods.py).
        flux = remove_variability(time, flux, search.variability_period, "mean")
    period = search.period
    covered, flat, profile, centre, half_width, noise = _covered_eclipses(time, flux, period)
    bins = len(profile)
    seen = _seen(covered)
    # Eclipses of this depth would stand out one by one (three errors below half the
    # folded depth); if most of them are missing, the period is not the binary's.
    visible = [e for e in covered if e.scale_error < SEEN_FRACTION / 3]
    unsupported = len(visible) >= 2 and len(seen) <= 0.5 * len(visible)
    if np.isnan(search.variability_period) and search.explained < MIN_EXPLAINED:
        unsupported = True
    if unsupported and np.isfinite(search.variability_period):
        # The box search may have taken what the fold at the spacing left of deep
        # eclipses for eclipses under it (an eccentric binary's eclipses drift off a
        # fold whose cycles a gap thins): the spacing would then be the binary's.
        retried = measure_ephemeris(
            time, observed, search_period(time, observed, look_for_hidden=False)
        )
        if np.isfinite(retried.period):
            return retried
    has_secondary, phase, _ = shows_secondary(time - centre, flat, period, primary=0.0)
    n_secondary, secondary_half_width = 0, np.nan
    if has_secondary:
        shifted = np.roll(profile, -round(phase * bins))
        secondary_half_width = _eclipse_half_width(shifted)
        secondaries = _time_eclipses(
            time, flat, period, centre + phase * period, secondary_half_width, shifted, noise
        )
        n_secondary = len(_seen(secondaries))
    flags = [] if has_secondary else ["no_secondary"]
    if search.doubled and not search.alternating:
        flags.append("equal_minima")
    odd_even = parity_test(seen)[0]
    if alternate(seen):
        flags.append("odd_even")
    if len(seen) + n_secondary <= 2 or unsupported:
        times, depths = find_eclipses(time, flux)
        # Dips a tenth as deep as the deepest: eclipses, not the star's own variability.
        times = np.sort(times[depths >= 0.1 * depths.max()]) if len(times) else times
        if len(times) == 0 and not unsupported:
            times = np.array([e.time for e in seen])
        if len(times) == 0 and (unsupported or not seen):
            # No eclipse at all: nothing to say about a period.
            return Ephemeris(
                period=np.nan,
                period_error=np.nan,
                t0=np.nan,
                t0_error=np.nan,
                n_primary=0,
                n_secondary=0,
                secondary_phase=np.nan,
                odd_even_sigma=0.0,
                variability_period=search.variability_period,
            )
        if len(times) <= 2 or unsupported:
            return Ephemeris(
                period=np.nan,
                period_error=np.nan,
                t0=float(times[0]),
                t0_error=np.nan,
                n_primary=len(times),
                n_secondary=0,
                secondary_phase=np.nan,
                odd_even_sigma=0.0,
                period_lower_bound=period_lower_bound(time, times, 2 * half_width * period),
                eclipse_times=tuple(float(t) for t in times),
                doubled=False,
                variability_period=search.variability_period,
                flags=("single_eclipse",) if len(times) <= 2 else (),
            )
    # The residuals from the fold (whose bin 0 is centred on ``centre``).
    cycle_phase = ((time - centre) / period) % 1.0
    residuals = flat - np.interp(cycle_phase, np.arange(bins) / bins, profile, period=1.0)
    red_noise = red_noise_factor(time, residuals, 2 * half_width * period)
    if len(seen) >= 2:
        fitted, fitted_error, t0, t0_error = _linear_ephemeris(seen, red_noise)
    else:
        fitted, fitted_error = period, np.nan
        t0, t0_error = (seen[0].time, red_noise * seen[0].time_error) if seen else (centre, np.nan)
    # Every eclipse is timed against the fold, whose minimum is known to within about
    # a bin (the vertex of a parabola through three bins): an error common to all the
    # times, taken as uniform over one bin, that neither their own errors nor their
    # scatter hold.
    t0_error = float(np.hypot(t0_error, period / bins / np.sqrt(12)))
    return Ephemeris(
        period=fitted,
        period_error=fitted_error,
        t0=t0,
        t0_error=t0_error,
        n_primary=len(seen),
        n_secondary=n_secondary,
        secondary_phase=float(phase) if has_secondary else np.nan,
        odd_even_sigma=odd_even,
        doubled=search.doubled,
        variability_period=search.variability_period,
        primary_half_width=half_width,
        secondary_half_width=secondary_half_width,
        flags=tuple(flags),
    )
