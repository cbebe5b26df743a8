"""Readers and segmenting on the real shared light curves, checked by an independent route."""

from __future__ import annotations

import bz2
import gzip
import itertools
import lzma
import shutil

import numpy as np
import pytest
from astropy.io import fits

from ebscan.config import PreprocessConfig
from ebscan.errors import LightCurveError
from ebscan.lightcurves.io import LightCurve, read_lightcurve
from ebscan.lightcurves.preprocess import preprocess_file, preprocess_lightcurve
from ebscan.lightcurves.segments import cadence_minutes, good_cadences, split_segments

from conftest import CM_DRA_S24, TRUNCATED, require_shared

SPOC_FILES = [
    "tess2020106103520-s0024-0000000199574208-0180-s_lc.fits",
    "tess2018206045859-s0001-0000000261746657-0120-s_lc.fits",
    "tess2018263035959-s0003-0000000382067804-0123-s_lc.fits",
    "tess2023069172124-s0063-0000000350298314-0255-s_lc.fits",
    "tess2025071122000-s0090-0000000038846515-0287-s_lc.fits",
    "LATTE_tic55525572_lc.fits",
]


def astropy_segment_lengths(path, gap_days=0.75, min_points=2000, column="PDCSAP_FLUX"):
    """(index, length) of kept segments by astropy.io.fits and a plain loop over the cadences."""
    with fits.open(path) as hdul:
        data = hdul["LIGHTCURVE"].data
        time = np.array(data["TIME"], dtype=float)
        flux = np.array(data[column], dtype=float)
        quality = np.array(data["QUALITY"])
    keep = [
        i
        for i in range(len(time))
        if quality[i] == 0 and np.isfinite(flux[i]) and np.isfinite(time[i])
    ]
    lengths, current = [], 1
    for previous, this in itertools.pairwise(keep):
        if time[this] - time[previous] > gap_days:
            lengths.append(current)
            current = 1
        else:
            current += 1
    lengths.append(current)
    return [(i, n) for i, n in enumerate(lengths) if n >= min_points]


@pytest.mark.parametrize("name", SPOC_FILES)
def test_segments_match_independent_route(spoc_dir, name):
    path = spoc_dir / name
    time, flux = good_cadences(read_lightcurve(path))
    segments = split_segments(time, flux)
    assert [(s.index, s.n_points) for s in segments] == astropy_segment_lengths(path)
    for segment in segments:
        assert np.all(np.diff(segment.time) <= 0.75)


def test_cm_dra_header_and_segments(spoc_dir):
    lc = read_lightcurve(CM_DRA_S24)
    assert (lc.tic, lc.sector, lc.flux_column) == (199574208, 24, "PDCSAP_FLUX")
    assert lc.meta["tmag"] == pytest.approx(10.1645, abs=1e-4)
    result = preprocess_file(CM_DRA_S24)
    assert result.lc.shape == (2, 4000) and result.gls.shape == (2, 1000)
    assert result.lc.dtype == np.float32
    for vectors in (result.lc, result.gls):
        np.testing.assert_allclose(vectors.min(axis=1), 0.0)
        np.testing.assert_allclose(vectors.max(axis=1), 1.0)
    # Short stretches between the two orbits count in the index: segments 1 and 3.
    assert [(s["segment"], s["n_points"]) for s in result.segments] == astropy_segment_lengths(
        CM_DRA_S24
    )
    assert [s["segment"] for s in result.segments] == [1, 3]


def test_truncated_file_is_rejected_with_its_reason(spoc_dir):
    result = preprocess_file(require_shared(TRUNCATED))
    assert result.rejected
    assert (
        result.reject_reason
        == "truncated: HDU 1 ends at byte 2030400 but the file has 1998848 bytes"
    )
    with pytest.raises(LightCurveError) as info:
        read_lightcurve(TRUNCATED)
    assert str(info.value) == f"{TRUNCATED}: {result.reject_reason}"


