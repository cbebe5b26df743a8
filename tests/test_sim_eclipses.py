"""The EB model against independent formulas, and EB populations from the catalogues."""

from __future__ import annotations

import doctest
from dataclasses import replace

import numpy as np
import pytest

import ebscan.sim.eclipses
from ebscan.sim.eclipses import (
    ECLIPSE_FIELDS,
    Binary,
    EclipsePopulation,
    binary_flux,
    binary_from_eclipses,
    eclipse_geometry,
    secondary_time,
)


def occulted_by_grid(z: float, k: float, u1: float, u2: float, n: int = 2001) -> float:
    """Visible fraction of a quadratic limb-darkened star behind a disk of radius ``k``.

    The star's intensity summed on an n x n grid over its disk: an independent check of
    the analytic occultation batman computes.
    """
    x = np.linspace(-1, 1, n)
    xx, yy = np.meshgrid(x, x)
    r2 = xx**2 + yy**2
    mu = np.sqrt(np.clip(1 - r2, 0, 1))
    intensity = (1 - u1 * (1 - mu) - u2 * (1 - mu) ** 2) * (r2 <= 1)
    hidden = (xx - z) ** 2 + yy**2 <= k * k
    return 1 - (intensity * hidden).sum() / intensity.sum()


QUIET = {"albedo_1": 0.0, "albedo_2": 0.0}


@pytest.mark.parametrize(
    ("z", "k"),
    [(0.0, 0.5), (0.6, 0.5), (1.3, 0.5), (0.4, 1.5), (1.1, 1.5), (2.2, 1.5), (0.8, 1.0)],
)
def test_primary_depth_matches_a_direct_integration_over_the_disk(z, k):
    # Small stars (ellipsoidal variation ~1e-5): the depth is the eclipse alone.
    radius_1 = 0.02
    ld = (0.45, 0.2)
    binary = Binary(
        period=3.0,
        t0=0.0,
        radius_1=radius_1,
        radius_2=k * radius_1,
        surface_brightness_ratio=0.3,
        inclination=float(np.degrees(np.arccos(z * radius_1))),
        limb_darkening_1=ld,
        **QUIET,
    )
    share_1 = 1 / (1 + binary.luminosity_ratio)
    expected = share_1 * (1 - occulted_by_grid(z, k, *ld))
    assert eclipse_geometry(binary).primary_depth == pytest.approx(expected, abs=2e-4)


def test_secondary_eclipse_where_an_eccentric_orbit_puts_it():
    e, omega, incl = 0.2, 30.0, 88.0
    binary = Binary(3.0, 1.0, 0.08, 0.05, 0.5, incl, eccentricity=e, omega=omega)
    # Sterne (1940) to first order in e: phase = 0.5 + e cos(w) (1 + csc^2 i) / pi.
    sterne = 0.5 + e * np.cos(np.radians(omega)) * (1 + 1 / np.sin(np.radians(incl)) ** 2) / np.pi
    geometry = eclipse_geometry(binary)
    assert geometry.secondary_phase == pytest.approx(sterne, abs=2e-3)
    assert (secondary_time(binary) - 1.0) / 3.0 == pytest.approx(geometry.secondary_phase)
    # Durations scale with the orbital speed: ratio (1 + e sin w) / (1 - e sin w).
    e_sin = e * np.sin(np.radians(omega))
    ratio = geometry.secondary_width / geometry.primary_width
    assert ratio == pytest.approx((1 + e_sin) / (1 - e_sin), rel=0.03)


def test_third_light_dilutes_every_variation():
    binary = Binary(2.0, 0.0, 0.1, 0.07, 0.6, 87.0)
    time = np.linspace(-1, 1, 2001)
    diluted = binary_flux(replace(binary, third_light=0.4), time)
    np.testing.assert_allclose((diluted - 0.4) / 0.6, binary_flux(binary, time), rtol=1e-12)


def test_ellipsoidal_variation_follows_morris_and_naftilan():
    # No eclipse at i = 40 deg; no reflection: the light varies as cos(2 phi) only.
    r1, r2, q, incl, tau, ld = 0.25, 0.2, 0.6, 40.0, 0.4, (0.3, 0.2)
    binary = Binary(1.0, 0.0, r1, r2, 0.5, incl, limb_darkening_1=ld, limb_darkening_2=ld,
                    mass_ratio=q, gravity_darkening=tau, **QUIET)  # fmt: skip
    phase = np.linspace(0, 1, 401)
    flux = binary_flux(binary, phase)
    u = sum(ld)
    alpha = 0.15 * (15 + u) * (1 + tau) / (3 - u)
    sin2 = np.sin(np.radians(incl)) ** 2
    light_2 = binary.luminosity_ratio
    expected = 1 - alpha * sin2 * (q * r1**3 + light_2 * r2**3 / q) / (1 + light_2) * np.cos(
        4 * np.pi * phase
    )
    np.testing.assert_allclose(flux, expected, atol=1e-12)


