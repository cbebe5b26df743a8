"""The notebook API: ebscan.score and ebscan.preprocess on files and lightkurve objects,
against what the command line computes from the same files."""

from __future__ import annotations

import csv
import subprocess
import sys
import warnings

import numpy as np
import pytest
from astropy.time import Time
from astropy.utils.masked import Masked

import ebscan
from ebscan.cli import main
from ebscan.lightcurves.shards import read_shard
from ebscan.notebook import RejectedLightCurveWarning, from_lightkurve
from ebscan.paths import resolved

from conftest import CM_DRA_S24, SPOC, TRUNCATED

lk = pytest.importorskip("lightkurve")

#: A star with nothing to show in sector 1 and a known EB of sector 1 (P = 1.317 d).
QUIET_S1 = SPOC / "tess2018206045859-s0001-0000000029829699-0120-s_lc.fits"
EB_S1 = SPOC / "tess2018206045859-s0001-0000000261746657-0120-s_lc.fits"


def read_csv(path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def cli_scores(files, tmp_path) -> list[dict]:
    """``ebscan score FILE...``'s rows, with absolute file names and float scores."""
    output = tmp_path / "cli" / "scores.csv"
    assert main(["score", *map(str, files), "-o", str(output)]) == 0
    return [
        {**row, "file": resolved(row["file"], output), "score": float(row["score"])}
        for row in read_csv(output)
    ]


def test_lightkurve_read_scores_as_the_cli_does(spoc_dir, tmp_path):
    """Must show: a shared real EB read with lightkurve.read gets, through ebscan.score,
    the score that `ebscan score` gives the file."""
    expected = cli_scores([CM_DRA_S24], tmp_path)
    assert [row["segment"] for row in expected] == ["1", "3"]
    lc = lk.read(CM_DRA_S24)
    table = ebscan.score(lc)
    assert table.colnames == [
        "file", "tic", "sector", "segment", "t_start", "t_end", "n_points", "score",
    ]  # fmt: skip
    assert list(table["tic"]) == [199574208, 199574208]
    assert list(table["sector"]) == [24, 24]
    assert list(table["segment"]) == [1, 3]
    assert list(table["n_points"]) == [int(row["n_points"]) for row in expected]
    assert list(table["score"]) == [row["score"] for row in expected]
    np.testing.assert_array_equal(table["t_start"], [float(r["t_start"]) for r in expected])
    assert table.meta["model"].endswith("model.onnx")
    assert table.meta["engine"] == "onnxruntime"
    # The file itself, and a list of files, score the same way.
    by_path = ebscan.score(str(CM_DRA_S24))
    assert list(by_path["score"]) == list(table["score"])
    assert list(by_path["file"]) == [str(CM_DRA_S24)] * 2


def test_preprocess_gives_the_vectors_of_a_shard(spoc_dir, tmp_path):
    shard = tmp_path / "s.h5"
    assert main(["preprocess", str(CM_DRA_S24), str(EB_S1), "-o", str(shard)]) == 0
    expected = read_shard(shard)
    vectors = ebscan.preprocess(lk.LightCurveCollection([lk.read(CM_DRA_S24), lk.read(EB_S1)]))
    assert vectors["lc"].dtype == np.float32 and vectors["gls"].dtype == np.float32
    np.testing.assert_array_equal(vectors["lc"], expected["lc"])
    np.testing.assert_array_equal(vectors["gls"], expected["gls"])
    np.testing.assert_array_equal(vectors.meta["gls_period"], expected["gls_period"])
    assert list(vectors["segment"]) == list(expected["segments"]["segment"])
    assert list(vectors["tic"]) == [199574208, 199574208, 261746657, 261746657]
    # The paper's 2000 two-minute cadences, as days at every cadence.
    assert vectors.meta["config"]["min_segment_days"] == pytest.approx(2000 * 2 / 1440)
    assert vectors.meta["config"]["min_points"] == "auto"
    assert len(vectors.meta["rejected"]) == 0


def test_known_eb_scores_above_a_quiet_star(spoc_dir):
    stars = ebscan.score([QUIET_S1, EB_S1, CM_DRA_S24], per="star")
    # The two known EBs first, in either order.
    assert set(stars["tic"][:2]) == {261746657, 199574208} and stars["tic"][2] == 29829699
    segments = ebscan.score([QUIET_S1, EB_S1, CM_DRA_S24])
    for star in stars:
        mine = segments[segments["tic"] == star["tic"]]
        assert star["n_segments"] == len(mine)
        assert star["max_score"] == mine["score"].max()
        assert star["mean_score"] == pytest.approx(mine["score"].mean())
        best = mine[np.argmax(mine["score"])]
        assert (star["best_sector"], star["best_segment"]) == (best["sector"], best["segment"])
        assert star["n_light_curves"] == 1 and star["n_rejected"] == 0
    assert stars["sectors"][list(stars["tic"]).index(199574208)] == "24"
    # Each star carries the catalog's ephemeris: CM Dra's period (Prsa 2022: 1.2684 d)
    # within 1%, its eclipses in ppt; the quiet star has none.
    cm_dra = stars[list(stars["tic"]).index(199574208)]
    assert cm_dra["period"] == pytest.approx(1.2684, rel=0.01)
    assert cm_dra["primary_depth"] > 100 and stars["period"].dtype.kind == "f"
    assert np.isnan(stars["period"][2])


def test_rejected_light_curves_warn_and_are_listed(spoc_dir):
    good = lk.read(CM_DRA_S24)
    short = good[:1500]  # fewer good cadences than a segment needs
    kept = (short["quality"] == 0) & np.isfinite(short.flux.filled(np.nan).value)
    gaps = np.flatnonzero(np.diff(short.time.value[kept]) > 0.75)
    longest = np.diff([0, *(gaps + 1), kept.sum()]).max()
    with pytest.warns(RejectedLightCurveWarning) as caught:
        table = ebscan.score([TRUNCATED, short, good])
    messages = [str(w.message) for w in caught]
    assert {w.filename for w in caught} == {__file__}  # the warnings point at the caller
    assert messages[0].startswith(f"{TRUNCATED}: truncated: HDU 1 ends at byte ")
    assert messages[1] == (
        f"{CM_DRA_S24}: no segment with at least 2000 good cadences "
        f"(2.78 days at 2 min; longest has {longest})"
    )
    assert set(table["segment"]) == {1, 3}
    files = table.meta["light_curves"]
    assert list(files["n_segments"]) == [0, 0, 2]
    assert files["reason"][0].startswith("truncated: ")
    assert np.isnan(files["max_score"][0]) and files["max_score"][2] == table["score"].max()
    with pytest.warns(RejectedLightCurveWarning):
        stars = ebscan.score([short, good], per="star")
    assert list(stars["n_light_curves"]) == [2] and list(stars["n_rejected"]) == [1]
    with pytest.warns(RejectedLightCurveWarning) as caught:
        nothing = ebscan.preprocess(short)
    assert caught[0].filename == __file__
    assert len(nothing) == 0 and nothing["lc"].shape == (0, 4000)
    assert list(nothing.meta["rejected"]["reason"]) == [
        f"no segment with at least 2000 good cadences (2.78 days at 2 min; longest has {longest})"
    ]


def test_what_cannot_be_scored_is_said():
    with pytest.raises(TypeError, match=r"^cannot preprocess an object of type int: give a "):
        ebscan.score(42)
    with pytest.raises(TypeError, match=r"^nothing to score: give light curves or tic=$"):
        ebscan.score()
    with pytest.raises(ValueError, match=r"^per must be one of \('segment', 'star'\), not 'tic'$"):
        ebscan.score([], per="tic")


def test_lightkurve_light_curves_in_memory():
    rng = np.random.default_rng(3)
    t = np.arange(1400.0, 1410.0, 2 / 1440)
    flux = rng.normal(1000.0, 1.0, t.size)
    flux[5] = np.nan
    quality = np.zeros(t.size, dtype=np.int32)
    quality[7] = 128
    lc = lk.LightCurve(time=Time(t, format="btjd"), flux=flux, quality=quality)
    lc.meta.update(TICID=7, SECTOR=9, RA_OBJ=12.5, TESSMAG=9.1)
    converted = from_lightkurve(lc)
    assert (converted.tic, converted.sector, converted.flux_column) == (7, 9, "FLUX")
    np.testing.assert_array_equal(converted.time, t)
    assert np.isnan(converted.flux[5]) and converted.quality[7] == 128
    assert converted.meta == {"path": "<memory>", "ra": 12.5, "tmag": 9.1}
    # Other astropy time formats become BTJD; JD stays JD (days either way).
    isot = Time(Time(t + 2457000.0, format="jd", scale="tdb").isot, format="isot", scale="tdb")
    iso = lk.LightCurve(time=isot, flux=flux)
    np.testing.assert_allclose(from_lightkurve(iso).time, t, atol=1e-8)
    bare = from_lightkurve(lk.LightCurve(time=t, flux=flux))
    assert (bare.tic, bare.sector) == (-1, -1) and bare.quality.sum() == 0
    # A masked flux (lightkurve's after some operations) reads as NaN.
    masked = lc.copy()
    masked.flux = Masked(lc.flux, mask=np.arange(t.size) == 3)
    assert np.isnan(from_lightkurve(masked).flux[3])
    vectors = ebscan.preprocess(lc)
    assert list(vectors["n_points"]) == [t.size - 2]


def test_import_ebscan_is_light_and_keeps_its_functions():
    code = (
        "import sys, ebscan\n"
        "print(sorted(m for m in ('numpy', 'scipy', 'astropy', 'tensorflow') "
        "if m in sys.modules))\n"
        "import ebscan.lightcurves.preprocess\n"
        "print(ebscan.preprocess.__module__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # `import ebscan` (so the command line) imports nothing heavy; the preprocessing
    # module (ebscan.lightcurves.preprocess) leaves the function ebscan.preprocess be.
    assert out.stdout.splitlines() == ["[]", "ebscan.notebook"]


def test_no_warning_for_good_light_curves(spoc_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RejectedLightCurveWarning)
        assert len(ebscan.preprocess([EB_S1])) == 2
