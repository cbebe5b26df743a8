"""The Snakemake workflow end to end on a tiny simulated survey, then a sector added."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import h5py
import pytest
import yaml
from astropy.table import Table

pytest.importorskip("snakemake")
pytest.importorskip("keras")

from ebscan.demo import cores_args, serve
from ebscan.lightcurves.shards import read_shard
from ebscan.sim.simulate import build_mirror

from conftest import (
    REPO,
    SNAKEMAKE,
    job_counts,
    read_csv,
    read_csv_tsv,
    snakemake,
    survey_config,
)


@pytest.fixture(scope="module")
def survey(tmp_path_factory):
    root = tmp_path_factory.mktemp("survey")
    build_mirror(root / "mirror", [1, 2], 16, seed=11)
    server = serve(str(root / "mirror"), 0)
    # Every star a candidate, so the candidate details and plots are exercised.
    config = survey_config(root / "results", server, root / "mirror" / "truth.csv", threshold=0.0)
    config_path = root / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    snakemake("--configfile", str(config_path), "--cores", "2")
    yield root, config, config_path
    server.stop()


def test_every_light_curve_is_scored_or_rejected(survey):
    root, _, _ = survey
    results = root / "results"
    manifest = read_csv(results / "manifests" / "spoc-2min" / "sector_1.csv")
    assert len(manifest) == 16
    shards = sorted((results / "shards" / "spoc-2min" / "sector_1").glob("chunk_*.h5"))
    assert [s.name for s in shards] == ["chunk_0.h5", "chunk_1.h5"]
    accounted, segments = set(), 0
    for shard in shards:
        with h5py.File(shard) as f:
            assert f["gls"].shape[1] == 1000 and f["lc"].shape[1] == 4000
            segments += f["segments"].shape[0]
            accounted |= {s.decode() for s in f["segments"]["source_file"]}
            accounted |= {s.decode() for s in f["rejects"]["source_file"]}
    assert {Path(p).name for p in accounted} == {r["filename"] for r in manifest}
    scores = read_csv(results / "scores" / "spoc-2min" / "sector_1.csv")
    assert len(scores) == segments
    stars = read_csv(results / "catalog" / "stars.csv")
    assert {int(s["tic"]) for s in stars} == {int(s["tic"]) for s in scores}
    assert (results / "report" / "report.html").read_text().count("<table>") >= 3
    candidates = read_csv(results / "catalog" / "candidates.csv")
    assert {c["tic"] for c in candidates} == {s["tic"] for s in stars} != set()
    # A period, or the eclipse times and a lower bound, or no eclipse found at all.
    assert all(
        float(c["period"]) > 0
        if c["period"]
        else c["n_primary"] == "0" or (float(c["period_lower_bound"]) > 0 and c["eclipse_times"])
        for c in candidates
    )
    assert all(c["plot"] and (results / "catalog" / c["plot"]).exists() for c in candidates)
    assert "ebscan candidates" in (results / "catalog" / "vetting.html").read_text()
    model = yaml.safe_load((results / "model" / "model.json").read_text())
    assert model["hparams"]["lc_filters"] == [4, 8, 8]
    audit = read_csv_tsv(results / "audit.tsv")
    assert [(a["sector"], a["manifest"], a["ok"]) for a in audit] == [("1", "16", "1")]
    assert int(audit[0]["with_segments"]) + int(audit[0]["rejected"]) == 16
    # The report's sector table counts what the audit counts.
    from ebscan.survey.audit import sector_files
    from ebscan.survey.report import sector_summary

    summary = sector_summary("spoc-2min", 1, sector_files(results, "spoc-2min", 1))
    counted = ("light curves", "downloaded", "failed downloads", "rejected", "segments")
    assert [summary[k] for k in counted] == [
        int(audit[0][k]) for k in ("manifest", "downloaded", "failed", "rejected", "segments")
    ]
    assert summary["segments above threshold"] == sum(int(s["candidate"]) for s in scores)


def test_a_moved_results_folder_rebuilds_its_catalog_from_another_directory(survey, tmp_path):
    """Paths are recorded relative to the file that records them: a results folder
    copied elsewhere and named by a relative path from another working directory
    still leads the catalog to every candidate's light curve."""
    import shutil

    root, config, _ = survey
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(root / "results", elsewhere / "results")
    moved = elsewhere / "config.yaml"
    moved.write_text(yaml.safe_dump({**config, "results": "results"}))
    catalog = "results/catalog/candidates.csv"
    rebuild = ["--configfile", str(moved), "--cores", "2", "--forcerun", "catalog", catalog]
    hidden = root / "results.hidden"  # nothing may lead back to the original
    (root / "results").rename(hidden)
    try:
        done = subprocess.run(
            [*SNAKEMAKE, *rebuild],
            cwd=elsewhere,
            capture_output=True,
            text=True,
        )
    finally:
        hidden.rename(root / "results")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "localrule catalog:" in done.stdout + done.stderr
    candidates = read_csv(elsewhere / catalog)
    stars = read_csv(elsewhere / "results" / "catalog" / "stars.csv")
    assert len(candidates) == len(stars) > 0  # threshold 0: every star
    # The light curves were found again: the same periods as the original run measured.
    original = read_csv(root / catalog)
    assert [r["period"] for r in candidates] == [r["period"] for r in original]
    assert any(r["period"] for r in candidates)
    for row in candidates:
        assert (elsewhere / "results" / "catalog" / row["plot"]).stat().st_size > 0
        assert row["best_file"].startswith("../lightcurves/spoc-2min/sector_")
        assert (elsewhere / "results" / "catalog" / row["best_file"]).exists()
    assert "no period or plot" not in (elsewhere / "results" / "logs" / "catalog.log").read_text()