def test_long_exposures_average_the_model_over_each_cadence():
    binary = Binary(1.5, 0.0, 0.06, 0.05, 0.8, 89.0)
    cadence = 30 / 1440
    time = np.arange(-0.2, 0.2, cadence)
    smeared = binary_flux(binary, time, exposure_days=cadence)
    fine = np.linspace(-0.5, 0.5, 601) * cadence
    integrated = np.array([binary_flux(binary, t + fine).mean() for t in time])
    np.testing.assert_allclose(smeared, integrated, atol=2e-4)
    # The smearing is real: the instantaneous minimum is deeper.
    assert binary_flux(binary, time).min() < smeared.min() - 0.01


def test_impossible_systems_are_refused():
    with pytest.raises(ValueError, match="the stars touch at periastron"):
        Binary(1.0, 0.0, 0.4, 0.35, 1.0, 90.0, eccentricity=0.3)
    with pytest.raises(ValueError, match="third_light must be in"):
        Binary(1.0, 0.0, 0.1, 0.1, 1.0, 90.0, third_light=1.0)


def test_doctests():
    assert doctest.testmod(ebscan.sim.eclipses).failed == 0


def record(**values: float) -> np.void:
    row = np.zeros(1, dtype=[(f, "f8") for f in ECLIPSE_FIELDS])
    for name, value in values.items():
        row[name] = value
    return row[0]


@pytest.mark.parametrize(
    ("width", "depth", "secondary_phase"),
    [(0.02, 0.05, 0.5), (0.05, 0.3, 0.55), (0.12, 0.1, 0.5), (0.01, 0.004, 0.47)],
)
def test_drawn_binaries_have_the_catalogued_eclipses(width, depth, secondary_phase):
    rng = np.random.default_rng(3)
    for _ in range(5):
        entry = record(
            period=2.5, morphology=0.3, primary_width=width, primary_depth=depth,
            depth_ratio=0.4, secondary_phase=secondary_phase, secondary_width=width,
        )  # fmt: skip
        binary = binary_from_eclipses(rng, entry, t0=10.0)
        geometry = eclipse_geometry(binary)
        assert binary.t0 == 10.0 and binary.period == 2.5
        # The radii come from the width (up to the drawn impact parameter), the
        # secondary's phase from e cos(omega).
        assert 0.6 * width < geometry.primary_width < 1.5 * width
        assert geometry.secondary_phase == pytest.approx(secondary_phase, abs=0.01)
        # Third light brings a deeper geometric eclipse down to the catalogued depth.
        if binary.third_light > 0:
            assert geometry.primary_depth == pytest.approx(depth, rel=1e-6)
        else:
            assert geometry.primary_depth <= depth


def test_depth_scale_reaches_shallow_eclipses():
    rng = np.random.default_rng(5)
    entry = record(
        period=4.0, morphology=0.2, primary_width=0.03, primary_depth=0.2, depth_ratio=0.5,
        secondary_phase=0.5, secondary_width=0.03,
    )  # fmt: skip
    binary = binary_from_eclipses(rng, entry, t0=0.0, depth_scale=0.01)
    assert eclipse_geometry(binary).primary_depth == pytest.approx(0.002, rel=1e-6)


@pytest.mark.shared
def test_population_from_the_shared_catalogues(catalogs_dir, ffi_kepler_dir):
    population = EclipsePopulation.from_catalogs(catalogs_dir, [ffi_kepler_dir / "labels.csv"])
    records = population.records
    kepler = len(population) - 4026
    # Prsa 2022 systems with a period, a morphology and a primary eclipse; every
    # Kepler EB of the labels table.
    assert population.source == (
        "Prsa et al. 2022 (4026 systems) + Kepler EB catalogue (252 systems)"
    )
    assert kepler == 252
    assert (records["period"] > 0).all() and (records["primary_depth"] < 1).all()
    assert np.median(records["period"][:4026]) == pytest.approx(2.2, rel=0.1)
    # Contact systems have wide eclipses, detached ones narrow.
    contact = records["morphology"] > 0.7
    assert np.median(records["primary_width"][contact]) > 4 * np.median(
        records["primary_width"][records["morphology"] < 0.3]
    )


