"""Signals injected into real light curves, so that training examples carry real noise.

A simulated EB (or impostor) multiplied into the light curve of a real star that is not
an EB keeps everything the real light curve has: its photon noise, the systematics PDC
left, its own variability (spots, pulsations, flares) and its cadence pattern. All
functions are pure: they return new :class:`ebscan.lightcurves.io.LightCurve` objects whose
``meta["injected"]`` records what was injected.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ebscan.lightcurves.io import LightCurve
from ebscan.lightcurves.segments import cadence_minutes
from ebscan.sim.signals import SIGNALS


def scatter(time: np.ndarray, flux: np.ndarray, window_days: float = 0.5) -> float:
    """Robust scatter of a light curve about a running fit, relative to its median.

    What hides an eclipse: the white noise plus any variability faster than
    ``window_days`` (1.4826 times the median absolute deviation of the flux from a
    running quadratic, Savitzky & Golay 1964). Slow variability (the spots of a slow
    rotator) does not count. A running median would follow the noise wherever the light
    curve is monotonic within the window; a running mean would leave the curvature of
    slow variability.

    Parameters
    ----------
    time, flux : numpy.ndarray
        Good cadences, time increasing.
    window_days : float
        Width of the running fit.
    """
    from scipy.signal import savgol_filter

    relative = flux / np.median(flux)
    size = max(5, round(window_days * 1440 / cadence_minutes(time)) | 1)
    residual = relative - savgol_filter(relative, size, polyorder=2, mode="nearest")
    return float(1.4826 * np.median(np.abs(residual - np.median(residual))))


def inject(lc: LightCurve, relative_flux: np.ndarray, **provenance: object) -> LightCurve:
    """``lc`` with its flux multiplied by ``relative_flux`` (one value per cadence).

    ``provenance`` (what was injected) goes to ``meta["injected"]``, and ``meta["path"]``
    gets an ``#injected`` suffix so that the new light curve is never taken for the file.
    """
    path = f"{lc.meta.get('path', '<memory>')}#injected"
    meta = {**lc.meta, "injected": provenance, "path": path}
    return replace(lc, flux=lc.flux * relative_flux, meta=meta)


def inject_signal(
    rng: np.random.Generator, lc: LightCurve, subtype: str, **options: object
) -> tuple[LightCurve, np.ndarray]:
    """Draw a signal of ``subtype`` (a key of :data:`ebscan.sim.signals.SIGNALS`) and inject it.

    The signal is integrated over each cadence's exposure (the light curve's cadence).

    Parameters
    ----------
    rng : numpy.random.Generator
        Randomness.
    lc : LightCurve
        The host light curve.
    subtype : str
        What to inject.
    **options
        Passed to the signal (``population`` and ``depth_scale`` for EBs).

    Returns
    -------
    (LightCurve, numpy.ndarray)
        The new light curve and the injected relative flux per cadence (1 where a
        cadence has no time).
    """
    label, signal = SIGNALS[subtype]
    finite = np.isfinite(lc.time)
    relative = np.ones_like(lc.flux)
    cadence = cadence_minutes(lc.time) / 1440
    relative[finite], period = signal(rng, lc.time[finite], cadence, **options)
    injected = inject(lc, relative, subtype=subtype, label=label, period=float(period))
    return injected, relative


def signal_to_noise(relative: np.ndarray, noise: float) -> float:
    """Matched-filter S/N of an injected signal: its root-sum-square departure from 1 over noise."""
    return float(np.sqrt(np.sum((relative - 1.0) ** 2)) / noise)


def bin_lightcurve(lc: LightCurve, minutes: float) -> LightCurve:
    """``lc`` as a longer cadence would have recorded it: good cadences averaged per bin.

    Bins of ``minutes`` start at the first time; a bin is good (quality 0) when at
    least half the cadences it spans are good, as a longer exposure made of the same
    photons would be. Used to give 2-minute light curves the cadences of full-frame
    images (200 s, 10 and 30 minutes).
    """
    width = minutes / 1440
    good = (lc.quality == 0) & np.isfinite(lc.time) & np.isfinite(lc.flux)
    time, flux = lc.time[good], lc.flux[good]
    start = float(np.nanmin(lc.time))
    # A cadence on a bin edge belongs to the later bin, whatever the rounding.
    index = np.floor((time - start) / width + 1e-6).astype(np.int64)
    n_bins = int(index.max()) + 1
    counts = np.bincount(index, minlength=n_bins)
    per_bin = width * 1440 / cadence_minutes(lc.time)
    keep = counts >= 0.5 * per_bin
    mean_flux = np.bincount(index, weights=flux, minlength=n_bins)[keep] / counts[keep]
    centres = start + width * (np.flatnonzero(keep) + 0.5)
    path = f"{lc.meta.get('path', '<memory>')}#binned{minutes:g}"
    meta = {**lc.meta, "binned_minutes": minutes, "path": path}
    return replace(
        lc,
        time=centres,
        flux=mean_flux,
        quality=np.zeros(centres.size, dtype=np.int32),
        meta=meta,
    )
