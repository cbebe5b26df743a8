"""The simulator writes SPOC-format files; the MAST code fetches them over real HTTP."""

from __future__ import annotations

import csv
import functools
import http.server
import os
import threading

import numpy as np
import pytest
from astropy.io import fits

from ebscan.acquire.mast import (
    S3_DOWNLOAD_URL,
    download_files,
    parse_bulk_script,
    product_url,
    read_manifest,
    sector_manifest,
    write_manifest,
)
from ebscan.acquire.mirror_server import MirrorServer
from ebscan.acquire.products import MAST_DOWNLOAD_URL
from ebscan.cli import main
from ebscan.config import parse_sectors
from ebscan.lightcurves.io import read_lightcurve
from ebscan.lightcurves.periodogram import calnet_period_grid
from ebscan.lightcurves.preprocess import preprocess_file
from ebscan.sim.signals import SIGNALS
from ebscan.sim.simulate import build_mirror, noise_ppm, sector_times


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    directory = tmp_path_factory.mktemp("mirror")
    truth = build_mirror(directory, [1, 2], 30, seed=7)
    return directory, truth


@pytest.fixture(scope="module")
def server(mirror):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(mirror[0]))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_sector_times_have_the_downlink_gap():
    time, in_gap = sector_times(3)
    assert time[0] == pytest.approx(1325.3 + 2 * 27.4)
    np.testing.assert_allclose(np.diff(time), 2.0 / 1440)
    assert in_gap.sum() == pytest.approx(720, abs=1)  # one day of 2-minute cadences


def test_noise_grows_with_magnitude():
    assert noise_ppm(10.0) == 230.0
    assert noise_ppm(13.0) / noise_ppm(10.0) == pytest.approx(10**0.99)


def test_simulated_files_read_like_spoc(mirror):
    directory, truth = mirror
    assert len(truth) == 60
    assert {row["sector"] for row in truth} == {1, 2}
    assert {row["label"] for row in truth} == {"EB", "non-EB"}
    row = truth[0]
    lc = read_lightcurve(directory / "files" / row["filename"])
    assert (lc.tic, lc.sector, lc.flux_column) == (row["tic"], row["sector"], "PDCSAP_FLUX")
    assert lc.meta["tmag"] == pytest.approx(row["tmag"])
    result = preprocess_file(directory / "files" / row["filename"])
    assert len(result.segments) == 2  # the two orbits either side of the downlink gap


def test_stars_keep_tic_and_class_across_sectors(mirror):
    _, truth = mirror
    by_sector = {s: {r["tic"]: r["subtype"] for r in truth if r["sector"] == s} for s in (1, 2)}
    shared = set(by_sector[1]) & set(by_sector[2])
    assert shared
    assert all(by_sector[1][tic] == by_sector[2][tic] for tic in shared)


@pytest.mark.parametrize("subtype", ["contact", "semidetached", "rr_lyrae", "delta_scuti"])
def test_simulated_periods_are_recovered_by_gls(tmp_path, subtype):
    """A bright star of each strongly periodic class peaks at P or P/2."""
    from ebscan.sim.simulate import SimulatedStar, write_spoc_file

    star = SimulatedStar(
        tic=12345678,
        sector=5,
        subtype=subtype,
        label=SIGNALS[subtype][0],
        tmag=9.0,
        ra=10.0,
        dec=-20.0,
    )
    path = tmp_path / "star.fits"
    period = write_spoc_file(path, star, seed=3)
    result = preprocess_file(path)
    peak = calnet_period_grid()[np.argmax(result.gls[0])]
    assert min(abs(peak / period - 1), abs(peak / (period / 2) - 1)) < 0.01


def test_mirror_is_reproducible_and_left_alone(mirror, tmp_path):
    directory, truth = mirror
    stamp = os.stat(directory / "truth.csv").st_mtime_ns
    assert build_mirror(directory, [1, 2], 30, seed=7) == truth
    assert os.stat(directory / "truth.csv").st_mtime_ns == stamp


