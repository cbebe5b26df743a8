"""Every GLS method against astropy's slow Lomb-Scargle, and fast against direct on real data."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.timeseries import LombScargle

from ebscan.lightcurves.io import read_lightcurve
from ebscan.lightcurves.periodogram import METHODS, calnet_period_grid, gls
from ebscan.lightcurves.resample import clip_top, minmax
from ebscan.lightcurves.segments import good_cadences, split_segments

# The direct sum is exact to round-off; finufft to its tolerance (1e-7 relative
# to the sum of |weights|), which leaves raw powers within a few 1e-7.
ATOL = {"direct": 1e-10, "finufft": 1e-6}


def astropy_slow(time, flux, period):
    model = LombScargle(time, flux, fit_mean=True, center_data=True)
    return model.power(1.0 / period, method="slow")


def test_calnet_period_grid_matches_reference_code():
    grid = calnet_period_grid()
    assert grid.shape == (1000,)
    assert np.all(np.diff(grid) > 0)
    np.testing.assert_allclose(grid[0], 10 ** (-3 + 4 * 125 / 1124))
    assert grid[0] == pytest.approx(0.0027851, rel=1e-4)
    assert grid[-1] == 10.0
    np.testing.assert_allclose(np.diff(np.log10(grid)), 4 / 1124)


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("seed, n", [(0, 300), (1, 2000), (2, 5000)])
def test_method_matches_astropy_slow(method, seed, n):
    rng = np.random.default_rng(seed)
    time = np.sort(rng.uniform(1300.0, 1313.0, n))
    flux = 1000.0 + 5.0 * np.sin(2 * np.pi * time / rng.uniform(0.3, 5.0)) + rng.normal(0.0, 3.0, n)
    period = np.sort(rng.uniform(0.003, 10.0, 200))
    expected = astropy_slow(time, flux, period)
    np.testing.assert_allclose(gls(time, flux, period, method), expected, rtol=0, atol=ATOL[method])


@pytest.mark.parametrize("method", sorted(METHODS))
def test_method_matches_astropy_on_calnet_grid(method):
    rng = np.random.default_rng(7)
    time = np.sort(rng.uniform(0.0, 12.0, 1500))
    flux = rng.normal(size=time.size)
    period = calnet_period_grid()
    np.testing.assert_allclose(
        gls(time, flux, period, method), astropy_slow(time, flux, period), rtol=0, atol=ATOL[method]
    )


def test_unknown_method_is_named():
    with pytest.raises(
        ValueError, match=r"unknown GLS method 'fft'; choose from \['direct', 'finufft'\]"
    ):
        gls(np.arange(10.0), np.arange(10.0), np.array([1.0]), "fft")


def real_segments(spoc_dir, names):
    for name in names:
        time, flux = good_cadences(read_lightcurve(spoc_dir / name))
        for segment in split_segments(time, flux):
            yield clip_top(segment.time, segment.flux)


def test_finufft_matches_direct_on_real_segments(spoc_dir):
    names = [
        "tess2020106103520-s0024-0000000199574208-0180-s_lc.fits",  # CM Dra
        "tess2018263035959-s0003-0000000382067804-0123-s_lc.fits",  # long-period EB
        "tess2020186164531-s0027-0000000038846515-0189-s_lc.fits",  # planet host
        "tess2019357164649-s0020-0000000461654150-0165-s_lc.fits",  # flaring M dwarf
        "tess2018206045859-s0001-0000000031740375-0120-s_lc.fits",  # flares
    ]
    period = calnet_period_grid()
    n_checked = 0
    for time, flux in real_segments(spoc_dir, names):
        fast = minmax(gls(time, flux, period, "finufft"))
        exact = minmax(gls(time, flux, period, "direct"))
        assert np.abs(fast - exact).max() < 1e-6
        n_checked += 1
    assert n_checked >= 9
