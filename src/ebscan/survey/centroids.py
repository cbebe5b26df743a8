"""The in-eclipse centroid test: do the eclipses come from the target or from a neighbour?

A TESS pixel is 21 arcsec wide, so an aperture often holds a neighbour. The
flux-weighted centroid (SPOC's ``MOM_CENTR1``/``MOM_CENTR2``, CCD column and row) moves
during an eclipse towards the stars that did not dim. If a source at ``x_s`` loses a
fraction ``D`` of the aperture's flux, the centroid moves by ``dx = D (x_out - x_s) /
(1 - D)``, so the source sits at ``x_s = x_out - dx (1 - D) / D`` (the difference-image
reasoning of Kepler's DV centroid test, Bryson et al. 2013; Kostov et al. 2025 vet TESS
EBs this way). The test compares the source's position with the target's (from the
light curve's ``APERTURE`` WCS and the header's RA/Dec moved by the proper motion to
the epoch of the observation; without them, with the
out-of-eclipse centroid) and flags a blend when they differ by three standard errors
and by :data:`BLEND_PIXELS`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import fitsio
import numpy as np

from ebscan.errors import LightCurveError

#: TESS pixel scale (arcsec per pixel).
PIXEL_ARCSEC = 21.0
#: A source this far from the target (pixels) and 3 standard errors away is a blend.
BLEND_PIXELS = 0.5
#: Significance of the source offset that flags a blend.
BLEND_SIGMA = 3.0
#: Systematic error of the target's pixel position (pixels), added in quadrature: the
#: mean centroids of isolated 2-minute targets sit 0.1-0.2 pixel from their WCS
#: positions (PSF asymmetry, crowding, catalogue positions).
TARGET_PIXEL_ERROR = 0.15


@dataclass(frozen=True)
class Centroids:
    """Flux-weighted centroids of the good cadences of one light curve.

    Attributes
    ----------
    time : numpy.ndarray
        Times (BTJD d).
    column, row : numpy.ndarray
        ``MOM_CENTR1`` and ``MOM_CENTR2`` (CCD pixels).
    flux : numpy.ndarray
        The light curve's flux at the same cadences (relative).
    target : tuple of float or None
        The target's CCD column and row from the aperture's WCS, when the file has it.
    sector : int
        TESS sector (-1 if the header does not say).
    """

    time: np.ndarray
    column: np.ndarray
    row: np.ndarray
    flux: np.ndarray
    target: tuple[float, float] | None
    sector: int = -1


def _target_position(header: dict) -> tuple[float, float]:
    """The target's RA and Dec (deg) at the start of the observation.

    The header's RA_OBJ/DEC_OBJ are for J2000; a star of high proper motion (CM Dra:
    1.6 arcsec a year) has moved by a pixel or more since, and the centroids see it
    where it is.
    """
    ra, dec = float(header["RA_OBJ"]), float(header["DEC_OBJ"])
    start = header.get("TSTART")
    if isinstance(start, (int, float)) and isinstance(header.get("PMRA"), (int, float)):
        years = (start + 2457000.0 - 2451545.0) / 365.25
        ra += header["PMRA"] * years / 3.6e6 / np.cos(np.radians(dec))
        dec += float(header.get("PMDEC") or 0.0) * years / 3.6e6
    return ra, dec


def _target_pixel(fits: fitsio.FITS, header: dict) -> tuple[float, float] | None:
    """The target's CCD (column, row) from the APERTURE image's WCS, or None."""
    if "APERTURE" not in fits or "RA_OBJ" not in header or "DEC_OBJ" not in header:
        return None
    from astropy.io.fits import Header
    from astropy.wcs import WCS, FITSFixedWarning

    aperture = fits["APERTURE"].read_header()
    keys = ("CRVAL1P", "CRVAL2P", "CRPIX1P", "CRPIX2P")
    if not all(k in aperture for k in keys):
        return None
    cards = Header({k: aperture[k] for k in aperture.keys() if k and not k.endswith("P")})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        x, y = WCS(cards).all_world2pix(*_target_position(header), 1)
    return (
        float(aperture["CRVAL1P"] + x - aperture["CRPIX1P"]),
        float(aperture["CRVAL2P"] + y - aperture["CRPIX2P"]),
    )


def read_centroids(path: str | os.PathLike, flux_column: str | None = None) -> Centroids:
    """The centroid columns of a light-curve file, at cadences where all are good.

    Raises
    ------
    LightCurveError
        If the file has no ``MOM_CENTR1``/``MOM_CENTR2`` columns or no good cadence.
    """
    from ebscan.lightcurves.io import FLUX_COLUMNS, header_sector

    path = os.fspath(path)
    with fitsio.FITS(path) as fits:
        columns = fits["LIGHTCURVE"].get_colnames()
        if not {"MOM_CENTR1", "MOM_CENTR2"} <= set(columns):
            raise LightCurveError(path, "no MOM_CENTR1/MOM_CENTR2 columns")
        flux_column = flux_column or next(c for c in FLUX_COLUMNS if c in columns)
        names = ["TIME", flux_column, "MOM_CENTR1", "MOM_CENTR2"]
        if "QUALITY" in columns:
            names.append("QUALITY")
        data = fits["LIGHTCURVE"].read(columns=names)
        header = fits[0].read_header()
        target = _target_pixel(fits, {k: header[k] for k in header.keys() if k})
    good = np.all([np.isfinite(data[n]) for n in names[:4]], axis=0)
    if "QUALITY" in names:
        good &= data["QUALITY"] == 0
    if not good.any():
        raise LightCurveError(path, "no cadence with finite centroids")
    flux = data[flux_column][good].astype(np.float64)
    return Centroids(
        time=data["TIME"][good].astype(np.float64),
        column=data["MOM_CENTR1"][good].astype(np.float64),
        row=data["MOM_CENTR2"][good].astype(np.float64),
        flux=flux / np.median(flux),
        target=target,
        sector=header_sector(header),
    )


@dataclass(frozen=True)
class CentroidTest:
    """Outcome of :func:`centroid_test` on one light curve.

    Attributes
    ----------
    shift : float
        In-eclipse minus out-of-eclipse centroid, length (pixels).
    shift_sigma : float
        ``shift`` over its standard error.
    source_offset : float
        Distance of the eclipsing source from the target (arcsec).
    source_offset_sigma : float
        ``source_offset`` over its standard error.
    n_in_eclipse : int
        Cadences in eclipse.
    blend : bool
        The source is :data:`BLEND_SIGMA` standard errors and :data:`BLEND_PIXELS`
        pixels from the target: the eclipses come from a neighbour.
    """

    shift: float
    shift_sigma: float
    source_offset: float
    source_offset_sigma: float
    n_in_eclipse: int
    blend: bool


def in_eclipse(
    time: np.ndarray,
    t0: float,
    period: float,
    half_width: float,
    eclipse_times: Sequence[float] = (),
    secondary_phase: float = np.nan,
    secondary_half_width: float = np.nan,
) -> tuple[np.ndarray, np.ndarray]:
    """Masks of cadences in the primary eclipses' cores and well outside any eclipse.

    In: within half of ``half_width`` (d) of a primary minimum (``t0 + n period``, or
    one of ``eclipse_times`` when the period is unknown; none without either). Out:
    farther than twice ``half_width`` from every primary minimum, and than twice
    ``secondary_half_width`` (d) from every secondary, ``secondary_phase`` of the orbit
    after a primary. Where no secondary was measured (NaN), phase 0.5 and the primary's
    width stand for it, where a circular orbit's undetected secondary would be; the
    primary's width also stands for a secondary's too wide to be an eclipse's
    (:func:`ebscan.survey.periods.secondary_or_primary_width`: otherwise no cadence of
    TIC 32150630 was out of eclipse).
    """
    if not np.isfinite(period):
        minima = np.asarray(eclipse_times, dtype=float)
        minima = minima[np.isfinite(minima)]
        if minima.size == 0:  # no eclipse known: none to be in
            return np.zeros(len(time), dtype=bool), np.ones(len(time), dtype=bool)
        distance = np.min(np.abs(time[:, None] - minima[None, :]), axis=1)
        return distance < 0.5 * half_width, distance > 2 * half_width
    from ebscan.survey.periods import secondary_or_primary_width

    distance = np.abs((time - t0 + 0.5 * period) % period - 0.5 * period)
    if not np.isfinite(secondary_phase):
        secondary_phase, secondary_half_width = 0.5, half_width
    secondary_half_width = secondary_or_primary_width(half_width, secondary_half_width, period)
    secondary = np.abs((time - t0 - (secondary_phase - 0.5) * period) % period - 0.5 * period)
    away = (distance > 2 * half_width) & (secondary > 2 * secondary_half_width)
    return distance < 0.5 * half_width, away


def centroid_test(
    centroids: Centroids,
    t0: float,
    period: float,
    half_width: float,
    eclipse_times: Sequence[float] = (),
    trend_window: float = 1.0,
    secondary_phase: float = np.nan,
    secondary_half_width: float = np.nan,
) -> CentroidTest:
    """Where the eclipses come from, from the centroid motion during eclipses.

    Parameters
    ----------
    centroids : Centroids
        From :func:`read_centroids` (or built from simulated columns).
    t0, period : float
        Ephemeris of the primary eclipse (d); ``period`` NaN with ``eclipse_times``.
    half_width : float
        Half the primary eclipse's duration (d).
    eclipse_times : sequence of float
        Times of the eclipses when the period is unknown. Without either, no cadence
        is in eclipse and the test is empty (NaN, ``n_in_eclipse`` 0).
    trend_window : float
        Slow centroid motion (pointing drift, velocity aberration) is removed with a
        running median over this many days.
    secondary_phase, secondary_half_width : float
        Phase of the secondary after the primary and half its duration (d), which the
        out-of-eclipse cadences keep away from (:func:`in_eclipse`); NaN when none was
        measured.
    """
    from ebscan.survey.periods import point_to_point_scatter, running_median

    time = centroids.time
    inside, outside = in_eclipse(
        time, t0, period, half_width, eclipse_times, secondary_phase, secondary_half_width
    )
    if inside.sum() < 3 or outside.sum() < 10:
        return CentroidTest(np.nan, np.nan, np.nan, np.nan, int(inside.sum()), False)
    shifts, errors = [], []
    for values in (centroids.column, centroids.row):
        steady = running_median(time[outside], values[outside], trend_window)
        # The running median of the out-of-eclipse cadences, carried to all cadences.
        motion = np.interp(time, time[outside], steady)
        residual = values - motion
        scatter = point_to_point_scatter(residual[outside])
        shifts.append(np.mean(residual[inside]) - np.mean(residual[outside]))
        errors.append(scatter * np.sqrt(1 / inside.sum() + 1 / outside.sum()))
    shift = np.array(shifts)
    error = np.array(errors)
    depth = 1 - np.mean(centroids.flux[inside]) / np.mean(centroids.flux[outside])
    if depth <= 0:
        return CentroidTest(np.nan, np.nan, np.nan, np.nan, int(inside.sum()), False)
    # The source relative to the out-of-eclipse centroid, then to the target.
    source = -shift * (1 - depth) / depth
    source_error = error * (1 - depth) / depth
    if centroids.target is not None:
        out_centroid = np.array(
            [np.mean(centroids.column[outside]), np.mean(centroids.row[outside])]
        )
        source = source + out_centroid - np.array(centroids.target)
        source_error = np.hypot(source_error, TARGET_PIXEL_ERROR)
    offset = float(np.hypot(*source))
    offset_error = float(np.sqrt(np.sum((source * source_error) ** 2)) / max(offset, 1e-12))
    offset_sigma = offset / offset_error if offset_error > 0 else 0.0
    shift_length = float(np.hypot(*shift))
    shift_error = float(np.sqrt(np.sum((shift * error) ** 2)) / max(shift_length, 1e-12))
    return CentroidTest(
        shift=shift_length,
        shift_sigma=shift_length / shift_error if shift_error > 0 else 0.0,
        source_offset=offset * PIXEL_ARCSEC,
        source_offset_sigma=offset_sigma,
        n_in_eclipse=int(inside.sum()),
        blend=bool(offset_sigma > BLEND_SIGMA and offset > BLEND_PIXELS),
    )