def test_snakemake_report_has_scores_model_and_candidates(survey, tmp_path):
    _, _, config_path = survey
    page = tmp_path / "report.html"
    snakemake("--configfile", str(config_path), "--report", str(page))
    text = page.read_text()
    for item in ("score_histogram.png", "training.png", "candidates.csv", "Candidates"):
        assert item in text, item
    assert text.count("TIC") > 0  # the candidate plots (TIC<tic>.png)


def test_audit_catches_a_lost_light_curve(survey, tmp_path, capsys):
    import shutil

    from ebscan.cli import main

    root, _, _ = survey
    copy = tmp_path / "results"
    shutil.copytree(root / "results", copy)
    assert main(["audit", str(copy), "--sectors", "1"]) == 0
    (copy / "shards" / "spoc-2min" / "sector_1" / "chunk_1.h5").unlink()
    capsys.readouterr()
    assert main(["audit", str(copy), "--sectors", "1"]) == 1
    err = capsys.readouterr().err
    assert "sector 1: 16 files arrived, shards account for" in err
    assert "segments in shards but" in err


def test_adding_a_sector_schedules_only_its_jobs(survey):
    root, config, _ = survey
    config = {**config, "sectors": [1, 2]}
    grown = root / "config2.yaml"
    grown.write_text(yaml.safe_dump(config))
    # The new sector's manifest is a checkpoint: fetch it, then ask what is left.
    snakemake(
        *("--configfile", str(grown), "--cores", "1"),
        f"{config['results']}/manifests/spoc-2min/sector_2.csv",
    )
    dry = snakemake("--configfile", str(grown), "--dry-run")
    assert job_counts(dry.stdout) == {
        "download": 2,
        "preprocess": 2,
        "gls": 2,
        "infer": 2,
        "threshold": 1,
        "catalog": 1,
        "report": 1,
        "audit": 1,
        "all": 1,
    }
    snakemake("--configfile", str(grown), "--cores", "2")
    stars = read_csv(Path(config["results"]) / "catalog" / "stars.csv")
    assert {sector for s in stars for sector in s["sectors"].split(";")} == {"1", "2"}
    assert "Nothing to be done" in snakemake("--configfile", str(grown), "--dry-run").stdout


