"""The workflow on two products: a 2-minute sector and a TESS-SPOC full-frame-image
sector built from the shared real light curves, served by the MAST stand-in with faults.

The survey first runs on the 2-minute sector alone; adding the FFI product then
schedules only its jobs (and the catalog, report and audit). FFI sector 14 holds the
shared 30-minute light curves of sector 14 under their TESS-SPOC names, three of them
served with faults (a dropped connection, a 503, a short body), and three files written
here: one its script lists that is not there and one truncated (failed downloads), and
one whose flux is NaN everywhere (a rejection). FFI sector 1 holds one 2-minute EB
binned to 30 minutes as the full-frame images record it, so that one star has light
curves of both products. Scoring is with the pretrained model.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from astropy.io import fits

pytest.importorskip("snakemake")
pytest.importorskip("onnxruntime")

from ebscan.acquire.mast import bulk_script
from ebscan.acquire.mirror_server import MirrorServer
from ebscan.acquire.products import TESS_SPOC_FFI
from ebscan.lightcurves.io import read_lightcurve
from ebscan.sim.injection import bin_lightcurve

from conftest import (
    FFI,
    SPOC,
    job_counts,
    read_csv,
    read_csv_tsv,
    require_shared,
    snakemake,
    tess_spoc_sector,
)

#: A 2-minute EB of sector 1 (Prsa 2022: P = 1.317 d), also given an FFI light curve.
BOTH = 261746657
MISSING, TRUNCATED_FFI, NAN_FLUX = (
    TESS_SPOC_FFI.filename.format(tic=tic, sector=14) for tic in (1, 2, 3)
)


def write_binned_ffi_file(source: Path, target: Path) -> None:
    """``source`` binned to 30 minutes, written in the TESS-SPOC layout."""
    lc = bin_lightcurve(read_lightcurve(source), 30)
    primary = fits.PrimaryHDU()
    header = fits.getheader(source, 0)
    for key in ("TICID", "SECTOR", "CAMERA", "CCD", "RA_OBJ", "DEC_OBJ", "TESSMAG"):
        primary.header[key] = header[key]
    table = fits.BinTableHDU.from_columns(
        [
            fits.Column("TIME", "D", array=lc.time),
            fits.Column("PDCSAP_FLUX", "E", array=lc.flux.astype(np.float32)),
            fits.Column("QUALITY", "J", array=lc.quality),
        ],
        name="LIGHTCURVE",
    )
    fits.HDUList([primary, table]).writeto(target)


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    spoc, ffi = require_shared(SPOC), require_shared(FFI)
    root = tmp_path_factory.mktemp("ffi-survey")
    files, scripts = root / "files", root / "scripts"
    scripts.mkdir()
    two_minute = sorted(p.name for p in spoc.glob("tess2018206045859-s0001-*_lc.fits"))
    files.mkdir()
    for name in two_minute:
        os.symlink(spoc / name, files / name)
    sector_14 = tess_spoc_sector([ffi], 14, files)
    whole = (files / sector_14[-1]).read_bytes()
    (files / TRUNCATED_FFI).write_bytes(whole[: len(whole) // 2])
    with fits.open(files / sector_14[-1]) as hdul:
        hdul["LIGHTCURVE"].data["FLUX"][:] = np.nan
        hdul.writeto(files / NAN_FLUX)
    (scripts / TESS_SPOC_FFI.bulk_script_url.rsplit("/", 1)[1].format(sector=14)).write_text(
        bulk_script([*sector_14, TRUNCATED_FFI, NAN_FLUX, MISSING])
    )
    both = next(name for name in two_minute if f"{BOTH:016d}" in name)
    write_binned_ffi_file(spoc / both, files / TESS_SPOC_FFI.filename.format(tic=BOTH, sector=1))
    server = MirrorServer(files, scripts).start()
    for name, faults in zip(sector_14[:3], (("drop",), ("503",), ("truncate",)), strict=True):
        server.plan(name, *faults)
    config = {
        "sectors": [1],
        "results": str(root / "results"),
        "chunk_size": 50,
        "products": {"spoc-2min": {"bulk_script_url": server.bulk_script_url}},
        "mast": {"download_url": server.download_url, "retries": 2},
        "training": {"model_path": "pretrained"},
    }
    only_2min = root / "only-2min.yaml"
    only_2min.write_text(yaml.safe_dump(config))
    snakemake("--configfile", str(only_2min), "--cores", "2")
    config["products"]["tess-spoc-ffi"] = {
        "sectors": [1, 14],
        "bulk_script_url": server.script_url("tess-spoc-ffi"),
    }
    both_products = root / "both.yaml"
    both_products.write_text(yaml.safe_dump(config))
    yield root, both_products, sector_14, two_minute
    server.stop()


def test_adding_a_product_schedules_only_its_jobs(survey):
    root, config, _, _ = survey
    results = root / "results"
    manifests = [f"{results}/manifests/tess-spoc-ffi/sector_{s}.csv" for s in (1, 14)]
    snakemake("--configfile", str(config), "--cores", "2", *manifests)
    # Sector 14's files in chunks of 50, and the one of sector 1.
    _, _, sector_14, _ = survey
    chunks = math.ceil((len(sector_14) + 3) / 50) + 1
    assert chunks == 4
    assert job_counts(snakemake("--configfile", str(config), "--dry-run").stdout) == {
        "download": chunks,
        "preprocess": chunks,
        "gls": chunks,
        "infer": chunks,
        "threshold": 2,
        "catalog": 1,
        "report": 1,
        "audit": 1,
        "all": 1,
    }
    snakemake("--configfile", str(config), "--cores", "2")
    assert "Nothing to be done" in snakemake("--configfile", str(config), "--dry-run").stdout


def test_every_light_curve_of_both_products_is_scored_or_rejected(survey):
    root, _, sector_14, two_minute = survey
    results = root / "results"
    audit = {(a["product"], a["sector"]): a for a in read_csv_tsv(results / "audit.tsv")}
    assert set(audit) == {("spoc-2min", "1"), ("tess-spoc-ffi", "1"), ("tess-spoc-ffi", "14")}
    assert all(a["ok"] == "1" for a in audit.values())
    ffi = audit["tess-spoc-ffi", "14"]
    assert int(ffi["manifest"]) == len(sector_14) + 3
    assert (int(ffi["downloaded"]), int(ffi["failed"])) == (len(sector_14) + 1, 2)
    assert int(ffi["with_segments"]) + int(ffi["rejected"]) == len(sector_14) + 1
    assert int(ffi["segments"]) == int(ffi["scored"]) > len(sector_14)
    spoc = audit["spoc-2min", "1"]
    assert (int(spoc["manifest"]), int(spoc["failed"])) == (len(two_minute), 1)  # truncated
    reports = [
        row
        for path in (results / "downloads" / "tess-spoc-ffi" / "sector_14").glob("*.tsv")
        for row in read_csv_tsv(path)
    ]
    failed = {r["filename"]: r["reason"] for r in reports if r["status"] == "failed"}
    assert sorted(failed) == sorted([MISSING, TRUNCATED_FFI])
    assert failed[MISSING].startswith("HTTP 404 Not Found")
    assert failed[TRUNCATED_FFI].startswith(
        "IncompleteDownload: verification failed: truncated: HDU 1 ends at byte"
    )
    # The faults were met and overcome: every served file arrived whole.
    for name in sector_14[:3]:
        arrived = results / "lightcurves" / "tess-spoc-ffi" / "sector_14" / name
        assert arrived.read_bytes() == (root / "files" / name).read_bytes()
    rejects = {}
    for shard in (results / "shards" / "tess-spoc-ffi" / "sector_14").glob("chunk_*.h5"):
        with h5py.File(shard, "r") as f:
            for row in f["rejects"][()]:
                rejects[Path(row["source_file"].decode()).name] = row["reason"].decode()
            assert set(f["segments"]["cadence_minutes"]) == {30.0}
    assert rejects[NAN_FLUX] == "FLUX is NaN everywhere"


def direct_scores(paths: list[Path]) -> dict[int, float]:
    """Each file's best segment score with the pretrained model, as `ebscan score` gives."""
    from ebscan.learn.pretrained import pretrained_model
    from ebscan.lightcurves.preprocess import preprocess_files
    from ebscan.survey.inference import load_predictor, score_results

    predictor = load_predictor(pretrained_model("onnxruntime"), "onnxruntime", 2)
    _, files = score_results(predictor, preprocess_files(paths, jobs=2))
    return {int(row["tic"]): float(row["max_score"]) for row in files if not row["reason"]}


