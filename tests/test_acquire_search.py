"""Stars by TIC: astroquery's MAST search against the stand-in (ebscan.acquire.mirror_server),
faults included, `ebscan score --tic`, `ebscan.score(tic=...)` and TIC-list manifests."""

from __future__ import annotations

import csv

import pytest

import ebscan
from ebscan.acquire.mast import FetchError
from ebscan.acquire.mirror_server import MirrorServer
from ebscan.acquire.search import fetch_light_curves, find_light_curves
from ebscan.cli import main
from ebscan.notebook import RejectedLightCurveWarning
from ebscan.paths import resolved

from conftest import SPOC

CM_DRA = 199574208
CM_DRA_FILES = [
    "tess2020106103520-s0024-0000000199574208-0180-s_lc.fits",
    "tess2020133194932-s0025-0000000199574208-0182-s_lc.fits",
    "tess2020160202036-s0026-0000000199574208-0188-s_lc.fits",
]
#: A star with five sectors in the shared set (3 to 7).
TIC_5_SECTORS = 382067804
ERROR = "Error converting data type varchar to bigint."


@pytest.fixture
def mast(spoc_dir):
    """The stand-in for MAST, serving the shared 2-minute light curves."""
    with MirrorServer(spoc_dir, stall_seconds=2.0) as server:
        yield server