def test_bad_config_names_the_key(survey, tmp_path):
    _, config, _ = survey
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**config, "threshold": 1.5}))
    done = snakemake("--configfile", str(bad), "--dry-run", check=False)
    assert done.returncode != 0
    assert "threshold" in done.stderr + done.stdout
    bad.write_text(yaml.safe_dump({**config, "sectors": ["9-3"]}))
    done = snakemake("--configfile", str(bad), "--dry-run", check=False)
    assert (
        "config: sectors: '9-3' is not a sector number or a range like '1-74'"
        in done.stderr + done.stdout
    )


def test_only_the_training_keys_training_takes_retrain(survey, tmp_path):
    """The train rule receives only what training takes (ebscan.config.FIT_KEYS): a key
    used elsewhere (the GCVS match radius, without GCVS) schedules nothing more; one it
    takes (the epochs) schedules training again."""
    _, config, _ = survey

    def planned(training: dict) -> dict:
        changed = tmp_path / "changed.yaml"
        changed.write_text(yaml.safe_dump({**config, "training": training}))
        out = snakemake("--configfile", str(changed), "--dry-run").stdout
        return job_counts(out) if "Job stats:" in out else {}

    baseline = planned(config["training"])
    assert "train" not in baseline
    assert planned({**config["training"], "gcvs_radius_arcsec": 30.0}) == baseline
    assert planned({**config["training"], "epochs": 3}).get("train") == 1


