"""A quiet, fast command line: what `ebscan --help` and each command import before
their work, and TensorFlow's start-up lines hidden unless --verbose. (The seconds are
measured by bench/cli_startup.py, not asserted here.)"""

from __future__ import annotations

import subprocess
import sys

import pytest

from ebscan.cli import COMMANDS, build_parser
from ebscan.learn.pretrained import pretrained_model

from conftest import CM_DRA_S24

HEAVY = ("numpy", "scipy", "astropy", "h5py", "tensorflow", "keras", "onnxruntime")


def imported_by(*argv: str) -> dict[str, bool]:
    """Which heavy packages ``ebscan ARGV`` has imported when it exits."""
    code = (
        "import sys\n"
        "from ebscan.cli import main\n"
        "try:\n"
        f"    main({list(argv)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(*[m in sys.modules for m in {HEAVY!r}], file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    flags = done.stderr.splitlines()[-1].split()
    return dict(zip(HEAVY, (flag == "True" for flag in flags), strict=True))


def test_help_imports_nothing_heavy():
    assert not any(imported_by("--help").values())
    assert not any(imported_by("--version").values())


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_no_command_imports_tensorflow_to_start(command):
    """A command's options import only what their defaults come from (the preprocessing,
    with NumPy and SciPy, for preprocess and score), never TensorFlow: only training or
    scoring with Keras does."""
    imported = imported_by(command, "--help")
    assert not imported["tensorflow"] and not imported["keras"]
    if command not in (
        "preprocess",
        "score",
    ):  # their defaults come from ebscan.lightcurves.preprocess
        assert not any(imported.values()), imported


def test_every_command_is_listed_and_its_options_built_when_asked(capsys):
    with pytest.raises(SystemExit):
        build_parser([]).parse_args(["--help"])
    listing = capsys.readouterr().out
    for name, (_, keywords) in COMMANDS.items():
        assert f"    {name}" in listing
        assert keywords["help"].split()[0] in listing
    with pytest.raises(SystemExit):
        build_parser(["preprocess"]).parse_args(["preprocess", "--help"])
    assert "--spline-mode {adaptive,binned,calnet-code,paper}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "verbose"),
    [
        (["audit", "r"], False),
        (["--verbose", "audit", "r"], True),
        (["audit", "r", "--verbose"], True),
        (["-v", "audit", "-v", "r"], True),
    ],
)
def test_verbose_before_or_after_the_command(argv, verbose):
    assert build_parser(["audit"]).parse_args(argv).verbose is verbose


def scoring_with_keras(tmp_path, *options: str) -> subprocess.CompletedProcess:
    model = pretrained_model("keras")
    argv = ["score", str(CM_DRA_S24), "--model", str(model), "--engine", "keras"]
    return subprocess.run(
        [sys.executable, "-m", "ebscan.cli", *argv, "-o", str(tmp_path / "s.csv"), *options],
        capture_output=True,
        text=True,
    )


def test_tensorflow_is_quiet_unless_verbose(spoc_dir, tmp_path, monkeypatch):
    """Scoring with Keras imports TensorFlow, whose C++ start-up lines (oneDNN, CPU
    features, absl) reach stderr only with --verbose."""
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    quiet = scoring_with_keras(tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == f"{tmp_path / 's.csv'}: 2 segments of 1 files scored " + (
        f"({tmp_path / 's.files.csv'})\n"
    )
    verbose = scoring_with_keras(tmp_path, "--verbose")
    assert verbose.returncode == 0, verbose.stderr
    assert any(mark in verbose.stderr for mark in ("oneDNN", "cpu_feature_guard", "absl::"))
    assert (tmp_path / "s.csv").exists()


def test_a_download_url_must_name_the_file(capsys):
    """{filename}, {uri} or {path} (the public S3 layout), as the config schema asks."""
    from ebscan.cli.options import check_download_url

    parser = build_parser()
    check_download_url(parser, "https://stpubdata.s3.amazonaws.com/{path}")
    check_download_url(parser, "https://mast.stsci.edu/api/v0.1/Download/file/?uri={uri}")
    with pytest.raises(SystemExit):
        check_download_url(parser, "https://example.org/{tic}")
    assert capsys.readouterr().err.endswith(
        "error: --download-url must contain {filename}, {uri} or {path}\n"
    )