def visible_ebs(folder: Path, sector: int) -> set[int]:
    """EBs of a shared labels.csv whose eclipses the light curve shows."""
    with open(folder / "labels.csv", newline="") as handle:
        return {
            int(row["tic"])
            for row in csv.DictReader(handle)
            if row["label"] == "EB"
            and int(row["sector"]) == sector
            and row.get("eclipses_visible", "1") == "1"
        }


def test_candidates_include_the_ebs_the_model_finds_directly(survey):
    root, _, sector_14, two_minute = survey
    results = root / "results"
    candidates = {int(c["tic"]): c for c in read_csv(results / "catalog" / "candidates.csv")}
    spoc, ffi = require_shared(SPOC), require_shared(FFI)
    found = {}
    for paths, ebs in (
        ([spoc / name for name in two_minute], visible_ebs(spoc, 1)),
        ([root / "files" / name for name in sector_14], visible_ebs(ffi, 14)),
    ):
        scores = direct_scores(paths)
        found.update({tic: scores[tic] for tic in ebs if scores.get(tic, 0) >= 0.9})
    assert found, "the model finds none of the shared EBs: nothing to compare"
    assert set(found) <= set(candidates)
    for tic, score in found.items():
        assert float(candidates[tic]["max_score"]) >= score - 1e-6
    ffi_found = {tic for tic in found if "tess-spoc-ffi" in candidates[tic]["products"]}
    assert ffi_found, "no FFI EB among the candidates"
    print(f"{len(found)} visible EBs found directly, {len(ffi_found)} of them FFI; all candidates")


