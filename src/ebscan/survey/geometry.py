"""Eclipse geometry from the folded light curve: the two-Gaussian model of Mowlavi et al. (2017).

The folded light curve is fitted with a constant, one or two Gaussian eclipses
(periodic: copies at +-1 in phase) and, optionally, an ellipsoidal cosine of half the
period centred on the primary, ``C - sum_i d_i G(phase; mu_i, sigma_i) - A/2 cos(4 pi
(phase - mu_1))``; of the models CG, CGE, CG12 and CG12E the one with the lowest BIC is
kept. Gaia DR3 (Mowlavi et al. 2023) and Prsa et al. (2022, their ``-2g`` columns) use
the same model, so the widths compare directly with Prsa's: an eclipse's width is
5.6 sigma (Mowlavi et al. 2017), its depth the Gaussian's depth over the out-of-eclipse
level at its centre, the secondary's phase its centre's distance after the primary's.
Why not the ``ligeor`` package (Prsa's group): it fits with ``curve_fit`` and prints on
failure, pins NumPy-era APIs and was last released in 2022; the model is 60 lines here,
fitted with ``scipy.optimize.least_squares`` and tested against the EB model
(:mod:`ebscan.sim.eclipses`).

The morphology value (:func:`morphology`) maps the total eclipse width onto Prsa et
al.'s morphology coefficient (0 detached ... 1 contact, Matijevic et al. 2012), with the
median coefficient of Prsa's systems at each total two-Gaussian width
(``bench/morphology.py`` derives the table and measures the agreement).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from ebscan.survey.periods import point_to_point_scatter

#: Width of an eclipse in Gaussian sigmas (Mowlavi et al. 2017).
WIDTH_SIGMAS = 5.6

#: Total two-Gaussian eclipse width (primary + secondary, or twice the primary without
#: a secondary; phase units) -> median morphology coefficient of the Prsa et al. (2022)
#: systems of that width: medians of 20 equally populated bins of 3,970 systems,
#: from bench/morphology.py.
MORPHOLOGY_TABLE = (
    (0.0186, 0.109),
    (0.0388, 0.125),
    (0.0551, 0.169),
    (0.0698, 0.206),
    (0.0852, 0.25),
    (0.1023, 0.295),
    (0.1225, 0.337),
    (0.1396, 0.375),
    (0.1562, 0.413),
    (0.1808, 0.455),
    (0.2113, 0.493),
    (0.2485, 0.521),
    (0.2851, 0.54),
    (0.3189, 0.553),
    (0.3605, 0.582),
    (0.4153, 0.603),
    (0.4805, 0.635),
    (0.5569, 0.722),
    (0.61, 0.751),
    (0.7212, 0.759),
)


@dataclass(frozen=True)
class EclipseFit:
    """Eclipse geometry of a folded light curve (phase 0 at T0, the primary minimum).

    Attributes
    ----------
    model : str
        The two-Gaussian model kept: CG, CGE, CG12 or CG12E (C: constant, G: one
        Gaussian, G12: two, E: ellipsoidal).
    primary_depth, secondary_depth : float
        Flux lost at each eclipse's centre over the out-of-eclipse level there
        (fraction); the secondary's is 0 without a secondary.
    primary_width, secondary_width : float
        5.6 sigma of each Gaussian (phase); the secondary's NaN without one.
    primary_phase : float
        Centre of the primary Gaussian (phase, near 0).
    secondary_phase : float
        Phase of the secondary's centre after the primary's; NaN without one. Away
        from 0.5 it shows an eccentric orbit (e cos omega ~ pi/2 (phase - 0.5)).
    ellipsoidal : float
        Full amplitude of the ellipsoidal term over the level (fraction).
    morphology : float
        :func:`morphology` of the total width.
    parameters : tuple of float
        The fitted parameters of ``model`` (for :meth:`flux`).
    """

    model: str
    primary_depth: float
    secondary_depth: float
    primary_width: float
    secondary_width: float
    primary_phase: float
    secondary_phase: float
    ellipsoidal: float
    morphology: float
    parameters: tuple[float, ...] = ()

    def flux(self, phase: np.ndarray) -> np.ndarray:
        """The fitted model at ``phase`` (0 at the primary minimum)."""
        return _model(np.asarray(phase, dtype=np.float64), np.array(self.parameters), self.model)


def _gaussians(phase: np.ndarray, mu: float, depth: float, sigma: float) -> np.ndarray:
    """A Gaussian dip with its copies one phase unit either side."""
    return depth * sum(np.exp(-0.5 * ((phase - mu + k) / sigma) ** 2) for k in (-1, 0, 1))


def _model(phase: np.ndarray, params: np.ndarray, name: str) -> np.ndarray:
    level, mu1, depth1, sigma1 = params[:4]
    flux = level - _gaussians(phase, mu1, depth1, sigma1)
    rest = params[4:]
    if "G12" in name:
        mu2, depth2, sigma2 = rest[:3]
        flux = flux - _gaussians(phase, mu2, depth2, sigma2)
        rest = rest[3:]
    if name.endswith("E"):
        flux = flux - 0.5 * rest[0] * np.cos(4 * np.pi * (phase - mu1))
    return flux


def morphology(total_width: float) -> float:
    """Prsa et al. (2022)-like morphology coefficient for a total eclipse width (phase)."""
    widths, values = np.array(MORPHOLOGY_TABLE).T
    return float(np.interp(total_width, widths, values)) if np.isfinite(total_width) else np.nan


def fit_two_gaussians(
    phase: np.ndarray,
    flux: np.ndarray,
    secondary_guess: float = 0.5,
    bins: int = 500,
) -> EclipseFit:
    """Fit the two-Gaussian models to a fold and keep the best by BIC.

    Parameters
    ----------
    phase : numpy.ndarray
        Phase of each cadence, 0 at the primary minimum (any range; taken modulo 1).
    flux : numpy.ndarray
        Relative flux (out-of-eclipse level near 1).
    secondary_guess : float
        Where to start the secondary's centre (phase); NaN or out of (0.1, 0.9) means
        0.5.
    bins : int
        The fold is averaged into this many phase bins (fewer with few cadences:
        at least 5 cadences a bin) before fitting; bin errors from the scatter.

    Returns
    -------
    EclipseFit
    """
    phase = np.asarray(phase, dtype=np.float64) % 1.0
    flux = np.asarray(flux, dtype=np.float64)
    bins = int(max(40, min(bins, len(phase) // 5)))
    which = np.minimum((phase * bins).astype(np.int64), bins - 1)
    counts = np.bincount(which, minlength=bins)
    filled = counts > 0
    means = np.bincount(which, flux, bins)[filled] / counts[filled]
    centres = ((np.arange(bins) + 0.5) / bins)[filled]
    centres = np.where(centres > 0.75, centres - 1, centres)  # primary in the middle
    scatter = point_to_point_scatter(flux)
    errors = scatter / np.sqrt(counts[filled])
    level = float(np.percentile(means, 90))
    depth = max(level - float(means[np.argmin(np.abs(centres))]), level - float(means.min()))
    half = means < level - depth / 2
    sigma = max(np.count_nonzero(half & (np.abs(centres) < 0.25)) / bins / 2.355, 1 / bins)
    if not 0.1 < secondary_guess < 0.9:
        secondary_guess = 0.5
    near = np.abs(centres - secondary_guess) < 0.05
    depth2 = max(level - float(means[near].min()), 0.0) if near.any() else depth / 4
    low, high = 0.5 / bins, 0.25
    starts = {
        "CG": ([level, 0.0, depth, sigma], [0, -0.1, 0, low], [2 * level, 0.1, 2 * depth, high]),
        "CG12": (
            [level, 0.0, depth, sigma, secondary_guess, depth2 + 1e-6, sigma],
            [0, -0.1, 0, low, 0.1, 0, low],
            [2 * level, 0.1, 2 * depth, high, 0.9, 2 * depth, high],
        ),
    }
    starts["CGE"] = tuple(
        [*v, w] for v, w in zip(starts["CG"], [depth / 10, 0, depth], strict=True)
    )
    starts["CG12E"] = tuple(
        [*v, w] for v, w in zip(starts["CG12"], [depth / 10, 0, depth], strict=True)
    )
    best: tuple[float, str, np.ndarray] | None = None
    for name, (start, lower, upper) in starts.items():
        start = np.clip(start, np.array(lower) + 1e-12, np.array(upper) - 1e-12)
        fit = least_squares(
            lambda p, name=name: (_model(centres, p, name) - means) / errors,
            start,
            bounds=(lower, upper),
        )
        bic = float(np.sum(fit.fun**2) + len(start) * np.log(len(means)))
        if best is None or bic < best[0]:
            best = (bic, name, fit.x)
    assert best is not None
    _, name, params = best
    level, mu1, depth1, sigma1 = params[:4]
    mu2 = depth2 = sigma2 = np.nan
    ellipsoidal = 0.0
    rest = params[4:]
    if "G12" in name:
        mu2, depth2, sigma2 = rest[:3]
        rest = rest[3:]
    if name.endswith("E"):
        ellipsoidal = float(rest[0])

    def relative(mu: float, depth: float) -> float:
        outside = level - 0.5 * ellipsoidal * np.cos(4 * np.pi * (mu - mu1))
        return float(depth / outside)

    primary_width = WIDTH_SIGMAS * sigma1
    secondary_width = WIDTH_SIGMAS * sigma2 if "G12" in name else np.nan
    total = primary_width + (secondary_width if "G12" in name else primary_width)
    return EclipseFit(
        model=name,
        primary_depth=relative(mu1, depth1),
        secondary_depth=relative(mu2, depth2) if "G12" in name else 0.0,
        primary_width=float(primary_width),
        secondary_width=float(secondary_width),
        primary_phase=float(mu1),
        secondary_phase=float((mu2 - mu1) % 1.0) if "G12" in name else np.nan,
        ellipsoidal=float(ellipsoidal / level),
        morphology=morphology(min(total, 1.0)),
        parameters=tuple(float(p) for p in params),
    )
