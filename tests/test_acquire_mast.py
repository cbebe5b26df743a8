"""Downloads against a local MAST stand-in that drops, refuses, truncates and stalls."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from ebscan.acquire.mast import (
    download_files,
    read_download_report,
    sector_manifest,
    write_manifest,
)
from ebscan.acquire.mirror_server import MirrorServer

from conftest import SPOC, TRUNCATED, download_command

SECTOR1 = sorted(p.name for p in SPOC.glob("tess2018206045859-s0001-*-s_lc.fits"))


def bulk_script(names):
    lines = ["#!/bin/sh"]
    for name in names:
        lines.append(
            f"curl -C - -L -o {name} "
            f"https://mast.stsci.edu/api/v0.1/Download/file/?uri=mast:TESS/product/{name}"
        )
    return "\n".join(lines) + "\n"


@pytest.fixture
def server(spoc_dir, tmp_path):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "tesscurl_sector_1_lc.sh").write_text(bulk_script(SECTOR1))
    with MirrorServer(spoc_dir, scripts, stall_seconds=3.0) as running:
        yield running


def test_manifest_from_a_real_format_bulk_script(server):
    rows, _ = sector_manifest(1, server.bulk_script_url)
    assert [r["filename"] for r in rows] == SECTOR1
    assert rows[0]["tic"] == int(SECTOR1[0].split("-")[2])
    assert {r["sector"] for r in rows} == {1}


def test_faults_are_survived_and_files_arrive_identical(server, tmp_path):
    names = [n for n in SECTOR1 if n != TRUNCATED.name][:6]
    server.plan(names[0], "drop", "drop")
    server.plan(names[1], "503", "503")
    server.plan(names[2], "truncate")
    server.plan(names[3], "stall")
    dest = tmp_path / "lc"
    outcomes = download_files(
        [*names, TRUNCATED.name],
        dest,
        server.download_url,
        concurrency=3,
        retries=4,
        timeout=1.0,
        backoff=0.1,
    )
    statuses = {o.filename: o.status for o in outcomes}
    assert all(statuses[n] == "downloaded" for n in names)
    for name in names:
        assert (dest / name).read_bytes() == (SPOC / name).read_bytes()
    # The dropped transfer resumed where it broke off, with a Range request.
    starts = [start for name, start in server.requests if name == names[0]]
    assert starts[0] == 0 and starts[1] > 0
    # The source itself is truncated: every attempt fails verification.
    failed = outcomes[-1]
    assert failed.status == "failed"
    assert failed.reason.startswith("IncompleteDownload: verification failed: truncated: HDU 1")
    assert sorted(os.listdir(dest)) == sorted(names)  # no partial under any name left over


def test_cli_reports_failures_and_keeps_what_arrived(server, tmp_path):
    names = [SECTOR1[0], TRUNCATED.name]
    write_manifest(
        [{"filename": n, "tic": 0, "sector": 1, "uri": ""} for n in names], tmp_path / "m.csv"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ebscan.cli",
            "download",
            "--manifest",
            str(tmp_path / "m.csv"),
            "--dest",
            str(tmp_path / "lc"),
            "--download-url",
            server.download_url,
            "--retries",
            "1",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert (
        f"failed {TRUNCATED.name}: IncompleteDownload: verification failed: truncated"
        in done.stderr
    )
    assert "1 downloaded, 0 already there, 1 failed" in done.stderr
    report = read_download_report(tmp_path / "lc" / "download-report.tsv")
    assert [(r["filename"], r["status"]) for r in report] == [
        (names[0], "downloaded"),
        (names[1], "failed"),
    ]
    assert sorted(os.listdir(tmp_path / "lc")) == sorted(["download-report.tsv", names[0]])


def test_killed_download_resumes_fetching_only_what_is_missing(spoc_dir, tmp_path):
    names = [n for n in SECTOR1 if n != TRUNCATED.name][:8]
    write_manifest(
        [{"filename": n, "tic": 0, "sector": 1, "uri": ""} for n in names], tmp_path / "m.csv"
    )
    dest = tmp_path / "lc"
    command = download_command(tmp_path / "m.csv", dest)
    with MirrorServer(spoc_dir, bytes_per_second=8e6) as slow:
        process = subprocess.Popen(
            [*command, "--download-url", slow.download_url], stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            finished = [n for n in names if (dest / n).exists()]
            if len(finished) >= 3:
                break
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finished = [n for n in names if (dest / n).exists()]
    assert 3 <= len(finished) < len(names)
    for name in finished:  # whatever carries a final name is complete
        assert (dest / name).read_bytes() == (SPOC / name).read_bytes()
    with MirrorServer(spoc_dir) as fast:
        subprocess.run(
            [*command, "--download-url", fast.download_url], check=True, stderr=subprocess.DEVNULL
        )
        fetched = [name for name, _ in fast.requests]
    assert sorted(fetched) == sorted(set(names) - set(finished))
    for name in names:
        assert (dest / name).read_bytes() == (SPOC / name).read_bytes()
    assert not [p for p in os.listdir(dest) if p.endswith(".part")]
