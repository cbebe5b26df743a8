"""Signals injected into real light curves keep the host's noise; binning; S/N."""

from __future__ import annotations

import numpy as np
import pytest

from ebscan.lightcurves.io import LightCurve, read_lightcurve
from ebscan.lightcurves.segments import cadence_minutes
from ebscan.sim.eclipses import Binary, binary_flux
from ebscan.sim.injection import (
    bin_lightcurve,
    inject,
    inject_signal,
    scatter,
    signal_to_noise,
)
from ebscan.sim.signals import SIGNALS

QUIET_30MIN = "1129237.fits"  # a NONVAR star of the Kepler field, sector 4
QUIET_2MIN = "tess2018206045859-s0001-0000000029829699-0120-s_lc.fits"  # unverified, sector 1


def hosts(spoc_dir, ffi_kepler_dir) -> list[LightCurve]:
    return [read_lightcurve(ffi_kepler_dir / QUIET_30MIN), read_lightcurve(spoc_dir / QUIET_2MIN)]


@pytest.mark.shared
def test_injection_keeps_the_hosts_noise_out_of_eclipse(spoc_dir, ffi_kepler_dir):
    for host in hosts(spoc_dir, ffi_kepler_dir):
        good = (host.quality == 0) & np.isfinite(host.flux) & np.isfinite(host.time)
        start = float(np.nanmin(host.time))
        binary = Binary(2.3, start + 1.0, 0.05, 0.04, 0.6, 89.5, albedo_1=0, albedo_2=0)
        model = np.ones_like(host.flux)
        model[good] = binary_flux(binary, host.time[good], cadence_minutes(host.time) / 1440)
        injected = inject(host, model, subtype="detached", period=2.3)
        # The host's cadences, flags and identity are untouched; only the flux changed.
        assert injected.time is host.time and injected.quality is host.quality
        assert (injected.tic, injected.sector) == (host.tic, host.sector)
        assert injected.meta["injected"] == {"subtype": "detached", "period": 2.3}
        assert injected.meta["path"] == host.meta["path"] + "#injected"
        outside = good & (np.abs(model - 1) < 1e-3)
        inside = good & (model < 0.99)
        assert inside.sum() > 10 and outside.sum() > 0.8 * good.sum()
        host_scatter = np.std(host.flux[outside] / np.median(host.flux[outside]))
        injected_scatter = np.std(injected.flux[outside] / np.median(injected.flux[outside]))
        assert injected_scatter == pytest.approx(host_scatter, rel=2e-3)
        # In eclipse the star is dimmer by the model, noise and all.
        np.testing.assert_allclose(injected.flux[good] / model[good], host.flux[good], rtol=1e-12)


@pytest.mark.shared
def test_every_signal_injects_with_its_label(spoc_dir, ffi_kepler_dir):
    host = hosts(spoc_dir, ffi_kepler_dir)[0]
    for subtype, (label, _) in SIGNALS.items():
        rng = np.random.default_rng(11)
        injected, relative = inject_signal(rng, host, subtype)
        assert injected.meta["injected"]["label"] == label
        assert relative.shape == host.flux.shape
        assert np.isfinite(relative).all() and (relative > 0).all()
        if subtype != "quiet":
            assert np.ptp(relative) > 1e-5, subtype
    # The same seed draws the same system.
    first = inject_signal(np.random.default_rng(4), host, "detached")[1]
    np.testing.assert_array_equal(
        first, inject_signal(np.random.default_rng(4), host, "detached")[1]
    )


def white_light_curve(cadence: float, sigma: float, days: float = 10.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    time = 1500 + np.arange(0, days, cadence / 1440)
    flux = 1000 * (1 + rng.normal(0, sigma, time.size))
    return LightCurve(time, flux, np.zeros(time.size, dtype=np.int32), 1, 1, "FLUX", {"path": "x"})


def test_scatter_is_the_white_noise_under_slow_variability():
    lc = white_light_curve(2, 1e-3)
    assert scatter(lc.time, lc.flux) == pytest.approx(1e-3, rel=0.05)
    # A 5% rotation signal with a 3-day period hides no eclipse: it does not count.
    spotted = lc.flux * (1 + 0.05 * np.sin(2 * np.pi * lc.time / 3.0))
    assert scatter(lc.time, spotted) == pytest.approx(1e-3, rel=0.05)
    # Pulsations faster than the window do.
    pulsating = lc.flux * (1 + 0.01 * np.sin(2 * np.pi * lc.time * 20))
    assert scatter(lc.time, pulsating) > 5e-3


def test_signal_to_noise_of_a_box():
    relative = np.ones(1000)
    relative[:25] = 0.99  # 25 cadences 1% deep
    assert signal_to_noise(relative, noise=1e-3) == pytest.approx(0.01 * 5 / 1e-3)


def test_binning_to_full_frame_cadences():
    lc = white_light_curve(2, 1e-3, days=20.0)
    lc.quality[100:110] = 1  # flagged cadences are left out of their bins
    binned = bin_lightcurve(lc, 30)
    assert cadence_minutes(binned.time) == 30
    assert binned.meta["binned_minutes"] == 30 and binned.meta["path"] == "x#binned30"
    # 15 two-minute cadences a bin: the noise falls by sqrt(15).
    relative = binned.flux / np.median(binned.flux)
    assert np.std(relative) == pytest.approx(1e-3 / np.sqrt(15), rel=0.1)
    first = (lc.time < lc.time[0] + 30 / 1440) & (lc.quality == 0)
    assert binned.flux[0] == pytest.approx(lc.flux[first].mean())
    assert binned.time[0] == pytest.approx(lc.time[0] + 15 / 1440)
    # A bin with fewer than half its cadences good is dropped.
    lc.quality[:10] = 1
    assert bin_lightcurve(lc, 30).time[0] == pytest.approx(binned.time[1])