@pytest.mark.shared
def test_population_leaves_out_the_stars_asked(catalogs_dir, ffi_kepler_dir):
    """A model's held-out stars: TIC 118313102 (Prsa: 9.2557270 d) and the Kepler EB
    TIC 26541137 (7.6316344 d, not in Prsa's catalogue) give no system."""
    labels = [ffi_kepler_dir / "labels.csv"]
    kept = EclipsePopulation.from_catalogs(catalogs_dir, labels).records["period"]
    left = EclipsePopulation.from_catalogs(catalogs_dir, labels, exclude_tics={118313102, 26541137})
    assert left.source == "Prsa et al. 2022 (4025 systems) + Kepler EB catalogue (251 systems)"
    for period in (9.2557270, 7.6316344):
        assert np.isclose(kept, period, rtol=1e-7).sum() == 1
        assert not np.isclose(left.records["period"], period, rtol=1e-7).any()


def half_orbit(depth_1: float, depth_2: float) -> tuple[float, ...]:
    """A smooth W UMa-like half orbit: minima of the given depths, maximum 1 at 0.25."""
    from ebscan.sim.eclipses import CONTACT_PHASES as PHASES

    weight = np.cos(2 * np.pi * PHASES) / 2 + 0.5  # 1 at phase 0, 0 at 0.5
    minimum = depth_1 * weight + depth_2 * (1 - weight)
    return tuple(1 - minimum * np.cos(2 * np.pi * PHASES) ** 2)


def test_contact_binary_interpolates_its_table_over_the_whole_orbit():
    from ebscan.sim.eclipses import CONTACT_PHASES as PHASES
    from ebscan.sim.eclipses import ContactBinary

    half = half_orbit(0.3, 0.25)
    contact = ContactBinary(period=0.4, t0=5.0, half_orbit=half)
    # At the tabulated phases, and mirrored in the second half orbit.
    np.testing.assert_allclose(binary_flux(contact, 5.0 + 0.4 * PHASES), half, atol=1e-12)
    np.testing.assert_allclose(binary_flux(contact, 5.0 + 0.4 * (1 - PHASES)), half, atol=1e-12)
    np.testing.assert_allclose(binary_flux(contact, 5.0 + 0.4 * (3 + PHASES)), half, atol=1e-12)
    geometry = eclipse_geometry(contact)
    assert (geometry.primary_depth, geometry.secondary_depth) == pytest.approx((0.3, 0.25))
    assert geometry.secondary_phase == 0.5
    # A spot makes the maxima unequal by ``oconnell``; third light dilutes everything.
    spotted = replace(contact, oconnell=0.02, third_light=0.5)
    quadratures = binary_flux(spotted, 5.0 + 0.4 * np.array([0.25, 0.75]))
    assert quadratures[0] - quadratures[1] == pytest.approx(0.5 * 0.02)
    assert eclipse_geometry(spotted).primary_depth == pytest.approx(0.5 * 0.3, rel=0.05)


def test_contact_systems_come_from_the_roche_library():
    from ebscan.sim.eclipses import ContactBinary, contact_curves

    curves = contact_curves()
    assert len(curves) >= 100 and curves.shape[1] == 51
    # Each curve is a half orbit from the deeper minimum to the shallower one, in units
    # of its maximum, rising then falling: no flat stretch between the eclipses.
    np.testing.assert_allclose(curves.max(axis=1), 1.0)
    assert (curves[:, 0] <= curves[:, -1]).all() and (curves[:, 0] < 0.999).all()
    peak = curves.argmax(axis=1)
    assert ((peak > 5) & (peak < 45)).all()
    entry = record(
        period=0.35, morphology=0.85, primary_width=0.2, primary_depth=0.12,
        depth_ratio=0.9, secondary_phase=0.5, secondary_width=0.2,
    )  # fmt: skip
    contact = binary_from_eclipses(np.random.default_rng(2), entry, t0=1.0)
    assert isinstance(contact, ContactBinary) and contact.period == 0.35
    geometry = eclipse_geometry(contact)
    assert geometry.primary_depth == pytest.approx(0.12, rel=0.05)
    assert geometry.secondary_depth / geometry.primary_depth == pytest.approx(0.9, abs=0.15)