def test_ffi_lightkurve_format_needs_no_option(ffi_dir):
    """The shortest segment is 2.78 days at every cadence: 134 cadences at 30 minutes."""
    path = ffi_dir / "229438906.fits"
    lc = read_lightcurve(path)
    assert (lc.tic, lc.sector, lc.flux_column) == (229438906, 15, "FLUX")
    ffi = preprocess_file(path)
    assert not ffi.rejected and ffi.cadence_minutes == 30.0
    assert [(s["segment"], s["n_points"]) for s in ffi.segments] == astropy_segment_lengths(
        path, min_points=134, column="FLUX"
    )
    fixed = preprocess_file(path, PreprocessConfig(min_points=2000))
    assert fixed.reject_reason.startswith(
        "no segment with at least 2000 good cadences (longest has "
    )


@pytest.mark.parametrize(
    "minutes, points", [(2, 2000), (200 / 60, 1200), (10, 400), (30, 134), (20 / 60, 12000)]
)
def test_the_shortest_segment_in_cadences_at_each_cadence(minutes, points):
    """At least 4000 minutes (2000 two-minute cadences) of cadences, whatever they are."""
    assert PreprocessConfig().min_points_at(minutes) == points
    assert points * minutes >= 4000 - 1e-9 and (points - 1) * minutes < 4000
    assert PreprocessConfig(min_points=300).min_points_at(minutes) == 300


def test_cadence_from_the_time_steps_is_timedel(spoc_dir, ffi_dir):
    """Every shared 2-minute file: the time steps give the cadence its header states."""
    checked = 0
    for path in sorted(spoc_dir.glob("tess*_lc.fits")):
        try:
            lc = read_lightcurve(path)
        except LightCurveError:
            continue  # the truncated file
        with fits.open(path) as hdul:
            timedel = hdul["LIGHTCURVE"].header["TIMEDEL"]
        assert cadence_minutes(lc.time) * 60 == round(timedel * 86400), path.name
        checked += 1
    assert checked >= 70
    minutes = {cadence_minutes(read_lightcurve(p).time) for p in ffi_dir.glob("*.fits")}
    assert minutes == {30.0}  # lightkurve-format files have no TIMEDEL


def test_a_short_light_curve_says_how_long_a_segment_must_be():
    def lightcurve(time):
        return LightCurve(
            time, np.ones(time.size), np.zeros(time.size, np.int32), 1, 14, "FLUX", {}
        )

    time = 1700 + np.arange(100) * 30 / 1440
    assert preprocess_lightcurve(lightcurve(time)).reject_reason == (
        "no segment with at least 134 good cadences (2.78 days at 30 min; longest has 100)"
    )
    one = np.array([1700.0, np.nan])
    assert preprocess_lightcurve(lightcurve(one)).reject_reason == (
        "no cadence from the time steps (nan min)"
    )


def _compressed(source, target, opener):
    with open(source, "rb") as plain, opener(target, "wb") as packed:
        shutil.copyfileobj(plain, packed)
    return target


@pytest.mark.parametrize("opener, suffix", [(gzip.open, ".fits.gz"), (bz2.open, ".fits.bz2")])
def test_compressed_files_read_like_plain_ones(spoc_dir, ffi_dir, tmp_path, opener, suffix):
    for source in (CM_DRA_S24, ffi_dir / "229438906.fits"):
        packed = _compressed(source, tmp_path / f"{source.stem}{suffix}", opener)
        plain, read = read_lightcurve(source), read_lightcurve(packed)
        np.testing.assert_array_equal(plain.flux, read.flux)
        assert (read.tic, read.sector) == (plain.tic, plain.sector)
        x, y = preprocess_file(source), preprocess_file(packed)
        assert y.reject_reason is None and y.segments == x.segments
        np.testing.assert_array_equal(y.lc, x.lc)
        np.testing.assert_array_equal(y.gls, x.gls)
    named = _compressed(CM_DRA_S24, tmp_path / "named.fits", opener)
    if opener is gzip.open:  # told by its first bytes: a gzip file named .fits is read too
        assert read_lightcurve(named).tic == 199574208
    else:  # CFITSIO reads bzip2 by the file's suffix only
        assert preprocess_file(named).reject_reason == (
            "bzip2-compressed without the .bz2 suffix CFITSIO needs to read it"
        )