def test_mirror_built_by_worker_processes_is_the_same(mirror, tmp_path):
    directory, truth = mirror
    assert build_mirror(tmp_path, [1, 2], 30, seed=7, jobs=2) == truth
    names = sorted(os.listdir(directory / "files"))
    assert sorted(os.listdir(tmp_path / "files")) == names
    for name in names:
        # Headers and data alike; the checksums' comments carry the time of writing.
        diff = fits.FITSDiff(
            str(tmp_path / "files" / name),
            str(directory / "files" / name),
            ignore_keywords=["CHECKSUM"],
            ignore_comments=["DATASUM"],
        )
        assert diff.identical, diff.report()
    for name in ("truth.csv", "tesscurl_sector_1_lc.sh", "tesscurl_sector_2_lc.sh"):
        assert (tmp_path / name).read_text() == (directory / name).read_text()


def test_bulk_script_parsing():
    script = "\n".join(
        [
            "#!/bin/sh",
            "curl -C - -L -o tess2018206045859-s0001-0000000025155310-0120-s_lc.fits "
            "https://mast.stsci.edu/api/v0.1/Download/file/?uri=mast:TESS/product/"
            "tess2018206045859-s0001-0000000025155310-0120-s_lc.fits",
            "curl -C - -L -o tess2018206045859-s0001-0000000025155310-0120-s_tp.fits https://x/tp",
            "curl -C - -L -o tess2018206045859-s0001-0000000029829699-0120-s_lc.fits https://x/y",
            "",
        ]
    )
    assert [
        {k: r[k] for k in ("filename", "tic", "sector")} for r in parse_bulk_script(script)
    ] == [
        {
            "filename": "tess2018206045859-s0001-0000000025155310-0120-s_lc.fits",
            "tic": 25155310,
            "sector": 1,
        },
        {
            "filename": "tess2018206045859-s0001-0000000029829699-0120-s_lc.fits",
            "tic": 29829699,
            "sector": 1,
        },
    ]


def test_product_urls():
    name = "tess2018206045859-s0001-0000000025155310-0120-s_lc.fits"
    assert product_url(MAST_DOWNLOAD_URL, name) == (
        "https://mast.stsci.edu/api/v0.1/Download/file/?uri=mast:TESS/product/" + name
    )
    assert product_url(S3_DOWNLOAD_URL, name) == (
        "https://stpubdata.s3.amazonaws.com/tess/public/tid/s0001/0000/0000/2515/5310/" + name
    )
    assert parse_bulk_script(f"curl -C - -L -o {name} x")[0]["uri"] == f"mast:TESS/product/{name}"


def test_manifest_and_download_over_http(mirror, server, tmp_path):
    directory, truth = mirror
    rows, skipped = sector_manifest(2, f"{server}/tesscurl_sector_{{sector}}_lc.sh")
    assert [r["filename"] for r in rows] == [r["filename"] for r in truth if r["sector"] == 2]
    assert skipped == {}
    write_manifest(rows, tmp_path / "m.csv")
    assert read_manifest(tmp_path / "m.csv") == rows
    subset, skipped = sector_manifest(
        2, f"{server}/tesscurl_sector_{{sector}}_lc.sh", tics=[rows[0]["tic"]]
    )
    assert subset == rows[:1]
    assert skipped == {"TIC not asked for": len(rows) - 1}
    names = [r["filename"] for r in rows[:4]] + [
        "tess2018206045859-s0002-0000000000000001-0000-s_lc.fits"
    ]
    outcomes = download_files(names, tmp_path / "lc", f"{server}/files/{{filename}}", retries=0)
    assert [o.status for o in outcomes] == ["downloaded"] * 4 + ["failed"]
    assert outcomes[-1].reason == f"HTTP 404 File not found ({server}/files/{names[-1]})"
    for name in names[:4]:
        assert (tmp_path / "lc" / name).read_bytes() == (directory / "files" / name).read_bytes()
    again = download_files(names[:4], tmp_path / "lc", f"{server}/files/{{filename}}")
    assert [o.status for o in again] == ["present"] * 4
    (tmp_path / "lc" / names[0]).write_bytes(b"SIMPLE  = corrupt")
    assert (
        download_files(names[:1], tmp_path / "lc", f"{server}/files/{{filename}}")[0].status
        == "downloaded"
    )
    assert sorted(os.listdir(tmp_path / "lc")) == sorted(names[:4])


