"""Stellar and instrumental signals as relative flux: for simulated light curves and injections.

Every stellar signal is a function ``signal(rng, time, exposure_days) -> (relative flux,
period)``: 1 is the star's mean light, ``period`` its main period in days (0 where there
is none). :data:`SIGNALS` maps a subtype to its label (``EB`` or ``non-EB``) and its
function. The EB subtypes draw from an :class:`ebscan.sim.eclipses.EclipsePopulation`
(``population=``; the packaged one by default) within a morphology range and compute
the physical model of :mod:`ebscan.sim.eclipses`; the impostors are what CALNet must not
call an EB: spotted rotators, delta Scuti and gamma Doradus pulsators, RR Lyrae stars,
flare stars, transiting planets, and quiet stars.

:func:`systematics` draws what the instrument and the pipeline leave in a 2-minute
SPOC light curve (red noise, flux jumps at momentum dumps, ramps at the start of each
orbit, scattered light near the orbits' ends), for light curves made from scratch.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

from ebscan.sim.eclipses import EclipsePopulation, binary_flux, binary_from_eclipses

#: Morphology ranges (Matijevic et al. 2012) of the EB subtypes.
EB_MORPHOLOGY = {
    "detached": (0.0, 0.5),
    "semidetached": (0.5, 0.7),
    "contact": (0.7, 1.01),
}


@cache
def _default_population() -> EclipsePopulation:
    return EclipsePopulation.default()


def eclipsing_binary(
    rng: np.random.Generator,
    time: np.ndarray,
    exposure_days: float = 0.0,
    morphology: tuple[float, float] = (0.0, 1.01),
    population: EclipsePopulation | None = None,
    depth_scale: float = 1.0,
) -> tuple[np.ndarray, float]:
    """An EB drawn from ``population`` (within ``morphology``), its first eclipse in ``time``."""
    record = (population or _default_population()).draw(rng, morphology)
    t0 = float(np.nanmin(time)) + rng.uniform(0, float(record["period"]))
    binary = binary_from_eclipses(rng, record, t0, depth_scale)
    return binary_flux(binary, time, exposure_days), binary.period


def _eb_subtype(morphology: tuple[float, float]) -> Callable:
    def signal(rng, time, exposure_days=0.0, population=None, depth_scale=1.0):
        return eclipsing_binary(rng, time, exposure_days, morphology, population, depth_scale)

    return signal


def rotator(rng, time, exposure_days=0.0):
    """Spots on a rotating star: two harmonics whose amplitude and phase drift as spots evolve."""
    period = float(np.exp(rng.uniform(np.log(0.3), np.log(25.0))))
    amplitude = float(np.exp(rng.uniform(np.log(3e-4), np.log(0.05))))
    return spot_modulation(rng, time, period, amplitude), period


def spot_modulation(
    rng: np.random.Generator, time: np.ndarray, period: float, amplitude: float
) -> np.ndarray:
    """Relative flux of evolving spots on a rotating star.

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the spots' lifetime (0.5-4 rotations), the drifts of the amplitudes and
        phases between lifetimes, and the first harmonic's share and phase.
    time : numpy.ndarray
        Times (d).
    period : float
        Rotation period (d).
    amplitude : float
        Semi-amplitude of the fundamental (relative flux); the first harmonic's is
        0.1-0.6 of it, and both drift by about 30%.

    Returns
    -------
    numpy.ndarray
        Relative flux, 1 without spots.
    """
    evolution = rng.uniform(0.5, 4.0) * period  # spot lifetime
    nodes = np.arange(np.nanmin(time) - evolution, np.nanmax(time) + 2 * evolution, evolution)
    # Amplitudes and phases of each harmonic drift smoothly between random nodes.
    drift = [np.interp(time, nodes, rng.normal(0, 1, nodes.size)) for _ in range(4)]
    phase = 2 * np.pi * time / period
    spots = (1 + 0.3 * drift[0]) * np.sin(phase + 0.5 * drift[1]) + rng.uniform(0.1, 0.6) * (
        1 + 0.3 * drift[2]
    ) * np.sin(2 * phase + 0.5 * drift[3] + rng.uniform(0, 2 * np.pi))
    return 1.0 + amplitude * spots


def _modes(rng, time, frequencies, amplitudes):
    flux = np.ones_like(time)
    for frequency, amplitude in zip(frequencies, amplitudes, strict=True):
        flux += amplitude * np.sin(2 * np.pi * frequency * time + rng.uniform(0, 2 * np.pi))
    return flux


def delta_scuti(rng, time, exposure_days=0.0):
    """p-mode pulsations: several frequencies of 5-60 cycles a day, one dominant."""
    n = int(rng.integers(2, 9))
    frequencies = rng.uniform(5.0, 60.0, n)
    amplitudes = np.exp(rng.uniform(np.log(1e-4), np.log(2e-2), n))
    amplitudes[0] = amplitudes.max() * rng.uniform(1.0, 3.0)
    return _modes(rng, time, frequencies, amplitudes), 1.0 / frequencies[0]


def gamma_doradus(rng, time, exposure_days=0.0):
    """g-mode pulsations: close frequencies of 0.3-3 cycles a day that beat."""
    n = int(rng.integers(2, 7))
    centre = rng.uniform(0.3, 3.0)
    frequencies = centre * (1 + rng.uniform(-0.08, 0.08, n))
    amplitudes = np.exp(rng.uniform(np.log(5e-4), np.log(1.5e-2), n))
    return _modes(rng, time, frequencies, amplitudes), 1.0 / frequencies[0]


def rr_lyrae(rng, time, exposure_days=0.0):
    """An RRab star (fast rise, slow decline) or an RRc star (near-sinusoidal)."""
    fundamental = rng.random() < 0.6
    period = rng.uniform(0.45, 0.9) if fundamental else rng.uniform(0.2, 0.45)
    phase = ((time - rng.uniform(0, period)) / period) % 1.0
    if fundamental:
        amplitude = rng.uniform(0.2, 0.6)
        rise = rng.uniform(0.1, 0.2)
        shape = np.where(phase < rise, phase / rise, 1.0 - (phase - rise) / (1 - rise))
        return 1.0 + amplitude * (shape**1.5 - 0.4), period
    amplitude = rng.uniform(0.08, 0.25)
    wave = np.sin(2 * np.pi * phase) + rng.uniform(0.05, 0.2) * np.sin(4 * np.pi * phase + 1.0)
    return 1.0 + amplitude * wave / 2, period


def flares(rng, time, rate_per_day: float | None = None):
    """Flares on the template of Davenport et al. (2014): fast rise, two-part decay.

    Returns the added relative flux (0 outside flares).
    """
    rate = rng.uniform(0.1, 2.0) if rate_per_day is None else rate_per_day
    span = float(np.nanmax(time) - np.nanmin(time))
    added = np.zeros_like(time)
    for peak in rng.uniform(np.nanmin(time), np.nanmax(time), rng.poisson(rate * span)):
        half_width = rng.uniform(2.0, 60.0) / 1440  # FWHM, days
        amplitude = float(np.exp(rng.uniform(np.log(3e-3), np.log(1.0))))
        x = (time - peak) / half_width
        rise = np.polyval([-1.125, -2.246, -0.175, 1.941, 1.0], np.clip(x, -1, 0))
        after = np.clip(x, 0, None)
        decay = 0.6890 * np.exp(-1.6 * after) + 0.3030 * np.exp(-0.2783 * after)
        added += amplitude * np.where(x < -1, 0, np.where(x <= 0, rise, decay))
    return added


def flare_star(rng, time, exposure_days=0.0):
    """A spotted rotator (an active M dwarf) that flares."""
    flux, period = rotator(rng, time, exposure_days)
    return flux + flares(rng, time), period


def planet_transit(rng, time, exposure_days=0.0):
    """A planet transiting a Sun-like star: limb-darkened, U-shaped, no secondary eclipse.

    Radius ratio 0.02-0.12 (transit depths of 0.04-1.5%), period 0.5-20 days,
    semi-major axis from Kepler's third law for the drawn stellar mass and radius.
    """
    import batman

    period = float(np.exp(rng.uniform(np.log(0.5), np.log(20.0))))
    mass, radius = rng.uniform(0.6, 1.4), rng.uniform(0.6, 1.6)  # solar units
    a_over_r = 4.2 * period ** (2 / 3) * mass ** (1 / 3) / radius  # 215 R_sun / AU
    params = batman.TransitParams()
    params.t0 = float(np.nanmin(time)) + rng.uniform(0, period)
    params.per, params.rp, params.a = period, rng.uniform(0.02, 0.12), a_over_r
    params.inc = float(np.degrees(np.arccos(rng.uniform(0, 0.85) / a_over_r)))
    params.ecc, params.w = 0.0, 90.0
    params.limb_dark, params.u = "quadratic", [rng.uniform(0.3, 0.5), rng.uniform(0.1, 0.3)]
    supersample = max(1, round(exposure_days / (2 / 1440)))
    model = batman.TransitModel(
        params, time, supersample_factor=supersample, exp_time=max(exposure_days, 1e-9)
    )
    return model.light_curve(params), period


def quiet(rng, time, exposure_days=0.0):
    """No variability of its own."""
    return np.ones_like(time), 0.0


#: Subtype -> (label, signal). The EB subtypes take ``population=`` and ``depth_scale=``.
SIGNALS: dict[str, tuple[str, Callable]] = {
    **{name: ("EB", _eb_subtype(morphology)) for name, morphology in EB_MORPHOLOGY.items()},
    "rotator": ("non-EB", rotator),
    "delta_scuti": ("non-EB", delta_scuti),
    "gamma_doradus": ("non-EB", gamma_doradus),
    "rr_lyrae": ("non-EB", rr_lyrae),
    "flare_star": ("non-EB", flare_star),
    "planet_transit": ("non-EB", planet_transit),
    "quiet": ("non-EB", quiet),
}


def red_noise(rng, time, amplitude: float, timescale: float) -> np.ndarray:
    """A damped random walk (Ornstein-Uhlenbeck) of rms ``amplitude`` and ``timescale`` days."""
    steps = np.diff(time, prepend=time[0])
    decay = np.exp(-steps / timescale)
    kicks = rng.normal(0, amplitude, time.size) * np.sqrt(1 - decay**2)
    walk = np.empty_like(time)
    walk[0] = rng.normal(0, amplitude)
    for i in range(1, time.size):
        walk[i] = decay[i] * walk[i - 1] + kicks[i]
    return walk


def systematics(
    rng: np.random.Generator,
    time: np.ndarray,
    orbit_starts: np.ndarray,
    momentum_dumps: np.ndarray,
    white_noise: float,
) -> np.ndarray:
    """What the instrument and PDC leave in a 2-minute light curve, as relative flux.

    - red noise (pointing jitter, unmodelled trends): a damped random walk of 0.3 to 3
      times the white noise, on 0.1-2 day timescales;
    - a small flux jump at each momentum dump;
    - an exponential ramp at the start of each orbit (thermal settling);
    - scattered light (Earth and Moon) near the end of each orbit: a rising background
      modulated at the 1-day period of the Earth's rotation.

    Parameters
    ----------
    rng : numpy.random.Generator
        Randomness.
    time : numpy.ndarray
        Cadence times (days).
    orbit_starts : numpy.ndarray
        Start times of the spacecraft's orbits (the sector start, and the end of the
        data downlink gap).
    momentum_dumps : numpy.ndarray
        Times of the momentum dumps.
    white_noise : float
        The light curve's white noise (relative flux per cadence).
    """
    flux = 1.0 + red_noise(
        rng, time, white_noise * rng.uniform(0.3, 3.0), float(np.exp(rng.uniform(-2.3, 0.7)))
    )
    for dump in momentum_dumps:
        flux[time >= dump] += rng.normal(0, 2 * white_noise)
    ends = np.append(orbit_starts[1:], np.nanmax(time))
    for start, end in zip(orbit_starts, ends, strict=True):
        inside = (time >= start) & (time < end)
        since = time[inside] - start
        flux[inside] -= rng.uniform(0, 5e-3) * np.exp(-since / rng.uniform(0.1, 1.0))
        until = np.clip(end - time[inside], 0, None)
        glow = rng.uniform(0, 3e-3) * np.exp(-until / rng.uniform(0.5, 2.0))
        flux[inside] += glow * (1 + 0.5 * np.sin(2 * np.pi * time[inside] + rng.uniform(0, 6.3)))
    return flux