def read_csv(path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_search_finds_a_stars_light_curves(mast):
    rows = find_light_curves([CM_DRA], mast_url=mast.url)
    assert [row["filename"] for row in rows] == CM_DRA_FILES
    assert [(row["tic"], row["sector"]) for row in rows] == [(CM_DRA, s) for s in (24, 25, 26)]
    assert rows[0]["uri"] == f"mast:TESS/product/{CM_DRA_FILES[0]}"
    # What astroquery asked: SPOC time series of the TIC, then their products.
    filtered, products = mast.searches
    assert filtered["service"] == "Mast.Caom.Filtered"
    criteria = {f["paramName"]: f["values"] for f in filtered["params"]["filters"]}
    assert criteria == {
        "obs_collection": ["TESS"],
        "dataproduct_type": ["timeseries"],
        "provenance_name": ["SPOC"],
        "target_name": [str(CM_DRA)],
    }
    assert products["service"] == "Mast.Caom.Products"
    assert len(products["params"]["obsid"].split(",")) == 3
    only = find_light_curves([CM_DRA, TIC_5_SECTORS, 1], [25, 5], mast_url=mast.url)
    assert [(row["tic"], row["sector"]) for row in only] == [(CM_DRA, 25), (TIC_5_SECTORS, 5)]
    assert find_light_curves([1], mast_url=mast.url) == []


def test_search_survives_transient_faults(mast):
    """503 (with Retry-After), a connection closed without an answer, and MAST's
    EXECUTING (astroquery polls again) are retried or waited out."""
    mast.plan_search("503", "drop", "executing")
    rows = find_light_curves([CM_DRA], mast_url=mast.url, backoff=0.01)
    assert [row["filename"] for row in rows] == CM_DRA_FILES
    assert [s["service"] for s in mast.searches] == ["Mast.Caom.Filtered"] * 4 + [
        "Mast.Caom.Products"
    ]


def test_search_failures_name_the_stars_and_the_url(mast):
    url = f"{mast.url}/api/v0/invoke"
    mast.plan_search("error")
    with pytest.raises(FetchError) as error:
        find_light_curves([CM_DRA, 5], mast_url=mast.url)
    assert str(error.value) == f"MAST search for TIC 5, {CM_DRA}: {url}: MAST answered: {ERROR}"
    assert len(mast.searches) == 1  # an error MAST states is not tried again
    mast.plan_search("stall")
    with pytest.raises(FetchError) as error:
        find_light_curves([CM_DRA], mast_url=mast.url, retries=0, timeout=0.5)
    assert str(error.value).startswith(f"MAST search for TIC {CM_DRA}: {url}: ReadTimeout: ")
    assert "Read timed out. (read timeout=0.5)" in str(error.value)
    mast.plan_search("503", "503")
    with pytest.raises(FetchError) as error:
        find_light_curves([CM_DRA], mast_url=mast.url, retries=1, backoff=0.01)
    assert str(error.value) == (
        f"MAST search for TIC {CM_DRA}: {url}: HTTP 503 Service Unavailable"
    )
    with pytest.raises(FetchError) as error:
        find_light_curves([CM_DRA], mast_url="http://mast.invalid", retries=5)
    assert "cannot resolve the host name" in str(error.value)


def test_score_by_tic_against_the_stand_in(mast, tmp_path, capsys):
    """Must show: `ebscan score --tic` finds the star's shared light curves through the
    stand-in, downloads them into the cache, and scores them as `ebscan score` scores
    the files themselves."""
    cache, output = tmp_path / "cache", tmp_path / "out" / "scores.csv"
    argv = ["score", "--tic", str(CM_DRA), "--mast-url", mast.url]
    argv += ["--download-url", mast.download_url, "--cache", str(cache), "-o", str(output)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert f"3 light curves of TIC {CM_DRA} from MAST in {cache}\n" in err
    for name in CM_DRA_FILES:
        assert (cache / name).read_bytes() == (SPOC / name).read_bytes()
    files = read_csv(output.with_suffix(".files.csv"))
    assert [resolved(r["file"], output) for r in files] == [str(cache / n) for n in CM_DRA_FILES]
    assert [r["sector"] for r in files] == ["24", "25", "26"]
    assert all(int(r["n_segments"]) > 0 and not r["reason"] for r in files)
    direct = tmp_path / "direct" / "scores.csv"
    assert main(["score", *(str(SPOC / n) for n in CM_DRA_FILES), "-o", str(direct)]) == 0
    scored = [(r["sector"], r["segment"], r["score"]) for r in read_csv(output)]
    assert scored == [(r["sector"], r["segment"], r["score"]) for r in read_csv(direct)]
    # Again: the cache answers, nothing is downloaded.
    downloads = len(mast.requests)
    assert main([*argv[:-2], "--sector", "25", "-o", str(tmp_path / "again.csv")]) == 0
    assert len(mast.requests) == downloads
    assert [r["sector"] for r in read_csv(tmp_path / "again.csv")] == ["25", "25"]
    # The notebook gives the same scores.
    table = ebscan.score(tic=CM_DRA, cache=cache, mast_url=mast.url, download_url=mast.download_url)
    assert [f"{s:.6f}" for s in table["score"]] == [r[2] for r in scored]
    assert list(table["file"]) == [resolved(r["file"], output) for r in read_csv(output)]
    with pytest.warns(RejectedLightCurveWarning) as caught:
        nothing = ebscan.score(tic=[7], sectors=[3, 4], cache=cache, mast_url=mast.url)
    assert [str(w.message) for w in caught] == [
        "TIC 7: MAST has no 2-minute SPOC light curve in sectors 3, 4"
    ]
    assert caught[0].filename == __file__
    assert len(nothing) == 0 and nothing.colnames[-1] == "score"


def test_score_by_tic_accounts_for_every_light_curve(mast, tmp_path, capsys):
    """A star MAST has nothing of is named; a download that fails is a rejected light
    curve with its reason, and the others are scored."""
    cache, output = tmp_path / "cache", tmp_path / "scores.csv"
    mast.plan(CM_DRA_FILES[1], "503")
    argv = ["score", "--tic", str(CM_DRA), "7", "--mast-url", mast.url, "--retries", "0"]
    argv += ["--download-url", mast.download_url, "--cache", str(cache), "-o", str(output)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "ebscan score: TIC 7: MAST has no 2-minute SPOC light curve\n" in err
    url = mast.download_url.format(uri=f"mast:TESS/product/{CM_DRA_FILES[1]}")
    reason = f"download failed: HTTP 503 Service Unavailable ({url})"
    assert f"rejected {cache / CM_DRA_FILES[1]}: {reason}\n" in err
    files = {r["sector"]: r for r in read_csv(output.with_suffix(".files.csv"))}
    assert files["25"]["reason"] == reason and files["25"]["n_segments"] == "0"
    assert int(files["24"]["n_segments"]) > 0 and int(files["26"]["n_segments"]) > 0
    assert not (cache / CM_DRA_FILES[1]).exists()
    mast.plan(CM_DRA_FILES[1], "503")
    fetched = fetch_light_curves([CM_DRA], [25], cache, mast.url, mast.download_url, retries=0)
    assert [(f.sector, f.failure) for f in fetched] == [
        (25, reason.removeprefix("download failed: "))
    ]


def test_score_by_tic_fails_when_there_is_nothing(mast, tmp_path, capsys):
    argv = ["score", "--tic", "7", "--sector", "3", "--mast-url", mast.url]
    argv += ["--cache", str(tmp_path), "-o", str(tmp_path / "s.csv")]
    assert main(argv) == 1
    assert capsys.readouterr().err == (
        "ebscan score: TIC 7: MAST has no 2-minute SPOC light curve in sectors 3\n"
        "ebscan score: error: no light curve to score\n"
    )
    mast.plan_search("error")
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err == (
        f"ebscan score: error: MAST search for TIC 7: {mast.url}/api/v0/invoke: "
        f"MAST answered: {ERROR}\n"
    )
    with pytest.raises(SystemExit) as stop:
        main(["score", "--sector", "3", "-o", str(tmp_path / "s.csv")])
    assert stop.value.code == 2
    assert "--sector selects sectors of the --tic stars: give --tic" in capsys.readouterr().err


def test_tic_list_manifest_from_the_search(mast, tmp_path, capsys):
    """The search gives the same manifest for a TIC list as the sector's bulk script."""
    tics = tmp_path / "tics.txt"
    tics.write_text(f"{CM_DRA}\n{TIC_5_SECTORS}\n38846515\n7\n")
    searched = tmp_path / "searched.csv"
    assert main(["manifest", "--search", "--tics", str(tics), "--mast-url", mast.url,
                 "--sector", "3", "-o", str(searched)]) == 0  # fmt: skip
    assert capsys.readouterr().err == (
        f"{searched}: 2 light curves of 2 TICs in sectors 3; none of TIC 7, {CM_DRA}\n"
    )
    bulk = tmp_path / "bulk.csv"
    argv = ["manifest", "--sector", "3", "--tics", str(tics)]
    assert main([*argv, "--bulk-script-url", mast.bulk_script_url, "-o", str(bulk)]) == 0
    assert searched.read_text() == bulk.read_text()
    assert (
        capsys.readouterr().err
        == f"{bulk}: 2 spoc-2min light curves of sector 3 (no line skipped)\n"
    )
    every = tmp_path / "every.csv"
    assert main(["manifest", "--search", "--tics", str(tics), "--mast-url", mast.url,
                 "-o", str(every)]) == 0  # fmt: skip
    assert capsys.readouterr().err == f"{every}: 18 light curves of 3 TICs; none of TIC 7\n"
    rows = read_csv(every)
    assert [int(r["tic"]) for r in rows] == [38846515] * 10 + [CM_DRA] * 3 + [TIC_5_SECTORS] * 5
    assert [r["filename"] for r in rows if int(r["tic"]) == CM_DRA] == CM_DRA_FILES
    (tmp_path / "none.txt").write_text("7\n")
    argv = ["manifest", "--search", "--tics", str(tmp_path / "none.txt"), "--mast-url", mast.url]
    assert main([*argv, "-o", str(tmp_path / "none.csv")]) == 1
    assert capsys.readouterr().err == (
        "ebscan manifest: error: MAST has no 2-minute SPOC light curve of any TIC listed in "
        f"{tmp_path / 'none.txt'}\n"
    )
    assert not (tmp_path / "none.csv").exists()


ONE_SECTOR = "give one --sector (or --search with --tics for several)"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sector", "1", "--sector", "2"], ONE_SECTOR),
        ([], ONE_SECTOR),
        (["--search"], "--search needs the stars: give --tics FILE (one TIC per line)"),
        (
            ["--sector", "1", "--mast-url", "http://x"],
            "--mast-url is for --search (the bulk script's is --bulk-script-url)",
        ),
    ],
)
def test_manifest_usage_mistakes(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["manifest", *argv, "-o", str(tmp_path / "m.csv")])
    assert stop.value.code == 2
    assert capsys.readouterr().err.endswith(f"ebscan manifest: error: {message}\n")