def test_truncated_and_foreign_compressed_files_are_rejected(spoc_dir, tmp_path):
    packed = _compressed(CM_DRA_S24, tmp_path / "whole.fits.gz", gzip.open).read_bytes()
    cases = {
        "half.fits.gz": packed[: len(packed) // 2],
        # Only the 8-byte trailer (CRC, length) and a few bytes before it are missing:
        # CFITSIO alone reads every row of this one.
        "tail.fits.gz": packed[:-20],
        "crc.fits.gz": packed[:-8] + bytes(4) + packed[-4:],
        "xz.fits.xz": lzma.compress(CM_DRA_S24.read_bytes()),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    reasons = {name: preprocess_file(tmp_path / name).reject_reason for name in cases}
    assert reasons["half.fits.gz"] == "truncated: the gzip stream ends before its end marker"
    assert reasons["tail.fits.gz"] == "truncated: the gzip stream ends before its end marker"
    assert reasons["crc.fits.gz"].startswith("corrupt gzip file: CRC check failed")
    assert reasons["xz.fits.xz"] == "xz-compressed; ebscan reads plain, gzip and bzip2 FITS files"
    # A whole gzip stream of a file that was truncated before it was compressed.
    short = _compressed(require_shared(TRUNCATED), tmp_path / "short.fits.gz", gzip.open)
    assert preprocess_file(short).reject_reason == (
        "truncated: HDU 1 ends at byte 2030400 but the decompressed gzip data has 1998848 bytes"
    )


def _rewrite(source, target, edit):
    with fits.open(source) as hdul:
        edit(hdul)
        hdul.writeto(target)
    return target


def remove_lightcurve(hdul):
    del hdul["LIGHTCURVE"]


def drop_flux_columns(hdul):
    kept = [c for c in hdul["LIGHTCURVE"].columns if c.name != "PDCSAP_FLUX"]
    hdul["LIGHTCURVE"] = fits.BinTableHDU.from_columns(kept, name="LIGHTCURVE")


def nan_flux(hdul):
    hdul["LIGHTCURVE"].data["PDCSAP_FLUX"][:] = np.nan


def flag_everything(hdul):
    hdul["LIGHTCURVE"].data["QUALITY"][:] = 1


@pytest.mark.parametrize(
    "edit, reason",
    [
        (remove_lightcurve, "no LIGHTCURVE extension"),
        (drop_flux_columns, "no flux column (looked for PDCSAP_FLUX, FLUX)"),
        (nan_flux, "PDCSAP_FLUX is NaN everywhere"),
        (flag_everything, "no cadence with QUALITY == 0 and finite flux"),
    ],
)
def test_broken_files_get_specific_reasons(spoc_dir, tmp_path, edit, reason):
    path = _rewrite(CM_DRA_S24, tmp_path / "broken.fits", edit)
    assert preprocess_file(path).reject_reason == reason


def test_unsorted_and_duplicated_times(spoc_dir, tmp_path):
    def swap(hdul):
        t = hdul[1].data["TIME"]
        t[100], t[101] = t[101], t[100]

    def repeat(hdul):
        hdul[1].data["TIME"][101] = hdul[1].data["TIME"][100]

    assert preprocess_file(_rewrite(CM_DRA_S24, tmp_path / "a.fits", swap)).reject_reason == (
        "times not sorted"
    )
    assert preprocess_file(_rewrite(CM_DRA_S24, tmp_path / "b.fits", repeat)).reject_reason == (
        "duplicated times (1 repeats)"
    )


def test_empty_and_non_fits_files(tmp_path):
    empty = tmp_path / "empty.fits"
    empty.write_bytes(b"")
    text = tmp_path / "text.fits"
    text.write_text("<html>503 Service Unavailable</html>")
    assert preprocess_file(empty).reject_reason == "empty file (0 bytes)"
    assert preprocess_file(text).reject_reason == "not a FITS file"
    assert preprocess_file(tmp_path / "missing.fits").reject_reason == (
        "cannot open: No such file or directory"
    )


def test_reader_copes_with_copied_file_name(spoc_dir, tmp_path):
    # The TIC comes from the header, not the file name.
    copy = tmp_path / "renamed.fits"
    shutil.copy(CM_DRA_S24, copy)
    assert read_lightcurve(copy).tic == 199574208