def test_lint_and_format():
    lint = snakemake("--lint", "--configfile", str(REPO / "config" / "demo.yaml"), check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = subprocess.run(
        [Path(sys.executable).with_name("snakefmt"), "--check", "workflow"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_labels_come_from_catalogs_when_no_table_is_given(survey, tmp_path, catalogs_dir):
    _, config, _ = survey
    training = {**config["training"], "labels": "", "catalogs": str(catalogs_dir)}
    path = tmp_path / "catalogs.yaml"
    path.write_text(yaml.safe_dump({**config, "training": training}))
    counts = job_counts(snakemake("--configfile", str(path), "--dry-run").stdout)
    assert counts["labels"] == 1 and counts["training_set"] == 1 and counts["train"] == 1


def test_known_variables_refine_the_negatives(survey, tmp_path):
    """A GCVS RRAB at one negative's position labels that light curve with its type."""
    _, config, _ = survey
    results = Path(config["results"])
    truth = {int(r["tic"]): r for r in read_csv(Path(config["training"]["labels"]))}
    shard = next((results / "shards" / "spoc-2min" / "sector_1").glob("chunk_*.h5"))
    segments = read_shard(shard)["segments"]
    tic, ra, dec = next(
        (int(t), float(r), float(d))
        for t, r, d in zip(segments["tic"], segments["ra"], segments["dec"], strict=True)
        if truth[int(t)]["label"] == "non-EB"
    )
    eb = next(int(t) for t in segments["tic"] if truth[int(t)]["label"] == "EB")
    eb_row = list(segments["tic"]).index(eb)
    gcvs = tmp_path / "gcvs.ecsv"
    Table(
        rows=[
            ("V1 Sim", "RRAB", ra, dec),
            ("V2 Sim", "ELL", float(segments["ra"][eb_row]), float(segments["dec"][eb_row])),
        ],
        names=("GCVS", "VarType", "_RAJ2000", "_DEJ2000"),
    ).write(gcvs)
    training = {**config["training"], "gcvs": str(gcvs)}
    path = tmp_path / "gcvs.yaml"
    path.write_text(yaml.safe_dump({**config, "training": training}))
    snakemake("--configfile", str(path), "--cores", "2", f"{results}/training/training_set.csv")
    (row,) = read_csv(results / "training" / "variable_labels.csv")  # never the EB
    assert (int(row["tic"]), row["label"], row["subtype"]) == (tic, "non-EB", "RRAB")
    assert row["source"] == "GCVS 5.1 (B/gcvs/gcvs_cat) V1 Sim"
    subtypes = {
        r["subtype"]
        for r in read_csv(results / "training" / "training_set.csv")
        if int(r["tic"]) == tic
    }
    assert subtypes == {"RRAB"}


def test_simulated_augmentation_takes_its_share(survey, tmp_path):
    """Runs last: it rebuilds the survey's training set with simulated light curves."""
    _, config, _ = survey
    training = {**config["training"], "simulated_share": 0.5}
    path = tmp_path / "augmented.yaml"
    path.write_text(yaml.safe_dump({**config, "training": training}))
    snakemake(
        "--configfile", str(path), "--cores", "2", f"{config['results']}/training/training_set.csv"
    )
    rows = read_csv(Path(config["results"]) / "training" / "training_set.csv")
    simulated = [r for r in rows if int(r["tic"]) >= 3_000_000_000]
    real = [r for r in rows if int(r["tic"]) < 3_000_000_000]
    # Share 0.5: as many simulated light curves as labelled ones in the labels table
    # (the mirror's truth: 16 per sector, two sectors), two segments each.
    truth = read_csv(Path(config["training"]["labels"]))
    assert len(truth) == 32
    assert len({r["tic"] for r in simulated}) == len(truth)
    assert len(simulated) == 2 * len(truth)
    assert real and {r["label"] for r in simulated} == {"0", "1"}


def test_nothing_to_train_on_scores_with_the_pretrained_model(survey, tmp_path):
    """Without labels, catalogs or a model, the survey scores with the shipped CALNet,
    and says once when its resampling is not the one the model was measured with."""
    from ebscan.learn.pretrained import pretrained_model, resampling_warning

    _, config, _ = survey
    results = tmp_path / "results"
    training = {k: v for k, v in config["training"].items() if k != "labels"}
    path = tmp_path / "pretrained.yaml"
    # A config from before bin means became the default resampling.
    preprocess = {"spline_mode": "adaptive"}
    path.write_text(
        yaml.safe_dump(
            {**config, "results": str(results), "training": training, "preprocess": preprocess}
        )
    )
    # A checkout may leave the Keras file newer than the ONNX one: the package's files
    # are inputs, never outputs, so that must not rewrite them.
    onnx = pretrained_model("onnxruntime")
    os.utime(pretrained_model("keras"))
    shipped = onnx.read_bytes(), onnx.stat().st_mtime_ns
    done = snakemake("--configfile", str(path), "--cores", "2")
    assert (onnx.read_bytes(), onnx.stat().st_mtime_ns) == shipped
    warning = resampling_warning("adaptive")
    assert warning and (done.stdout + done.stderr).count(warning) == 1
    # Nothing trained, nothing exported: the package's ONNX file scored every chunk.
    assert not (results / "model").exists()
    logs = {p.name for p in (results / "logs").iterdir()}
    assert "train.log" not in logs and "export_onnx.log" not in logs
    assert len(list((results / "logs" / "infer" / "spoc-2min" / "sector_1").iterdir())) == 2
    # The same scores as scoring the shard directly with the packaged ONNX model.
    from ebscan.survey.inference import load_predictor, score_shard

    direct = tmp_path / "direct.csv"
    predictor = load_predictor(pretrained_model("onnxruntime"), "onnxruntime")
    score_shard(predictor, results / "shards" / "spoc-2min" / "sector_1" / "chunk_0.h5", direct)
    workflow = {
        (r["tic"], r["segment"]): r["score"]
        for r in read_csv(results / "scores" / "spoc-2min" / "sector_1" / "chunk_0.csv")
    }
    assert {(r["tic"], r["segment"]): r["score"] for r in read_csv(direct)} == workflow
    assert "calnet" in (results / "report" / "report.html").read_text()


def test_demo_leaves_the_cores_to_a_profile():
    assert cores_args(3, ["--profile", "profiles/slurm"]) == ["--cores", "3"]
    assert cores_args(None, ["--profile", "profiles/slurm"]) == []
    assert cores_args(None, ["--workflow-profile=profiles/local"]) == []
    assert cores_args(None, ["--forceall"]) == ["--cores", str(os.cpu_count())]
