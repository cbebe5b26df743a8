"""Generalized Lomb-Scargle periodogram on CALNet's period grid.

One public entry, :func:`gls`, in the style of astropy's ``LombScargle``: the
methods live in :mod:`ebscan.lightcurves.periodogram.implementations` behind ``METHODS``,
and every one of them is tested against astropy's ``method="slow"``.

The periodogram is the floating-mean GLS of Zechmeister & Kuerster (2009) with
equal weights and the standard normalization, i.e. astropy's
``LombScargle(t, y, fit_mean=True, center_data=True).power(f)``.
"""

from __future__ import annotations

import numpy as np

from ebscan.config import GlsConfig
from ebscan.lightcurves.periodogram.implementations import METHODS


def calnet_period_grid() -> np.ndarray:
    """The 1000 trial periods of the reference code, in days, increasing.

    ``numpy.logspace(-3, 1, 1125)[125:]``: 0.00279 d to 10 d, log-spaced.
    """
    return np.logspace(-3, 1, 1125)[125:]


def gls(
    time: np.ndarray, flux: np.ndarray, period: np.ndarray, method: str = GlsConfig.method
) -> np.ndarray:
    """Floating-mean generalized Lomb-Scargle power at the given periods.

    Parameters
    ----------
    time, flux : numpy.ndarray
        Cadences of one segment (days, any flux unit). Equal weights.
    period : numpy.ndarray
        Trial periods in days (any order, need not be evenly spaced).
    method : str
        A key of ``METHODS``: ``'finufft'`` (fast, exact to the NUFFT
        tolerance) or ``'direct'`` (the O(N x M) sum, the reference).

    Returns
    -------
    numpy.ndarray
        Power in [0, 1] at each period, standard normalization.
    """
    try:
        implementation = METHODS[method]
    except KeyError:
        raise ValueError(f"unknown GLS method {method!r}; choose from {sorted(METHODS)}") from None
    time = np.asarray(time, dtype=np.float64)
    flux = np.asarray(flux, dtype=np.float64)
    # GLS power does not depend on the time origin or the flux mean; removing
    # both keeps the phases and sums well conditioned.
    time = time - 0.5 * (time[0] + time[-1])
    flux = flux - flux.mean()
    omega = 2.0 * np.pi / np.asarray(period, dtype=np.float64)
    sums = implementation(time, flux, omega)
    return _power_from_sums(flux, *sums)


def _power_from_sums(
    flux: np.ndarray,
    mean_exp: np.ndarray,
    mean_flux_exp: np.ndarray,
    mean_exp2: np.ndarray,
) -> np.ndarray:
    """Zechmeister & Kuerster (2009) eqs. 5-15 from three trigonometric means.

    ``mean_exp`` = <exp(i w t)>, ``mean_flux_exp`` = <y exp(i w t)> and
    ``mean_exp2`` = <exp(2 i w t)> over the cadences, with y of zero mean.
    """
    c, s = mean_exp.real, mean_exp.imag
    yc, ys = mean_flux_exp.real, mean_flux_exp.imag  # y has zero mean: Y = 0
    cc = 0.5 * (1.0 + mean_exp2.real) - c * c
    ss = 0.5 * (1.0 - mean_exp2.real) - s * s
    cs = 0.5 * mean_exp2.imag - c * s
    yy = np.mean(flux * flux)
    d = cc * ss - cs * cs
    return (ss * yc * yc + cc * ys * ys - 2.0 * cs * yc * ys) / (yy * d)


__all__ = ["METHODS", "calnet_period_grid", "gls"]