def test_parse_sectors():
    assert parse_sectors([1, "3-5", "4", " 10 - 11 "]) == [1, 3, 4, 5, 10, 11]
    assert parse_sectors(["1-74"]) == list(range(1, 75))
    with pytest.raises(
        ValueError, match=r"^sectors: '5-2' is not a sector number or a range like '1-74'$"
    ):
        parse_sectors(["5-2"])
    with pytest.raises(ValueError, match="sectors: 'x' is not"):
        parse_sectors(["x"])


def test_truth_csv_columns(mirror):
    directory, _ = mirror
    with open(directory / "truth.csv") as handle:
        assert next(csv.reader(handle)) == [
            "tic",
            "sector",
            "filename",
            "label",
            "subtype",
            "period",
            "tmag",
        ]


def test_a_bulk_script_without_the_sector_fails(tmp_path, capsys):
    """A script that lists no light curve of its sector is an error that says what the
    script held; one that does says what it skipped."""
    files, scripts = tmp_path / "files", tmp_path / "scripts"
    files.mkdir()
    scripts.mkdir()
    s1 = "tess2018206045859-s0001-0000000025155310-0120-s_lc.fits"
    url = "https://mast.stsci.edu/api/v0.1/Download/file/?uri=mast:TESS/product/"
    lines = [
        "#!/bin/sh",
        f"curl -C - -L -o {s1} {url}{s1}",
        f"curl -C - -L -o {s1} {url}{s1}",
        f"curl -C - -L -o {s1.replace('_lc', '_tp')} {url}x",
        "echo done",
        "",
    ]
    for sector in (1, 2):
        (scripts / f"tesscurl_sector_{sector}_lc.sh").write_text("\n".join(lines))
    (scripts / "tesscurl_sector_4_lc.sh").write_text("#!/bin/sh\n")
    with MirrorServer(files, scripts) as server:
        script, out = server.bulk_script_url, tmp_path / "m.csv"
        argv = ["manifest", "--bulk-script-url", script, "-o", str(out), "--sector"]
        assert main([*argv, "2"]) == 1
        assert capsys.readouterr().err == (
            f"ebscan manifest: error: sector 2 bulk script: {script.format(sector=2)}: lists no "
            "spoc-2min light curve of sector 2 (skipped 4 lines: 1 of sector 1, 1 listed "
            "twice, 1 not a light curve of a known product, 1 not a curl command)\n"
        )
        assert not out.exists()
        assert main([*argv, "4"]) == 1
        assert capsys.readouterr().err == (
            f"ebscan manifest: error: sector 4 bulk script: {script.format(sector=4)}: lists no "
            "spoc-2min light curve of sector 4 (no curl line at all)\n"
        )
        assert main([*argv, "1"]) == 0
        assert capsys.readouterr().err == (
            f"{out}: 1 spoc-2min light curves of sector 1 (skipped 3 lines: 1 listed twice, "
            "1 not a light curve of a known product, 1 not a curl command)\n"
        )
        assert [row["filename"] for row in read_manifest(out)] == [s1]
        rows, skipped = sector_manifest(1, script, tics=[5])
        assert rows == [] and skipped["TIC not asked for"] == 1


def test_rotator_draws_what_it_drew_before_spot_modulation_was_its_own_function():
    """The rotator impostor's period and spots for a fixed seed, as the recipe's
    training examples have them (values from the code before the refactor): the shipped
    model's recipe reruns bit for bit only while these stay."""
    from ebscan.sim.signals import rotator

    time = np.arange(0.0, 27.0, 0.02)
    flux, period = rotator(np.random.default_rng(3), time)
    assert period == 0.4381650983163766
    np.testing.assert_array_equal(
        flux[[0, 500, 1000]], [1.0005762363248993, 0.9996412690539161, 0.9987935551428653]
    )
