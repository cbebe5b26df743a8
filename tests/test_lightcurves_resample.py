"""Top clipping and the resampling modes."""

from __future__ import annotations

import numpy as np
import pytest

from ebscan.errors import LightCurveError
from ebscan.lightcurves.resample import (
    clip_top,
    resample,
    resample_adaptive,
    resample_binned,
    resample_calnet_code,
    resample_paper,
)


def eclipsing(time, period=1.3, depth=0.2, width=0.06):
    """Unit flux with Gaussian-shaped primary (depth) and secondary (depth/2) eclipses."""
    phase = (time / period + 0.5) % 1.0 - 0.5
    secondary = (time / period) % 1.0 - 0.5
    return (
        1.0
        - depth * np.exp(-0.5 * (phase * period / (width / 2.355)) ** 2)
        - 0.5 * depth * np.exp(-0.5 * (secondary * period / (width / 2.355)) ** 2)
    )


def affine_rms(output, truth):
    """RMS after the best affine match, in units of the truth's range, and the match."""
    design = np.column_stack([output, np.ones_like(output)])
    coef, *_ = np.linalg.lstsq(design, truth, rcond=None)
    fitted = design @ coef
    return np.sqrt(np.mean((fitted - truth) ** 2)) / np.ptp(truth), fitted


def test_clip_top_drops_brightest_percent_only():
    rng = np.random.default_rng(3)
    flux = rng.normal(size=10_000)
    time = np.arange(flux.size, dtype=float)
    kept_time, kept_flux = clip_top(time, flux)
    assert kept_flux.size == 9_900
    assert kept_flux.min() == flux.min()  # the faintest (eclipse) points stay
    assert kept_flux.max() < np.percentile(flux, 99)
    np.testing.assert_array_equal(kept_time, time[flux < np.percentile(flux, 99)])


def test_paper_mode_averages_noise_and_keeps_eclipses():
    rng = np.random.default_rng(11)
    time = np.arange(0.0, 13.0, 2.0 / 1440)
    truth = eclipsing(time)
    noisy = truth + rng.normal(0.0, 0.005, time.size)
    truth = eclipsing(np.linspace(time[0], time[-1], 4000))
    paper = resample_paper(time, noisy)
    code = resample_calnet_code(time, noisy)
    assert paper.shape == code.shape == (4000,)
    paper_error, paper_fit = affine_rms(paper, truth)
    code_error, _ = affine_rms(code, truth)
    assert paper_error < 0.02  # in units of the eclipse depth
    assert code_error > 2 * paper_error  # the interpolant keeps the noise point for point
    lowest = np.argmin(truth)
    assert (1 - paper_fit[lowest]) / (1 - truth[lowest]) == pytest.approx(1.0, abs=0.02)


def test_calnet_code_mode_interpolates_data_points():
    time = np.linspace(0.0, 10.0, 4000)
    flux = np.sin(time) + 0.01 * np.cos(37 * time)
    out = resample_calnet_code(time, flux, 4000)
    np.testing.assert_allclose(out, (flux - flux.min()) / np.ptp(flux), atol=1e-9)


def test_paper_mode_across_internal_gaps_and_coarse_cadence():
    # 30-minute cadence is coarser than the knot spacing; a 0.6 d hole mid-segment.
    time = np.arange(0.0, 12.0, 30.0 / 1440)
    time = time[(time < 5.0) | (time > 5.6)]
    out = resample_paper(time, eclipsing(time), knot_spacing_days=0.02)
    assert np.isfinite(out).all() and out.min() == 0.0 and out.max() == 1.0


def test_binned_mode_is_the_mean_of_each_grid_bin():
    from scipy.stats import binned_statistic

    rng = np.random.default_rng(5)
    time = np.arange(0.0, 13.0, 2.0 / 1440)
    time = time[(time < 6.0) | (time > 6.3)]  # a gap of 0.3 d: empty bins
    flux = eclipsing(time) + rng.normal(0.0, 0.005, time.size)
    out = resample_binned(time, flux)
    grid = np.linspace(time[0], time[-1], 4000)
    step = grid[1] - grid[0]
    edges = np.concatenate([grid - step / 2, [grid[-1] + step / 2]])
    means, _, _ = binned_statistic(time, flux, "mean", bins=edges)
    filled = np.isfinite(means)
    expected = np.interp(grid, grid[filled], means[filled])
    np.testing.assert_allclose(out, (expected - expected.min()) / np.ptp(expected), atol=1e-12)
    # The comparison covers empty bins: the gap's 93 (0.3 d of 4.7-minute bins).
    assert (~filled).sum() == 93 and np.all((grid[~filled] > 6.0) & (grid[~filled] < 6.3))


def test_binned_mode_keeps_a_deep_narrow_eclipse_without_ringing():
    # CM Dra-like: 45% deep, one-hour eclipses every 0.63 d at 2 minutes, no noise.
    time = np.arange(0.0, 13.0, 2.0 / 1440)
    flux = eclipsing(time, period=0.63, depth=0.45, width=0.02)
    binned = resample_binned(time, flux)
    smooth = resample_adaptive(time, flux)
    grid = np.linspace(time[0], time[-1], 4000)
    truth = eclipsing(grid, period=0.63, depth=0.45, width=0.02)
    truth = (truth - truth.min()) / np.ptp(truth)
    # The bins hold the eclipses to a third of a percent of the depth ...
    assert affine_rms(binned, truth)[0] < 0.004
    # ... which the least-squares spline with 0.02-day knots fills in and rings around
    # (docs/preprocessing.md quotes the ratio).
    assert affine_rms(smooth, truth)[0] > 25 * affine_rms(binned, truth)[0]


def test_binned_mode_interpolates_where_the_cadences_are_fewer_than_the_grid():
    # 30 minutes: 576 cadences for 4000 grid points.
    time = np.arange(0.0, 12.0, 30.0 / 1440)
    flux = eclipsing(time)
    np.testing.assert_array_equal(resample_binned(time, flux), resample_calnet_code(time, flux))
    # 2 minutes: a 5.5-day segment has fewer cadences than grid points, a 5.6-day one more.
    for days, interpolated in ((5.5, True), (5.6, False)):
        time = np.arange(0.0, days, 2.0 / 1440)
        flux = eclipsing(time)
        same = np.array_equal(resample_binned(time, flux), resample_calnet_code(time, flux))
        assert same == interpolated


def test_constant_segment_is_a_named_error():
    time = np.linspace(0.0, 5.0, 3000)
    with pytest.raises(LightCurveError, match=r"^x.fits: flux is constant$"):
        resample(time, np.ones_like(time), path="x.fits")


def test_unknown_mode_is_named():
    with pytest.raises(ValueError, match=r"unknown spline mode 'akima'"):
        resample(np.arange(10.0), np.arange(10.0), mode="akima")
