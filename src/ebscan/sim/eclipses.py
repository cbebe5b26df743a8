"""Light curves of eclipsing binaries from a physical model, and EB populations to draw from.

The model (:func:`binary_flux`) is two limb-darkened spherical stars on a Keplerian orbit
(any eccentricity and argument of periastron) with ellipsoidal variation, reflection and
third light:

- Eclipses: each star, in its turn, is occulted by the other's disk. ``batman``
  (Kreidberg 2015) computes the flux lost by a star with a quadratic limb-darkening law
  behind an opaque disk of any size (Mandel & Agol 2002, including the disk larger than
  the star), with the separation from its own solution of Kepler's equation. Star 2 in
  front of star 1 is the primary eclipse at ``t0``; the secondary comes where batman
  puts it for the same orbit seen from star 2 (argument of periastron + 180 deg).
- Ellipsoidal variation of each star: the leading term of Morris & Naftilan (1993),
  ``-alpha q (R/d)^3 sin^2 i cos 2phi``, with ``alpha = 0.15 (15 + u)(1 + tau) / (3 - u)``.
- Reflection: each star re-emits ``albedo`` times the light it intercepts from the other,
  ``(R/d)^2``, seen with the phase function ``(1 - sin i cos phi) / 2`` (full at the
  other star's superior conjunction).
- Third light: a fraction ``third_light`` of the total flux from an unresolved
  constant source (a neighbour, a third star), which dilutes every variation.

Why batman: of the EB and transit libraries that install with pip alone on Python 3.11
(measured 2026-11-30, ``docs/model-card.md``), batman-package ships compiled wheels and
computes a limb-darkened occultation in microseconds. ``ellc`` (Roche-distorted stars)
has only a wheel whose shared library does not load on Linux ("invalid ELF header") and
otherwise needs a Fortran compiler; PHOEBE 2 installs but takes seconds per light curve
(a mesh of the stars), far too slow for tens of thousands of training light curves;
PyTransit's eclipse model pulls in numba and a JIT compile at first use. Spheres miss
the distorted shapes of contact binaries; the ellipsoidal term and eclipses by
near-touching spheres (fractional radii summing to 0.8) stand in for them, and the
population below reproduces their catalogued eclipse widths and depths.

Populations (:class:`EclipsePopulation`) draw the observable eclipse properties of real
EBs, jointly per system: period, morphology (Matijevic et al. 2012: 0 detached ... 1
contact/ellipsoidal), primary eclipse width and depth, secondary-to-primary depth ratio,
secondary phase and width, from the Prsa et al. (2022) TESS EB catalogue (its polyfit
columns) and the Kepler EB catalogue (period and morphology; eclipse shapes from the
Prsa systems of nearest morphology). :func:`binary_from_eclipses` turns one draw into
a :class:`Binary` with those eclipses.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Binary:
    """An eclipsing binary: geometry, brightness and orbit.

    Attributes
    ----------
    period : float
        Orbital period (days).
    t0 : float
        Time of primary eclipse (star 2 in front of star 1; BTJD days).
    radius_1, radius_2 : float
        Stellar radii in units of the semi-major axis.
    surface_brightness_ratio : float
        Disk-averaged surface brightness of star 2 over star 1 in the TESS band, so
        that the luminosity ratio is ``surface_brightness_ratio * (radius_2 /
        radius_1) ** 2``. Below 1 the primary eclipse is the deeper one.
    inclination : float
        Orbital inclination (degrees; 90 is edge-on).
    eccentricity : float
        Orbital eccentricity.
    omega : float
        Argument of periastron of star 2's orbit about star 1 (degrees).
    limb_darkening_1, limb_darkening_2 : tuple of float
        Quadratic limb-darkening coefficients (u1, u2) of each star.
    mass_ratio : float
        Mass of star 2 over star 1 (sets the tidal distortion).
    gravity_darkening : float
        Gravity-darkening coefficient tau of both stars in the TESS band.
    albedo_1, albedo_2 : float
        Fraction of the intercepted light each star re-emits (reflection effect).
    third_light : float
        Fraction of the total flux from a constant third source, in [0, 1).
    """

    period: float
    t0: float
    radius_1: float
    radius_2: float
    surface_brightness_ratio: float
    inclination: float
    eccentricity: float = 0.0
    omega: float = 90.0
    limb_darkening_1: tuple[float, float] = (0.4, 0.25)
    limb_darkening_2: tuple[float, float] = (0.4, 0.25)
    mass_ratio: float = 1.0
    gravity_darkening: float = 0.4
    albedo_1: float = 0.5
    albedo_2: float = 0.5
    third_light: float = 0.0

    def __post_init__(self) -> None:
        if not self.period > 0:
            raise ValueError(f"period must be positive, not {self.period!r}")
        if not (0 < self.radius_1 < 1 and 0 < self.radius_2 < 1):
            raise ValueError("radius_1 and radius_2 must be in (0, 1) (units of a)")
        if not 0 <= self.eccentricity < 1:
            raise ValueError(f"eccentricity must be in [0, 1), not {self.eccentricity!r}")
        if self.radius_1 + self.radius_2 >= 1 - self.eccentricity:
            raise ValueError(
                f"the stars touch at periastron: radius_1 + radius_2 = "
                f"{self.radius_1 + self.radius_2:.3f} >= 1 - eccentricity"
            )
        if not 0 <= self.third_light < 1:
            raise ValueError(f"third_light must be in [0, 1), not {self.third_light!r}")
        if not self.surface_brightness_ratio >= 0:
            raise ValueError("surface_brightness_ratio must not be negative")

    @property
    def luminosity_ratio(self) -> float:
        """Light of star 2 over star 1 (TESS band)."""
        return self.surface_brightness_ratio * (self.radius_2 / self.radius_1) ** 2


@dataclass(frozen=True)
class ContactBinary:
    """A contact binary (W UMa star): two stars in one envelope, from a tabulated light curve.

    Attributes
    ----------
    period : float
        Orbital period (days).
    t0 : float
        Time of the primary (deeper) minimum (BTJD days).
    half_orbit : tuple of float
        Flux at :data:`CONTACT_PHASES` (phase 0 to 0.5), in units of the maximum,
        from the Roche-geometry library (:mod:`ebscan.sim.contact_library`).
    oconnell : float
        Difference of the two maxima (relative flux; the O'Connell effect of a spot):
        positive when the maximum after the primary minimum is the brighter.
    third_light : float
        Fraction of the total flux from a constant third source, in [0, 1).
    """

    period: float
    t0: float
    half_orbit: tuple[float, ...]
    oconnell: float = 0.0
    third_light: float = 0.0

    def __post_init__(self) -> None:
        if not self.period > 0:
            raise ValueError(f"period must be positive, not {self.period!r}")
        if not 0 <= self.third_light < 1:
            raise ValueError(f"third_light must be in [0, 1), not {self.third_light!r}")


def _batman_params(
    t0: float, period: float, radius_ratio: float, a_over_r: float, binary: Binary, omega: float
):
    import batman

    params = batman.TransitParams()
    params.t0, params.per = t0, period
    params.rp, params.a = radius_ratio, a_over_r
    params.inc, params.ecc, params.w = binary.inclination, binary.eccentricity, omega
    params.limb_dark = "quadratic"
    return params


def _occulted_fraction(params, limb_darkening: tuple[float, float], time: np.ndarray):
    import batman

    params.u = list(limb_darkening)
    model = batman.TransitModel(params, time)
    return model.light_curve(params), model


def secondary_time(binary: Binary) -> float:
    """Time of the secondary eclipse's centre (star 1 in front) nearest after ``t0``."""
    import batman

    params = _batman_params(
        binary.t0, binary.period, binary.radius_2 / binary.radius_1, 1 / binary.radius_1,
        binary, binary.omega,
    )  # fmt: skip
    params.u = list(binary.limb_darkening_1)
    model = batman.TransitModel(params, np.array([binary.t0]))
    return binary.t0 + (model.get_t_secondary(params) - binary.t0) % binary.period


def _ellipsoidal_alpha(limb_darkening: tuple[float, float], tau: float) -> float:
    u = sum(limb_darkening)  # the linear law closest to the quadratic one
    return 0.15 * (15 + u) * (1 + tau) / (3 - u)


def _disk_flux(limb_darkening: tuple[float, float]) -> float:
    """Disk-integrated intensity of a quadratic law, relative to a uniform disk."""
    u1, u2 = limb_darkening
    return 1 - u1 / 3 - u2 / 6


def binary_flux(
    binary: Binary | ContactBinary,
    time: np.ndarray,
    exposure_days: float = 0.0,
    supersample: int = 0,
) -> np.ndarray:
    """Relative flux of ``binary`` at ``time``.

    For a :class:`Binary` 1 is the light of both stars, undistorted and unlit; for a
    :class:`ContactBinary`, its maximum.

    Parameters
    ----------
    binary : Binary or ContactBinary
        The system.
    time : numpy.ndarray
        Times (days).
    exposure_days : float
        Integration time of each cadence. With ``supersample`` > 1 the model is
        averaged over that many instants spread across the exposure, as a long
        exposure smears a short eclipse (30-minute FFI cadences).
    supersample : int
        Instants per exposure; 0 picks one per 2 minutes of exposure (at least 1).

    Returns
    -------
    numpy.ndarray
        Relative flux, same shape as ``time``.

    Examples
    --------
    >>> import numpy as np
    >>> from ebscan.sim.eclipses import Binary, binary_flux
    >>> twins = Binary(period=2.0, t0=0.0, radius_1=0.1, radius_2=0.1,
    ...                surface_brightness_ratio=1.0, inclination=90.0)
    >>> flux = binary_flux(twins, np.array([0.0, 0.5, 1.0]))
    >>> np.round(flux, 2)  # primary eclipse hides one of two equal stars; quadrature; secondary
    array([0.5, 1. , 0.5])
    """
    time = np.asarray(time, dtype=np.float64)
    if supersample == 0:
        supersample = max(1, round(exposure_days / (2 / 1440)))
    if supersample > 1 and exposure_days > 0:
        offsets = (np.arange(supersample) + 0.5) / supersample - 0.5
        instants = (time[..., None] + exposure_days * offsets).ravel()
        return binary_flux(binary, instants).reshape(*time.shape, supersample).mean(axis=-1)
    if isinstance(binary, ContactBinary):
        return _contact_model(binary, time)
    return _model(binary, time, eclipses=True)


def _contact_model(binary: ContactBinary, time: np.ndarray) -> np.ndarray:
    from scipy.interpolate import CubicSpline

    # The tabulated half orbit mirrored into a whole one, interpolated periodically.
    phases = np.concatenate([CONTACT_PHASES, 1 - CONTACT_PHASES[-2::-1]])
    half = np.asarray(binary.half_orbit)
    curve = CubicSpline(phases, np.concatenate([half, half[-2::-1]]), bc_type="periodic")
    phase = (time - binary.t0) / binary.period % 1.0
    light = curve(phase) + binary.oconnell / 2 * np.sin(2 * np.pi * phase)
    return (1 - binary.third_light) * light + binary.third_light


def _model(binary: Binary, time: np.ndarray, eclipses: bool) -> np.ndarray:
    """The relative flux at ``time``, with or without the eclipses (no exposure smearing)."""
    b = binary
    k = b.radius_2 / b.radius_1
    # Star 1 behind star 2 (primary), then star 2 behind star 1: the same orbit seen
    # from star 2, whose argument of periastron is 180 degrees further on.
    primary = _batman_params(b.t0, b.period, k, 1 / b.radius_1, b, b.omega)
    visible_1, model = _occulted_fraction(primary, b.limb_darkening_1, time)
    if eclipses:
        secondary = _batman_params(
            secondary_time(b), b.period, 1 / k, 1 / b.radius_2, b, b.omega + 180.0
        )
        visible_2, _ = _occulted_fraction(secondary, b.limb_darkening_2, time)
    else:
        visible_1 = visible_2 = np.ones_like(time)
    # Angle from the primary conjunction (0 at primary eclipse, pi at secondary) and
    # separation in units of a.
    true_anomaly = model.get_true_anomaly()
    phi = true_anomaly + np.radians(b.omega) - np.pi / 2
    separation = (1 - b.eccentricity**2) / (1 + b.eccentricity * np.cos(true_anomaly))
    sin_i = np.sin(np.radians(b.inclination))
    light_1 = _disk_flux(b.limb_darkening_1)
    light_2 = b.luminosity_ratio * light_1
    tide = sin_i**2 * np.cos(2 * phi) / separation**3
    ellipsoidal_1 = (
        _ellipsoidal_alpha(b.limb_darkening_1, b.gravity_darkening) * b.mass_ratio
        * b.radius_1**3 * tide
    )  # fmt: skip
    ellipsoidal_2 = (
        _ellipsoidal_alpha(b.limb_darkening_2, b.gravity_darkening) / b.mass_ratio
        * b.radius_2**3 * tide
    )  # fmt: skip
    # Star 2's lit face turns to us at the secondary (phi = pi), star 1's at the primary.
    lit_2 = (1 - sin_i * np.cos(phi)) / 2
    reflection_2 = b.albedo_2 * light_1 * (b.radius_2 / separation) ** 2 * lit_2
    reflection_1 = b.albedo_1 * light_2 * (b.radius_1 / separation) ** 2 * (1 - lit_2)
    binary_light = (
        (light_1 * (1 - ellipsoidal_1) + reflection_1) * visible_1
        + (light_2 * (1 - ellipsoidal_2) + reflection_2) * visible_2
    ) / (light_1 + light_2)
    return (1 - b.third_light) * binary_light + b.third_light


@dataclass(frozen=True)
class EclipseGeometry:
    """What a light curve shows of a binary's eclipses (measured on its model).

    Attributes
    ----------
    primary_depth, secondary_depth : float
        Flux lost at the centre of each eclipse, relative to the flux just outside
        it (0 where there is no eclipse).
    secondary_phase : float
        Phase of the secondary eclipse after the primary, in [0, 1).
    primary_width, secondary_width : float
        Full durations of the eclipses in phase units (first to last contact).
    """

    primary_depth: float
    secondary_depth: float
    secondary_phase: float
    primary_width: float
    secondary_width: float


def eclipse_geometry(binary: Binary | ContactBinary, samples: int = 20_000) -> EclipseGeometry:
    """Depths, secondary phase and widths of ``binary``'s eclipses, from its model.

    The flux outside each eclipse is the model without eclipses (both stars fully
    visible) at the eclipse centre, so ellipsoidal variation and reflection do not
    count as depth. A contact binary's light changes all orbit long: its depths are
    the minima below the maximum, its eclipses half an orbit wide each.
    """
    if isinstance(binary, ContactBinary):
        flux = binary_flux(binary, binary.t0 + binary.period * np.array([0.0, 0.5]))
        top = 1.0 + abs(binary.oconnell) / 2 * (1 - binary.third_light)
        depths = 1 - flux / top
        return EclipseGeometry(float(depths[0]), float(depths[1]), 0.5, 0.5, 0.5)
    t_secondary = secondary_time(binary)
    phase = np.arange(samples) / samples
    time = binary.t0 + binary.period * phase
    flux = _model(binary, time, eclipses=True)
    no_eclipses = _model(binary, time, eclipses=False)
    lost = no_eclipses - flux
    secondary_phase = (t_secondary - binary.t0) / binary.period % 1.0
    in_secondary = np.abs((phase - secondary_phase + 0.5) % 1.0 - 0.5)
    in_primary = np.abs((phase + 0.5) % 1.0 - 0.5)
    nearer_primary = in_primary < in_secondary

    def depth_and_width(at: float, mine: np.ndarray) -> tuple[float, float]:
        centre = round(at * samples) % samples
        depth = float(lost[centre] / no_eclipses[centre])
        return depth, float(np.count_nonzero((lost > 1e-12) & mine) / samples)

    primary_depth, primary_width = depth_and_width(0.0, nearer_primary)
    secondary_depth, secondary_width = depth_and_width(secondary_phase, ~nearer_primary)
    return EclipseGeometry(
        primary_depth, secondary_depth, float(secondary_phase), primary_width, secondary_width
    )


#: Fields of a population record: the observable eclipse properties of one system.
ECLIPSE_FIELDS = (
    "period",
    "morphology",
    "primary_width",
    "primary_depth",
    "depth_ratio",
    "secondary_phase",
    "secondary_width",
)


@dataclass(frozen=True)
class EclipsePopulation:
    """Catalogued EB systems to draw eclipse properties from, one system at a time.

    Attributes
    ----------
    records : numpy.ndarray
        Structured array with the fields of :data:`ECLIPSE_FIELDS`: period (d),
        morphology (0 detached ... 1 contact), primary eclipse width (phase) and depth
        (relative flux), secondary over primary depth, secondary phase after the
        primary and secondary width. NaN where the catalogue has no value.
    source : str
        Where the records come from (provenance).
    """

    records: np.ndarray
    source: str

    def __len__(self) -> int:
        return len(self.records)

    def draw(
        self, rng: np.random.Generator, morphology: tuple[float, float] | None = None
    ) -> np.void:
        """One system, uniformly among the records (with a morphology in that range)."""
        records = self.records
        if morphology is not None:
            low, high = morphology
            records = records[(records["morphology"] >= low) & (records["morphology"] < high)]
        return records[rng.integers(len(records))]

    def smoothed(self, n: int, seed: int, bandwidth: float = 0.1) -> EclipsePopulation:
        """``n`` synthetic systems drawn from a kernel density estimate of these.

        Each is a random record with its period, widths, depth and depth ratio scaled by
        ``exp(N(0, bandwidth))``, its secondary's offset from phase 0.5 likewise, and its
        morphology moved by ``N(0, bandwidth / 3)``: systems like the catalogued ones
        that are none of them.
        """
        rng = np.random.default_rng(seed)
        picked = self.records[rng.integers(len(self.records), size=n)].copy()
        for name in ("period", "primary_width", "primary_depth", "depth_ratio", "secondary_width"):
            picked[name] *= np.exp(rng.normal(0, bandwidth, n))
        picked["primary_depth"] = np.minimum(picked["primary_depth"], 0.95)
        offset = (picked["secondary_phase"] - 0.5) * np.exp(rng.normal(0, bandwidth, n))
        picked["secondary_phase"] = 0.5 + offset
        picked["morphology"] = np.clip(picked["morphology"] + rng.normal(0, bandwidth / 3, n), 0, 1)
        return EclipsePopulation(picked, f"{n} systems smoothed from {self.source} (seed {seed})")

    def write(self, path: str | os.PathLike) -> None:
        """Save as CSV (4 significant digits), with the source on a comment line."""
        from ebscan.atomic import atomic_open

        with atomic_open(path, newline="") as handle:
            handle.write(f"# {self.source}\n")
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(ECLIPSE_FIELDS)
            for record in self.records:
                writer.writerow([f"{record[name]:.4g}" for name in ECLIPSE_FIELDS])

    @classmethod
    def read(cls, path: str | os.PathLike) -> EclipsePopulation:
        """A population saved by :meth:`write`."""
        with open(path, newline="") as handle:
            source = handle.readline().removeprefix("# ").strip()
            rows = list(csv.DictReader(handle))
        records = np.zeros(len(rows), dtype=[(f, "f8") for f in ECLIPSE_FIELDS])
        for name in ECLIPSE_FIELDS:
            records[name] = [float(row[name]) for row in rows]
        return cls(records, source)

    @classmethod
    def default(cls) -> EclipsePopulation:
        """The population packaged with ebscan (:data:`DEFAULT_POPULATION`).

        Smoothed from the Prsa et al. (2022) and Kepler EB catalogues, so the demo and
        the simulator draw realistic eclipses without the catalogues at hand.
        """
        return cls.read(DEFAULT_POPULATION)

    @classmethod
    def from_catalogs(
        cls,
        catalogs: str | os.PathLike,
        kepler_labels: Sequence[str | os.PathLike] = (),
        exclude_tics: Collection[int] = frozenset(),
    ) -> EclipsePopulation:
        """Prsa et al. (2022) systems from ``catalogs``, plus Kepler EBs from labels tables.

        Parameters
        ----------
        catalogs : str or os.PathLike
            A folder laid out like ``../shared/catalogs`` (``prsa2022_tess_ebs``).
        kepler_labels : sequence of path
            ``labels.csv`` files with ``kebc_period`` and ``kebc_morph`` (the shared
            30-minute sets). Each Kepler EB takes its period and morphology from there
            and its eclipse shape (width, depths, secondary phase and width) from one
            of the 20 Prsa systems of nearest morphology, chosen by its KIC.
        exclude_tics : collection of int
            Stars left out of both catalogues: a model's held-out stars, so that no
            period or eclipse of theirs shapes the examples it trains on.
        """
        from ebscan.labels.catalogs import read_prsa2022

        table = read_prsa2022(Path(catalogs) / "prsa2022_tess_ebs")
        table = table[[int(tic) not in exclude_tics for tic in table["TIC"]]]

        def column(name: str) -> np.ndarray:
            return np.asarray(np.ma.filled(table[name].astype(float), np.nan))

        period, morphology = column("Per"), column("Morph")
        width, depth = column("Wp-pf"), column("Dp-pf")
        keep = (
            np.isfinite(period) & (period > 0) & (morphology >= 0) & (width > 0)
            & (depth > 0) & (depth < 1)
        )  # fmt: skip
        prsa = np.zeros(int(keep.sum()), dtype=[(f, "f8") for f in ECLIPSE_FIELDS])
        prsa["period"], prsa["morphology"] = period[keep], morphology[keep]
        prsa["primary_width"], prsa["primary_depth"] = width[keep], depth[keep]
        prsa["depth_ratio"] = (column("Ds-pf") / depth)[keep]
        prsa["secondary_phase"] = ((column("Phis-pf") - column("Phip-pf")) % 1.0)[keep]
        prsa["secondary_width"] = column("Ws-pf")[keep]
        kepler = []
        by_morphology = np.argsort(prsa["morphology"])
        for labels in kepler_labels:
            with open(labels, newline="") as handle:
                for row in csv.DictReader(handle):
                    if row.get("label") != "EB" or not row.get("kebc_period"):
                        continue
                    if row["tic"] and int(row["tic"]) in exclude_tics:
                        continue
                    kic_digits = "".join(c for c in row.get("evidence", "") if c.isdigit())
                    pick = np.random.default_rng(int(kic_digits or row["tic"]))
                    position = np.searchsorted(
                        prsa["morphology"][by_morphology], float(row["kebc_morph"])
                    )
                    nearest = by_morphology[
                        np.clip(position + pick.integers(-10, 10), 0, len(prsa) - 1)
                    ]
                    record = prsa[nearest].copy()
                    record["period"] = float(row["kebc_period"])
                    record["morphology"] = float(row["kebc_morph"])
                    kepler.append(record)
        records = np.concatenate([prsa, np.array(kepler, dtype=prsa.dtype)]) if kepler else prsa
        source = f"Prsa et al. 2022 ({len(prsa)} systems)"
        if kepler:
            source += f" + Kepler EB catalogue ({len(kepler)} systems)"
        return cls(records, source)


#: The packaged population: ``python -m ebscan.sim.eclipses`` writes it from the catalogues.
DEFAULT_POPULATION = Path(__file__).parents[1] / "data" / "eb_population.csv"
#: Its size and seed.
DEFAULT_POPULATION_SIZE, DEFAULT_POPULATION_SEED = 600, 2022

#: Widest eclipses the spherical model draws: fractional radii summing to 0.8 (contact).
MAX_RADIUS_SUM = 0.8


#: The packaged contact-binary light curves (:mod:`ebscan.sim.contact_library` writes them)
#: and their phases: half an orbit, from one minimum (0) to the other (0.5).
CONTACT_LIBRARY = Path(__file__).parents[1] / "data" / "contact_binaries.csv"
CONTACT_PHASES = np.linspace(0.0, 0.5, 51)

#: Morphology (Matijevic et al. 2012) from which a system is a contact binary or an
#: ellipsoidal variable: :func:`binary_from_eclipses` draws it from the Roche-geometry
#: library instead of spheres.
CONTACT_MORPHOLOGY = 0.7


@cache
def contact_curves() -> np.ndarray:
    """The packaged contact-binary light curves (:mod:`ebscan.sim.contact_library`): one
    half orbit per row, flux in units of the maximum, from the deeper minimum (phase 0,
    the primary eclipse) to the shallower one."""
    with open(CONTACT_LIBRARY, newline="") as handle:
        handle.readline()  # provenance
        reader = csv.reader(handle)
        header = next(reader)
        first = header.index("phase_0.00")
        curves = np.array([[float(v) for v in row[first:]] for row in reader])
    # PHOEBE's phase 0 is the primary star's conjunction; the hotter star may be either.
    swapped = curves[:, 0] > curves[:, -1]
    curves[swapped] = curves[swapped, ::-1]
    return curves


def third_light_for_depth(reference: float, minimum: float, target: float) -> float:
    """The fraction of third light that makes an eclipse ``target`` deep.

    Third light ``l`` turns every flux ``f`` of the binary into ``(1 - l) f + l``, so an
    eclipse from ``reference`` down to ``minimum`` becomes
    ``(1 - l) (reference - minimum) / ((1 - l) reference + l)`` deep; this solves that
    for ``l``.

    Examples
    --------
    >>> l = third_light_for_depth(1.0, 0.6, 0.1)
    >>> depth = ((1 - l) * 1.0 + l - ((1 - l) * 0.6 + l)) / ((1 - l) * 1.0 + l)
    >>> round(l, 4), round(depth, 4)
    (0.75, 0.1)
    """
    excess = reference - minimum - target * reference
    return excess / (excess + target)


def contact_from_eclipses(
    rng: np.random.Generator, record: np.void, t0: float, depth_scale: float = 1.0
) -> ContactBinary:
    """A :class:`ContactBinary` like a catalogue ``record``: a library curve at least as
    deep as the target depth (``depth_scale`` times the catalogued one) and of a
    similar depth ratio (one of the 10 nearest), a small O'Connell effect, and third
    light bringing the primary depth down to the target."""
    target = float(record["primary_depth"]) * depth_scale
    curves = contact_curves()
    deep_enough = np.flatnonzero(1 - curves[:, 0] >= target)
    if deep_enough.size == 0:
        deep_enough = np.array([np.argmin(curves[:, 0])])
    ratios = (1 - curves[deep_enough, -1]) / (1 - curves[deep_enough, 0])
    wanted = float(record["depth_ratio"])
    if np.isfinite(wanted):
        half = curves[rng.choice(deep_enough[np.argsort(np.abs(ratios - wanted))[:10]])]
    else:
        half = curves[rng.choice(deep_enough)]
    amplitude = 1 - half.min()
    contact = ContactBinary(
        period=float(record["period"]),
        t0=t0,
        half_orbit=tuple(float(v) for v in half),
        oconnell=float(rng.normal(0, 0.03) * amplitude),
    )
    if eclipse_geometry(contact).primary_depth > target > 0:
        # The depth is below the maximum, 1 + h with h half the O'Connell difference.
        maximum = 1 + abs(contact.oconnell) / 2
        contact = replace(contact, third_light=third_light_for_depth(maximum, half[0], target))
    return contact


def binary_from_eclipses(
    rng: np.random.Generator, record: np.void, t0: float, depth_scale: float = 1.0
) -> Binary | ContactBinary:
    """A binary whose eclipses look like those of a catalogue ``record``.

    Contact binaries and ellipsoidal variables (morphology from
    :data:`CONTACT_MORPHOLOGY` on) come from the Roche-geometry library
    (:func:`contact_from_eclipses`). For the others, a :class:`Binary`: the sum of the
    fractional radii follows from the primary width (an eclipse lasts
    about ``(r1 + r2) / pi`` of the orbit), ``e cos(omega)`` from the secondary's phase
    and ``e sin(omega)`` from the width ratio (Kopal 1959), the surface-brightness ratio
    from the depth ratio; the radius ratio, impact parameter, limb darkening, mass ratio
    and albedos are drawn. Third light then brings the primary depth down to
    ``depth_scale`` times the catalogued one where the geometry alone makes it deeper.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the drawn parameters.
    record : numpy.void
        One system of an :class:`EclipsePopulation`.
    t0 : float
        Time of the primary eclipse (days).
    depth_scale : float
        Scale of the target primary depth (below 1: shallower than catalogued, down to
        what TESS barely detects).
    """
    if float(record["morphology"]) >= CONTACT_MORPHOLOGY:
        return contact_from_eclipses(rng, record, t0, depth_scale)
    period = float(record["period"])
    radius_sum = min(
        np.pi * float(record["primary_width"]) * rng.uniform(1.0, 1.25), MAX_RADIUS_SUM
    )
    radius_ratio = rng.uniform(0.35, 1.0)
    radius_1 = radius_sum / (1 + radius_ratio)
    secondary_phase = float(record["secondary_phase"])
    e_cos = np.pi / 2 * (secondary_phase - 0.5) if np.isfinite(secondary_phase) else 0.0
    width_ratio = float(record["secondary_width"]) / float(record["primary_width"])
    e_sin = (width_ratio - 1) / (width_ratio + 1) if np.isfinite(width_ratio) else 0.0
    # Close binaries are circularised; keep the drawn eccentricity where the orbit
    # leaves room for the stars at periastron.
    eccentricity = float(np.hypot(e_cos, e_sin))
    eccentricity = min(eccentricity, max(0.0, 0.95 * (1 - radius_sum)))
    omega = float(np.degrees(np.arctan2(e_sin, e_cos))) if eccentricity > 0 else 90.0
    depth_ratio = float(record["depth_ratio"])
    surface_brightness = (
        float(np.clip(depth_ratio, 0.01, 1.0))
        if np.isfinite(depth_ratio)
        else rng.uniform(0.02, 1.0)
    )
    impact = rng.uniform(0.0, 0.85)
    cos_i = (
        impact * radius_sum * (1 + eccentricity * np.sin(np.radians(omega))) / (1 - eccentricity**2)
    )
    binary = Binary(
        period=period,
        t0=t0,
        radius_1=radius_1,
        radius_2=radius_ratio * radius_1,
        surface_brightness_ratio=surface_brightness,
        inclination=float(np.degrees(np.arccos(min(cos_i, 1.0)))),
        eccentricity=eccentricity,
        omega=omega,
        limb_darkening_1=(rng.uniform(0.2, 0.5), rng.uniform(0.1, 0.3)),
        limb_darkening_2=(rng.uniform(0.2, 0.6), rng.uniform(0.1, 0.3)),
        mass_ratio=radius_ratio ** rng.uniform(1.0, 1.5),
        gravity_darkening=rng.uniform(0.3, 0.6),
        albedo_1=rng.uniform(0.3, 0.7),
        albedo_2=rng.uniform(0.3, 0.7),
    )
    target = float(record["primary_depth"]) * depth_scale
    depth = eclipse_geometry(binary, samples=4000).primary_depth
    if depth > target > 0:
        # The depth is below the light just outside the eclipse.
        level = float(_model(binary, np.array([t0]), eclipses=False)[0])
        third_light = third_light_for_depth(level, level * (1 - depth), target)
        binary = replace(binary, third_light=third_light)
    return binary


def main(argv: Sequence[str] | None = None) -> int:
    """Write the packaged population (:data:`DEFAULT_POPULATION`) from the catalogues."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m ebscan.sim.eclipses", description=main.__doc__.splitlines()[0]
    )
    parser.add_argument("--catalogs", default="../shared/catalogs", help="like ../shared/catalogs")
    parser.add_argument(
        "--kepler-labels",
        nargs="*",
        default=[
            "../shared/data/tess-ffi-30min/labels.csv",
            "../shared/data/tess-ffi-30min-kepler/labels.csv",
        ],
        help="labels tables with kebc_period and kebc_morph",
    )
    parser.add_argument("--output", "-o", default=str(DEFAULT_POPULATION))
    args = parser.parse_args(argv)
    population = EclipsePopulation.from_catalogs(args.catalogs, args.kepler_labels)
    population.smoothed(DEFAULT_POPULATION_SIZE, DEFAULT_POPULATION_SEED).write(args.output)
    print(f"{args.output}: {DEFAULT_POPULATION_SIZE} systems smoothed from {population.source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
