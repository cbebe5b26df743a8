"""HDF5 shards (atomic writes, merging) and the ebscan preprocess command."""

from __future__ import annotations

import os

import h5py
import numpy as np
import pytest

from ebscan import __version__
from ebscan.cli import main
from ebscan.config import PreprocessConfig
from ebscan.lightcurves.periodogram import calnet_period_grid
from ebscan.lightcurves.preprocess import preprocess_file
from ebscan.lightcurves.shards import ShardWriter, add_gls, merge_shards, read_shard

from conftest import CM_DRA_S24, TRUNCATED

EB_S1 = "tess2018206045859-s0001-0000000261746657-0120-s_lc.fits"


def write(path, results, config=None):
    config = config or PreprocessConfig()
    with ShardWriter(path, config, calnet_period_grid()) as writer:
        for result in results:
            writer.add(result)


def test_shard_round_trip(spoc_dir, tmp_path):
    results = [preprocess_file(CM_DRA_S24), preprocess_file(TRUNCATED)]
    write(tmp_path / "s.h5", results)
    shard = read_shard(tmp_path / "s.h5")
    assert shard["lc"].shape == (2, 4000) and shard["lc"].dtype == np.float32
    assert shard["gls"].shape == (2, 1000) and shard["gls"].dtype == np.float32
    np.testing.assert_array_equal(shard["lc"], results[0].lc)
    np.testing.assert_array_equal(shard["gls_period"], calnet_period_grid())
    segments = shard["segments"]
    assert list(segments["tic"]) == [199574208, 199574208]
    assert list(segments["sector"]) == [24, 24]
    assert list(segments["segment"]) == [1, 3]
    assert segments["source_file"] == [str(CM_DRA_S24)] * 2
    assert np.all(segments["t_end"] > segments["t_start"])
    assert segments["tmag"][0] == pytest.approx(10.1645, abs=1e-4)
    assert shard["rejects"]["source_file"] == [str(TRUNCATED)]
    assert shard["rejects"]["reason"][0].startswith("truncated: ")
    attrs = shard["attrs"]
    assert attrs["ebscan_version"] == __version__
    assert (attrs["n_segments"], attrs["n_files"], attrs["n_rejects"]) == (2, 2, 1)
    assert attrs["gap_days"] == 0.75 and attrs["min_segment_days"] == 2000 * 2 / 1440
    assert attrs["min_points"] == "auto" and attrs["format_version"] == 3
    assert attrs["spline_mode"] == "binned" and attrs["gls_method"] == "finufft"
    assert attrs["flux_column"] == "auto"
    assert list(segments["cadence_minutes"]) == [2.0, 2.0]


def as_format_2(shard, target):
    """``shard`` as the writer of format 2 left it: no ``cadence_minutes`` column, no
    ``min_segment_days``, ``min_points`` 2000."""
    with h5py.File(shard) as old, h5py.File(target, "w") as new:
        for name in old:
            if name != "segments":
                old.copy(name, new)
        table = old["segments"][()]
        names = [n for n in table.dtype.names if n != "cadence_minutes"]
        new.create_dataset("segments", data=table[names], maxshape=(None,), chunks=(1024,))
        new.attrs.update({k: v for k, v in old.attrs.items() if k != "min_segment_days"})
        new.attrs["min_points"], new.attrs["format_version"] = 2000, 2
    return target


def test_shards_of_format_2_still_read_score_and_merge(spoc_dir, tmp_path):
    from ebscan.learn.pretrained import pretrained_model
    from ebscan.survey.inference import load_predictor, score_shard

    files = [str(CM_DRA_S24), str(spoc_dir / EB_S1), str(TRUNCATED)]
    assert main(["preprocess", *files[:2], "-o", str(tmp_path / "full.h5")]) == 0
    assert main(["preprocess", *files[:2], "-o", str(tmp_path / "a3.h5"), "--no-gls"]) == 0
    assert (
        main(["preprocess", files[2], "-o", str(tmp_path / "b3.h5"), "--no-gls"]) == 1
    )  # rejected
    a2, b2 = (as_format_2(tmp_path / f"{n}3.h5", tmp_path / f"{n}2.h5") for n in "ab")
    old, full = read_shard(a2), read_shard(tmp_path / "full.h5")
    assert np.isnan(old["segments"]["cadence_minutes"]).all()
    assert old["segments"]["segment"].tolist() == full["segments"]["segment"].tolist()
    # The separate GLS stage, merging and scoring work on them, with the parameters they
    # were made with (2000 cadences); the cadence stays unknown.
    assert main(["gls", str(a2), "-o", str(tmp_path / "a2_gls.h5")]) == 0
    np.testing.assert_array_equal(read_shard(tmp_path / "a2_gls.h5")["gls"], full["gls"])
    assert main(["merge", str(tmp_path / "a2_gls.h5"), "-o", str(tmp_path / "m.h5")]) == 0
    merged = read_shard(tmp_path / "m.h5")
    assert merged["attrs"]["format_version"] == 3 and merged["attrs"]["min_points"] == 2000
    assert np.isnan(merged["segments"]["cadence_minutes"]).all()
    scores = tmp_path / "scores.csv"
    predictor = load_predictor(pretrained_model("onnxruntime"), "onnxruntime", 1)
    assert score_shard(predictor, tmp_path / "a2_gls.h5", scores) == 4
    rows = scores.read_text().splitlines()
    assert len(rows) == 5 and all(",nan," in row for row in rows[1:])
    # A shard made with today's segment length in days does not merge with them.
    with pytest.raises(ValueError, match="min_points=2000 differs from 'auto'; cannot merge"):
        merge_shards([tmp_path / "a3.h5", b2], tmp_path / "mixed.h5")


