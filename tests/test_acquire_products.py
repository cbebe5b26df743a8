"""Light-curve products: MAST's names and addresses, manifests and downloads of each
through the MAST stand-in, and the workflow's products section."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ebscan.acquire import mast
from ebscan.acquire.mirror_server import MirrorServer
from ebscan.acquire.products import (
    MAST_DOWNLOAD_URL,
    PRODUCTS,
    SPOC_2MIN,
    TESS_SPOC_FFI,
    file_fields,
    identify,
)
from ebscan.cli import main
from ebscan.config import survey_products

from conftest import tess_spoc_sector

FFI_NAME = "hlsp_tess-spoc_tess_phot_0000000022529346-s0033_tess_v1_lc.fits"
SPOC_NAME = "tess2018206045859-s0001-0000000025155310-0120-s_lc.fits"


def test_tess_spoc_names_and_addresses():
    """As MAST gives them (examples from the HLSP's users, not from ebscan)."""
    fields = file_fields(FFI_NAME)
    assert (fields["product"], fields["tic"], fields["sector"]) == ("tess-spoc-ffi", 22529346, 33)
    assert fields["uri"] == (
        "mast:HLSP/tess-spoc/s0033/target/0000/0000/2252/9346/"
        "hlsp_tess-spoc_tess_phot_0000000022529346-s0033_tess_v1_lc.fits"
    )
    assert mast.product_url(mast.S3_DOWNLOAD_URL, FFI_NAME) == (
        "https://stpubdata.s3.amazonaws.com/mast/hlsp/tess-spoc/s0033/target/0000/0000/2252/"
        "9346/" + FFI_NAME
    )
    assert mast.product_url(MAST_DOWNLOAD_URL, FFI_NAME) == (
        f"https://mast.stsci.edu/api/v0.1/Download/file/?uri={fields['uri']}"
    )
    assert TESS_SPOC_FFI.bulk_script_url.format(sector=56) == (
        "https://archive.stsci.edu/hlsps/tess-spoc/download_scripts/"
        "hlsp_tess-spoc_tess_phot_s0056_tess_v1_dl-lc.sh"
    )
    assert TESS_SPOC_FFI.filename.format(tic=22529346, sector=33) == FFI_NAME
    assert identify(SPOC_NAME) is SPOC_2MIN and identify("hlsp_qlp_tess_ffi_x.fits") is None
    assert file_fields(SPOC_NAME)["path"] == (
        "tess/public/tid/s0001/0000/0000/2515/5310/" + SPOC_NAME
    )


def test_bulk_scripts_of_either_product_parse():
    uri = file_fields(FFI_NAME)["uri"]
    script = "\n".join(
        [
            "#!/bin/sh",
            f"curl -f --create-dirs --output s0033/target/0000/0000/2252/9346/{FFI_NAME} "
            f"'https://mast.stsci.edu/api/v0.1/Download/file/?uri={uri}'",
            # The same file twice, quoted otherwise: listed once.
            f'curl -f --output "./s0033/{FFI_NAME}" https://example.org/{FFI_NAME}',
            f"curl -C - -L -o {SPOC_NAME} https://mast.stsci.edu/x",
            "curl -f --output s0033/target/x_dvr.pdf https://example.org/x_dvr.pdf",
            "echo done",
        ]
    )
    rows = mast.parse_bulk_script(script)
    assert [(r["filename"], r["tic"], r["sector"]) for r in rows] == [
        (FFI_NAME, 22529346, 33),
        (SPOC_NAME, 25155310, 1),
    ]
    assert rows[0]["uri"] == uri
    # The stand-in's scripts read back to the same rows.
    assert mast.parse_bulk_script(mast.bulk_script([FFI_NAME, SPOC_NAME])) == rows


@pytest.fixture
def ffi_mirror(ffi_dir, spoc_dir, tmp_path):
    """Five shared 30-minute light curves of sector 14 under their TESS-SPOC names, and
    one 2-minute light curve, served like MAST."""
    files = tmp_path / "files"
    named = tess_spoc_sector([ffi_dir], 14, files, limit=5)
    os.symlink(spoc_dir / SPOC_NAME, files / SPOC_NAME)
    with MirrorServer(files) as server:
        yield server, named


def test_manifest_and_download_of_an_ffi_sector(ffi_mirror, tmp_path, capsys):
    server, named = ffi_mirror
    manifest = tmp_path / "m.csv"
    url = server.script_url("tess-spoc-ffi")
    argv = ["manifest", "--sector", "14", "-o", str(manifest), "--bulk-script-url", url]
    assert main([*argv, "--product", "tess-spoc-ffi"]) == 0
    assert f"{manifest}: 5 tess-spoc-ffi light curves of sector 14" in capsys.readouterr().err
    rows = mast.read_manifest(manifest)
    assert [r["filename"] for r in rows] == named
    assert all(r["uri"] == file_fields(r["filename"])["uri"] for r in rows)
    # The FFI script lists no 2-minute file, and a 2-minute manifest keeps none of it.
    with pytest.raises(mast.EmptyManifest, match="lists no spoc-2min light curve of sector 14"):
        mast.sector_manifest(14, url)
    rows, _ = mast.sector_manifest(1, server.bulk_script_url)
    assert rows[0]["filename"] == SPOC_NAME
    # MAST's download API by URI, and the S3 layout, both bring the same bytes.
    for template, dest in ((server.download_url, "api"), (f"{server.url}/{{path}}", "s3")):
        outcomes = mast.download_files(named, tmp_path / dest, template, concurrency=2)
        assert [o.status for o in outcomes] == ["downloaded"] * 5
        for name in named:
            assert (tmp_path / dest / name).read_bytes() == (
                Path(server.files_dir) / name
            ).read_bytes()
    # A 2-minute URI for an FFI file is no product at MAST: a 404, not retried.
    wrong = f"{server.url}/api/v0.1/Download/file/?uri=mast:TESS/product/{{filename}}"
    (outcome,) = mast.download_files(named[:1], tmp_path / "wrong", wrong, retries=3)
    assert outcome.status == "failed" and outcome.reason.startswith("HTTP 404 Not Found (")
    assert server.requests.count((named[0], 0)) == 3  # api, s3, then the wrong URI once


def test_the_stand_in_lists_every_product(ffi_mirror):
    server, _ = ffi_mirror
    done = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ebscan.acquire.mirror_server",
            str(server.files_dir),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [done.stdout.readline() for _ in range(10)]
    finally:
        done.terminate()
        done.wait(timeout=30)
    assert lines[0].endswith("sectors (light curves): spoc-2min 1 (1); tess-spoc-ffi 14 (5)\n")
    script = lines[6].split('"')[1]
    assert script.endswith(
        "/hlsps/tess-spoc/download_scripts/hlsp_tess-spoc_tess_phot_s{sector:04d}_tess_v1_dl-lc.sh"
    )
    with pytest.raises(urllib.error.HTTPError, match="404"):  # no FFI sector 13 there
        urllib.request.urlopen(server.local(script).format(sector=13))


def test_manifest_defaults_to_the_products_script_at_mast(tmp_path):
    """Offline, the failure names the product's script at MAST (a permanent error)."""
    done = subprocess.run(
        [
            *(sys.executable, "-m", "ebscan.cli", "manifest", "--product", "tess-spoc-ffi"),
            *("--sector", "14", "-o", str(tmp_path / "m.csv"), "--retries", "0"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "no_proxy": "*"},
    )
    assert done.returncode == 1
    assert done.stderr.startswith(
        "ebscan manifest: error: sector 14 bulk script: https://archive.stsci.edu/hlsps/"
        "tess-spoc/download_scripts/hlsp_tess-spoc_tess_phot_s0014_tess_v1_dl-lc.sh: "
    )


def test_products_config_resolves_sectors_and_scripts():
    resolved = survey_products(
        {
            "spoc-2min": None,
            "tess-spoc-ffi": {"sectors": ["14-16"], "bulk_script_url": "x{sector}"},
        },
        [1, "3-4"],
    )
    assert resolved == {
        "spoc-2min": {"sectors": [1, 3, 4], "bulk_script_url": SPOC_2MIN.bulk_script_url},
        "tess-spoc-ffi": {"sectors": [14, 15, 16], "bulk_script_url": "x{sector}"},
    }
    ffi_only = survey_products({"spoc-2min": False, "tess-spoc-ffi": {"sectors": [14]}}, [1])
    assert list(ffi_only) == ["tess-spoc-ffi"]
    with pytest.raises(ValueError, match="products: every product is set to false"):
        survey_products({"spoc-2min": False}, [1])
    with pytest.raises(ValueError, match=r"products: qlp: unknown product 'qlp'; choose from"):
        survey_products({"qlp": {}}, [1])
    with pytest.raises(ValueError, match=r"products: tess-spoc-ffi: sectors: '9-3' is not"):
        survey_products({"tess-spoc-ffi": {"sectors": ["9-3"]}}, [1])
    assert list(PRODUCTS) == ["spoc-2min", "tess-spoc-ffi"]