def test_a_stars_two_products_make_one_catalog_row(survey):
    root, _, _, _ = survey
    results = root / "results"
    (star,) = [s for s in read_csv(results / "catalog" / "stars.csv") if int(s["tic"]) == BOTH]
    assert star["products"] == "spoc-2min;tess-spoc-ffi"
    assert star["sectors_by_product"] == "spoc-2min:1;tess-spoc-ffi:1"
    files = star["files"].split(";")
    assert sorted(Path(f).parent.parent.name for f in files) == ["spoc-2min", "tess-spoc-ffi"]
    scores = [
        row
        for product in ("spoc-2min", "tess-spoc-ffi")
        for row in read_csv(results / "scores" / product / "sector_1.csv")
        if int(row["tic"]) == BOTH
    ]
    assert int(star["n_segments"]) == len(scores) >= 2
    assert {row["product"] for row in scores} == {"spoc-2min", "tess-spoc-ffi"}
    assert {float(row["cadence_minutes"]) for row in scores} == {2.0, 30.0}
    # Every row records the model that scored it: the pretrained ONNX file.
    from ebscan.learn.pretrained import pretrained_model

    digest = hashlib.sha256(pretrained_model("onnxruntime").read_bytes()).hexdigest()[:16]
    assert {row["model"] for row in scores} == {f"pretrained/model.onnx sha256:{digest}"}
    best = max(scores, key=lambda row: float(row["score"]))
    assert star["best_product"] == best["product"]


def test_score_needs_no_option_for_30_minute_files(tmp_path):
    """`ebscan score` on the shared 30-minute files, without and with `--min-points 300`
    (what a 30-minute file needed before): every segment both keep scores the same; the
    segments of 2.78 days or more but under 300 cadences are kept now."""
    from ebscan.cli import main

    ffi = require_shared(FFI)
    paths = sorted(ffi.glob("*.fits"))
    runs = {}
    for name, extra in (("default", []), ("300", ["--min-points", "300"])):
        output = tmp_path / f"{name}.csv"
        assert main(["score", *map(str, paths), "-o", str(output), "-j", "2", *extra]) == 0
        runs[name] = {(Path(r["file"]).name, r["segment"]): r for r in read_csv(output)}
    default, fixed = runs["default"], runs["300"]
    assert set(fixed) <= set(default)
    assert all(default[key]["score"] == fixed[key]["score"] for key in fixed)
    added = {key: int(default[key]["n_points"]) for key in set(default) - set(fixed)}
    assert added and all(134 <= n < 300 for n in added.values())
    assert len(fixed) > 300 and {r["cadence_minutes"] for r in default.values()} == {"30.0"}
