"""The folded view: its period, its shape, and the same inputs from a shard and a file."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from ebscan.config import PreprocessConfig
from ebscan.errors import InputError
from ebscan.lightcurves.fold import (
    FOLD_BINS,
    FOLD_INPUT,
    fold_view,
    model_inputs,
    peak_period,
)
from ebscan.lightcurves.periodogram import calnet_period_grid, gls
from ebscan.lightcurves.preprocess import preprocess_file
from ebscan.lightcurves.shards import ShardWriter, shard_inputs, shard_rows_inputs

from conftest import CM_DRA_S24

GRID = calnet_period_grid()
SPAN = 13.0
THIRTY_MINUTES = 30 / 1440


def _peaks_at(*periods_and_heights) -> np.ndarray:
    power = np.zeros(GRID.size)
    for period, height in periods_and_heights:
        power[np.argmin(np.abs(GRID - period))] = height
    return power


def test_peak_period_passes_over_aliases_and_periods_longer_than_half_the_span():
    power = _peaks_at((0.05, 1.0), (8.0, 0.9), (1.3, 0.5))
    # 0.05 d is 2.4 thirty-minute cadences (an alias); 8 d is more than half of 13 d.
    assert peak_period(power, GRID, SPAN, THIRTY_MINUTES) == pytest.approx(1.3, rel=0.01)
    # At 2 minutes 0.05 d is 36 cadences: a real peak.
    assert peak_period(power, GRID, SPAN, 2 / 1440) == pytest.approx(0.05, rel=0.01)
    # An unknown cadence (a shard of format 2) passes over 0.04 d and less only.
    assert peak_period(power, GRID, SPAN, np.nan) == pytest.approx(0.05, rel=0.01)
    # A span too short for two cycles of any trial period: the longest within it.
    assert peak_period(power, GRID, 0.01, THIRTY_MINUTES) == GRID[GRID <= 0.01].max()


def _binary(time, period, primary, secondary, noise, rng):
    phase = (time / period) % 1.0
    flux = 1.0 - primary * np.exp(-0.5 * ((phase - 0.2) / 0.015) ** 2)
    flux -= secondary * np.exp(-0.5 * ((phase - 0.7) / 0.015) ** 2)
    return flux + noise * rng.standard_normal(time.size)


def test_a_binary_folds_on_its_orbit_with_the_secondary_half_an_orbit_later():
    rng = np.random.default_rng(3)
    time = np.linspace(0.0, SPAN, 4000)
    flux = _binary(time, 2.1, 0.3, 0.12, 0.01, rng)
    view = fold_view(flux, gls(time, flux, GRID), GRID, SPAN, 2 / 1440)
    assert view.shape == (FOLD_BINS, 4) and view.dtype == np.float32
    at_orbit = view[:, 0]
    assert np.argmin(at_orbit) == FOLD_BINS // 4
    # The secondary, 0.4 as deep as the primary, sits three quarters of the way.
    secondary = 3 * FOLD_BINS // 4
    assert 1 - at_orbit[secondary - 2 : secondary + 3].min() == pytest.approx(0.4, abs=0.08)
    # Out of eclipse every cycle agrees: the bins' spread is the noise, 1/30 of the range.
    quiet = np.r_[FOLD_BINS // 2 - 8 : FOLD_BINS // 2 + 8]
    assert np.median(view[quiet, 1]) == pytest.approx(0.01 / 0.3, rel=0.3)


def test_noise_alone_spreads_each_bin_over_much_of_the_fold():
    rng = np.random.default_rng(4)
    time = np.linspace(0.0, SPAN, 4000)
    flux = rng.standard_normal(time.size)
    view = fold_view(flux, gls(time, flux, GRID), GRID, SPAN, THIRTY_MINUTES)
    # Bins of about 30 points: their means span a few sigma / sqrt(30), their spread is
    # one sigma, so the spread is larger than the fold's range.
    assert np.median(view[:, 1]) > 0.8 and np.median(view[:, 3]) > 0.8


def test_a_fold_finer_than_the_data_fills_its_empty_bins():
    time = np.linspace(0.0, 3.0, 200)
    flux = np.sin(2 * np.pi * time / 0.3)
    view = fold_view(flux, _peaks_at((0.15, 1.0)), GRID, 3.0, np.nan)
    assert np.isfinite(view).all() and view[:, 0].min() == 0.0 and view[:, 0].max() == 1.0


def test_model_inputs_add_a_channel_axis_and_fold_each_segment():
    rng = np.random.default_rng(5)
    lc = rng.random((3, 4000)).astype(np.float32)
    power = rng.random((3, GRID.size)).astype(np.float32)
    spans, cadences = np.array([10.0, 12.0, 3.0]), np.full(3, THIRTY_MINUTES)
    inputs = model_inputs(["lc", "gls", FOLD_INPUT], lc, power, GRID, spans, cadences)
    np.testing.assert_array_equal(inputs["lc"][..., 0], lc)
    np.testing.assert_array_equal(inputs["gls"][..., 0], power)
    assert inputs[FOLD_INPUT].shape == (3, FOLD_BINS, 4)
    np.testing.assert_array_equal(
        inputs[FOLD_INPUT][2], fold_view(lc[2], power[2], GRID, 3.0, THIRTY_MINUTES)
    )
    assert list(model_inputs(["gls"], None, power)) == ["gls"]
    empty = model_inputs([FOLD_INPUT], lc[:0], power[:0], GRID, spans[:0], cadences[:0])
    assert empty[FOLD_INPUT].shape == (0, FOLD_BINS, 4)


def test_a_shard_gives_the_inputs_its_light_curve_gave(spoc_dir, tmp_path):
    result = preprocess_file(CM_DRA_S24)
    with ShardWriter(tmp_path / "s.h5", PreprocessConfig(), GRID) as writer:
        writer.add(result)
    names = ["lc", "gls", FOLD_INPUT]
    spans = np.array([s["t_end"] - s["t_start"] for s in result.segments])
    expected = model_inputs(
        names, result.lc, result.gls, GRID, spans, np.full(spans.size, 2 / 1440)
    )
    with h5py.File(tmp_path / "s.h5") as shard:
        whole = shard_inputs(names, shard, slice(0, None))
        one_by_one = shard_rows_inputs(names, [(shard, 1), (shard, 0), (shard, 1)])
    for name in names:
        np.testing.assert_array_equal(whole[name], expected[name])
        np.testing.assert_array_equal(one_by_one[name], expected[name][[1, 0, 1]])


def test_a_shard_without_gls_vectors_is_named_for_a_model_that_folds(spoc_dir, tmp_path):
    with ShardWriter(tmp_path / "s.h5", PreprocessConfig(), None) as writer:
        writer.add(preprocess_file(CM_DRA_S24, with_gls=False))
    with h5py.File(tmp_path / "s.h5") as shard:
        assert shard_inputs(["lc"], shard, slice(0, None))["lc"].shape == (2, 4000, 1)
        with pytest.raises(InputError) as raised:
            shard_inputs(["lc", "gls", FOLD_INPUT], shard, slice(0, None))
    assert str(raised.value) == (
        f"{tmp_path / 's.h5'}: no gls, gls_period in the shard, which the model needs "
        "(a shard made without GLS vectors gets them from `ebscan gls`)"
    )


def test_a_shard_of_format_2_folds_at_its_mean_cadence(spoc_dir, tmp_path):
    """A shard of format 2 records no cadence; its segments' mean step stands in, so a
    30-minute segment's periodogram peak at 0.05 d (2.4 cadences) stays an alias."""
    from test_lightcurves_shards import as_format_2

    from ebscan.lightcurves.io import read_lightcurve
    from ebscan.lightcurves.preprocess import preprocess_lightcurve
    from ebscan.sim.injection import bin_lightcurve

    result = preprocess_lightcurve(bin_lightcurve(read_lightcurve(CM_DRA_S24), 30))
    assert result.cadence_minutes == 30
    with ShardWriter(tmp_path / "s.h5", PreprocessConfig(), GRID) as writer:
        writer.add(result)
    with h5py.File(tmp_path / "s.h5", "r+") as shard:
        shard["gls"][...] = _peaks_at((0.05, 1.0), (0.63, 0.5))
    as_format_2(tmp_path / "s.h5", tmp_path / "old.h5")
    names = ["lc", "gls", FOLD_INPUT]
    with h5py.File(tmp_path / "s.h5") as new, h5py.File(tmp_path / "old.h5") as old:
        assert "cadence_minutes" not in old["segments"].dtype.names
        current = shard_inputs(names, new, slice(0, None))
        recovered = shard_inputs(names, old, slice(0, None))
    np.testing.assert_array_equal(recovered[FOLD_INPUT], current[FOLD_INPUT])
    # With no cadence at all the view would fold at the alias.
    span = result.segments[0]["t_end"] - result.segments[0]["t_start"]
    power = _peaks_at((0.05, 1.0), (0.63, 0.5))
    assert peak_period(power, GRID, span, np.nan) == pytest.approx(0.05, rel=0.01)
    assert not np.array_equal(
        fold_view(result.lc[0], power, GRID, span, np.nan), current[FOLD_INPUT][0]
    )