def test_failed_write_leaves_nothing(spoc_dir, tmp_path):
    target = tmp_path / "s.h5"
    with pytest.raises(RuntimeError):
        with ShardWriter(target, PreprocessConfig(), calnet_period_grid()) as writer:
            writer.add(preprocess_file(CM_DRA_S24))
            raise RuntimeError("killed")
    assert os.listdir(tmp_path) == []


def test_same_file_twice_is_refused(spoc_dir, tmp_path):
    result = preprocess_file(CM_DRA_S24)
    with pytest.raises(ValueError, match="already in shard"):
        write(tmp_path / "s.h5", [result, result])
    assert not (tmp_path / "s.h5").exists()


def test_merge_concatenates_and_refuses_mismatch(spoc_dir, tmp_path):
    a, b = preprocess_file(CM_DRA_S24), preprocess_file(spoc_dir / EB_S1)
    write(tmp_path / "a.h5", [a])
    write(tmp_path / "b.h5", [b, preprocess_file(TRUNCATED)])
    merge_shards([tmp_path / "a.h5", tmp_path / "b.h5"], tmp_path / "ab.h5")
    merged = read_shard(tmp_path / "ab.h5")
    np.testing.assert_array_equal(merged["lc"], np.concatenate([a.lc, b.lc]))
    np.testing.assert_array_equal(merged["gls"], np.concatenate([a.gls, b.gls]))
    assert merged["attrs"]["n_files"] == 3 and merged["attrs"]["n_rejects"] == 1

    with pytest.raises(ValueError, match="already in"):
        merge_shards([tmp_path / "a.h5", tmp_path / "ab.h5"], tmp_path / "dup.h5")
    write(
        tmp_path / "c.h5",
        [preprocess_file(CM_DRA_S24, PreprocessConfig(gap_days=0.5))],
        PreprocessConfig(gap_days=0.5),
    )
    with pytest.raises(ValueError, match=r"c.h5: gap_days=0.5 differs from 0.75; cannot merge"):
        merge_shards([tmp_path / "b.h5", tmp_path / "c.h5"], tmp_path / "bad.h5")
    assert sorted(os.listdir(tmp_path)) == ["a.h5", "ab.h5", "b.h5", "c.h5"]


def test_cli_preprocess_reports_rejects_and_appends(spoc_dir, tmp_path, capsys):
    out = tmp_path / "shard.h5"
    assert main(["preprocess", str(CM_DRA_S24), str(TRUNCATED), "-o", str(out), "-j", "2"]) == 0
    err = capsys.readouterr().err
    assert f"rejected {TRUNCATED}: truncated: HDU 1 ends at byte 2030400" in err
    assert f"{out}: 2 files -> 2 segments, 1 rejected" in err
    listing = tmp_path / "files.txt"
    listing.write_text(f"{CM_DRA_S24}\n{spoc_dir / EB_S1}\n")
    assert main(["preprocess", "--files-from", str(listing), "-o", str(out), "--append"]) == 0
    assert (
        f"{out}: 1 files -> 2 segments, 0 rejected (2 files already there)"
        in capsys.readouterr().err
    )
    shard = read_shard(out)
    assert shard["attrs"]["n_files"] == 3
    assert sorted(set(shard["segments"]["tic"])) == [199574208, 261746657]
    with h5py.File(out) as f:
        assert f["lc"].shape == (4, 4000)


def test_cli_same_as_library_with_jobs(spoc_dir, tmp_path):
    files = [str(CM_DRA_S24), str(spoc_dir / EB_S1)]
    assert main(["preprocess", *files, "-o", str(tmp_path / "one.h5")]) == 0
    assert main(["preprocess", *files, "-o", str(tmp_path / "two.h5"), "--jobs", "2"]) == 0
    np.testing.assert_array_equal(
        read_shard(tmp_path / "one.h5")["lc"], read_shard(tmp_path / "two.h5")["lc"]
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        (["preprocess", "x.fits"], "the following arguments are required: --output/-o"),
        (
            ["preprocess", "x.fits", "-o", "s.h5", "--gap-days", "0"],
            "gap_days must be positive, not 0.0",
        ),
        (["preprocess", "-o", "s.h5"], "no input files (give FILE arguments or --files-from)"),
        (
            ["preprocess", "x.fits", "-o", "s.h5", "--spline-mode", "akima"],
            "invalid choice: 'akima'",
        ),
        (["preprocess", "x.fits", "-o", "s.h5", "--jobs", "0"], "must be at least 1, not 0"),
    ],
)
def test_cli_bad_arguments_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_console_script_is_installed():
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("ebscan")
    assert exe.exists()
    done = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == f"ebscan {__version__}"


def test_separate_gls_stage_matches_one_pass(spoc_dir, tmp_path):
    files = [str(CM_DRA_S24), str(spoc_dir / EB_S1), str(TRUNCATED)]
    assert main(["preprocess", *files, "-o", str(tmp_path / "full.h5")]) == 0
    assert main(["preprocess", *files, "-o", str(tmp_path / "lc.h5"), "--no-gls"]) == 0
    lc_only = read_shard(tmp_path / "lc.h5")
    assert "gls" not in lc_only and "gls_period" not in lc_only
    assert main(["gls", str(tmp_path / "lc.h5"), "-o", str(tmp_path / "two.h5")]) == 0
    one, two = read_shard(tmp_path / "full.h5"), read_shard(tmp_path / "two.h5")
    np.testing.assert_array_equal(one["gls"], two["gls"])
    np.testing.assert_array_equal(one["lc"], two["lc"])
    assert one["segments"]["source_file"] == two["segments"]["source_file"]
    assert one["rejects"] == two["rejects"]
    with pytest.raises(ValueError, match="already has GLS vectors"):
        add_gls(tmp_path / "full.h5", tmp_path / "again.h5")
