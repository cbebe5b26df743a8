"""Failures that explain themselves (issue 19): paths that resolve from anywhere, one
writer per results folder, full disks, user mistakes, Ctrl-C, job logs, exit codes,
permanent network errors and the MAST stand-in, driven as a user drives them."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import h5py
import pytest

from ebscan.acquire import mast
from ebscan.acquire.mirror_server import MirrorServer
from ebscan.cli import main
from ebscan.lightcurves.shards import read_shard
from ebscan.lock import LOCK_NAME, ResultsLock, ResultsLocked
from ebscan.logs import logging_to

from conftest import CM_DRA_S24, SPOC, TRUNCATED, download_command

REPO = Path(__file__).resolve().parents[1]
EBSCAN = [sys.executable, "-m", "ebscan.cli"]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "workflow" / "Snakefile")]
SECTOR1 = sorted(p.name for p in SPOC.glob("tess2018206045859-s0001-*-s_lc.fits"))
GOOD = [n for n in SECTOR1 if n != TRUNCATED.name]


def ebscan(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """Run the ebscan command in a process of its own (a crash must not take pytest down)."""
    return subprocess.run([*EBSCAN, *args], capture_output=True, text=True, **kwargs)


def manifest_of(path: Path, names: list[str]) -> Path:
    mast.write_manifest(
        [{"filename": n, "tic": 0, "sector": 1, "uri": f"mast:TESS/product/{n}"} for n in names],
        path,
    )
    return path


# 1. Paths in shards, score tables and catalogs resolve from any working directory.


def test_gls_from_another_directory_finds_the_source_files(spoc_dir, tmp_path, monkeypatch):
    work = tmp_path / "work"
    (work / "lc").mkdir(parents=True)
    for name in GOOD[:2]:
        shutil.copy(spoc_dir / name, work / "lc" / name)
    monkeypatch.chdir(work)
    relative = [f"lc/{name}" for name in GOOD[:2]]
    assert main(["preprocess", *relative, "-o", "lc_only.h5", "--no-gls"]) == 0
    with h5py.File(work / "lc_only.h5") as f:
        stored = {s.decode() for s in f["segments"]["source_file"]}
        assert f.attrs["format_version"] == 3
    assert stored == set(relative)  # relative to the shard, which sits in work/
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["gls", "../work/lc_only.h5", "-o", "g.h5"]) == 0
    shard = read_shard(elsewhere / "g.h5")
    assert shard["rejects"]["source_file"] == []
    assert set(shard["segments"]["source_file"]) == {str(work / p) for p in relative}
    assert len(shard["segments"]["tic"]) == len(read_shard(work / "lc_only.h5")["segments"]["tic"])
    with h5py.File(elsewhere / "g.h5") as f:
        assert {s.decode() for s in f["segments"]["source_file"]} == {
            f"../work/{p}" for p in relative
        }
    # A folder moved as a whole still holds together.
    moved = tmp_path / "moved"
    work.rename(moved)
    assert main(["gls", str(moved / "lc_only.h5"), "-o", "again.h5"]) == 0
    assert read_shard(elsewhere / "again.h5")["rejects"]["source_file"] == []


def test_shards_of_format_1_still_read(spoc_dir, tmp_path, monkeypatch):
    """Format 1 kept paths as given, relative to the command's working directory."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(CM_DRA_S24, tmp_path / CM_DRA_S24.name)
    assert main(["preprocess", CM_DRA_S24.name, "-o", "old.h5", "--no-gls"]) == 0
    (tmp_path / "sub").mkdir()
    os.replace("old.h5", "sub/old.h5")
    with h5py.File("sub/old.h5", "r+") as f:
        f.attrs["format_version"] = 1
        table = f["segments"][()]
        table["source_file"] = [CM_DRA_S24.name] * len(table)  # as the old writer kept it
        f["segments"][...] = table
    shard = read_shard("sub/old.h5")
    assert set(shard["segments"]["source_file"]) == {str(tmp_path / CM_DRA_S24.name)}
    assert main(["gls", "sub/old.h5", "-o", "new.h5"]) == 0
    assert read_shard("new.h5")["rejects"]["source_file"] == []


# 2. One writer at a time in a results folder.


def hold_lock(folder: Path) -> subprocess.Popen:
    """Another process that holds ``folder``'s lock until killed."""
    code = (
        "import sys, time\n"
        "from ebscan.lock import ResultsLock\n"
        "ResultsLock(sys.argv[1], 'survey-in-another-terminal').acquire()\n"
        "print('held', flush=True)\n"
        "time.sleep(600)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline() == "held\n"
    return holder


def test_cli_refuses_a_results_folder_in_use(spoc_dir, tmp_path, capsys):
    results = tmp_path / "results"
    holder = hold_lock(results)
    output = results / "shards" / "extra.h5"
    try:
        assert main(["preprocess", str(CM_DRA_S24), "-o", str(output)]) == 1
        err = capsys.readouterr().err
        assert err.startswith(
            f"ebscan preprocess: error: results folder {results} is in use by "
            f"survey-in-another-terminal (pid {holder.pid} on host "
        )
        assert f"remove {results / LOCK_NAME} and start again" in err
        assert err.count("\n") == 1 and not output.exists()
    finally:
        holder.kill()
        holder.wait()
    # The kernel drops the lock of a process that died, however it died.
    assert main(["preprocess", str(CM_DRA_S24), "-o", str(output)]) == 0
    assert (results / LOCK_NAME).read_text() == ""


def test_without_flock_a_dead_holder_is_taken_over(tmp_path, monkeypatch):
    """File systems without flock (Lustre's default): the holder's record decides."""

    def no_flock(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr("fcntl.flock", no_flock)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    record = tmp_path / LOCK_NAME
    holder = {"command": "snakemake", "host": socket.gethostname(), "pid": os.getppid()}
    record.write_text(json.dumps(holder))
    with pytest.raises(ResultsLocked, match=rf"in use by snakemake \(pid {os.getppid()} on"):
        ResultsLock(tmp_path, "ebscan score").acquire()
    record.write_text(json.dumps({**holder, "pid": gone.pid}))
    with ResultsLock(tmp_path, "ebscan score"):
        assert json.loads(record.read_text())["command"] == "ebscan score"
    assert record.read_text() == ""


@pytest.fixture
def slow_mirror(tmp_path):
    pytest.importorskip("snakemake")
    from ebscan.sim.simulate import build_mirror

    build_mirror(tmp_path / "mirror", [1], 8, seed=3)
    with MirrorServer(
        tmp_path / "mirror" / "files", tmp_path / "mirror", bytes_per_second=30_000
    ) as server:
        yield server


def test_two_runs_on_one_results_folder(slow_mirror, tmp_path):
    """Snakemake locks each working directory; ebscan locks the results folder."""
    results = tmp_path / "results"
    config = tmp_path / "config.yaml"
    config.write_text(
        json.dumps(
            {
                "sectors": [1],
                "results": str(results),
                "chunk_size": 4,
                "products": {"spoc-2min": {"bulk_script_url": slow_mirror.bulk_script_url}},
                "mast": {"download_url": slow_mirror.download_url},
                "training": {"labels": str(tmp_path / "mirror" / "truth.csv")},
            }
        )
    )
    runs = {}
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        runs[name] = [
            *SNAKEMAKE,
            "--configfile",
            str(config),
            "--cores",
            "1",
            str(results / "downloads" / "spoc-2min" / "sector_1" / "chunk_0.tsv"),
        ]
    first = subprocess.Popen(
        runs["first"], cwd=tmp_path / "first", stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    lock = results / LOCK_NAME
    deadline = time.monotonic() + 120
    while not (lock.exists() and lock.read_text()) and first.poll() is None:
        assert time.monotonic() < deadline, "the first run never took the lock"
        time.sleep(0.05)
    holder = json.loads(lock.read_text())
    second = subprocess.run(runs["second"], cwd=tmp_path / "second", capture_output=True, text=True)
    first_output = first.communicate()[0].decode()
    assert first.returncode == 0, first_output[-3000:]
    assert second.returncode == 1
    assert (
        f"results folder {results} is in use by {holder['command']} (pid {first.pid} on host "
        in second.stdout + second.stderr
    )
    assert f"working directory {tmp_path / 'first'})" in second.stdout + second.stderr
    # The second run wrote nothing: the first run's report is whole, and it is released.
    report = mast.read_download_report(
        results / "downloads" / "spoc-2min" / "sector_1" / "chunk_0.tsv"
    )
    assert [r["status"] for r in report] == ["downloaded"] * 4
    assert lock.read_text() == ""


# 3. A full disk or a folder that cannot be written: one line, no crash, nothing left.


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs: a file system that fills up (needs root)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a 1 MiB tmpfs to fill up (needs root): " + done.stderr.strip())
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def fill(disk: Path) -> None:
    """Leave no free byte on ``disk``."""
    with open(disk / "filler", "wb") as handle:
        with pytest.raises(OSError) as full:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
    assert full.value.errno == errno.ENOSPC


def test_preprocess_on_a_full_disk(spoc_dir, small_disk):
    files = [str(spoc_dir / n) for n in SECTOR1[:12]]
    done = ebscan("preprocess", *files, "-o", str(small_disk / "s.h5"), "--no-gls")
    assert done.returncode == 1, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if not line.startswith("rejected ")]
    assert len(errors) == 1
    assert errors[0].startswith(
        f"ebscan preprocess: error: cannot write {small_disk / 's.h5'}: No space left on device ("
    )
    assert errors[0].endswith(f" free in {small_disk})")
    assert os.listdir(small_disk) == []  # the temporary file is gone


def test_preprocess_into_a_read_only_folder(spoc_dir, small_disk):
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    done = ebscan("preprocess", str(CM_DRA_S24), "-o", str(small_disk / "s.h5"))
    assert done.returncode == 1
    assert done.stderr == (
        f"ebscan preprocess: error: cannot write {small_disk / 's.h5'}: Read-only file system\n"
    )


def test_preprocess_into_a_folder_of_another_user(spoc_dir):
    """Permission denied: run as nobody, writing into a folder of root's."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run a command as another user")
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o755)  # nobody may look in, not write
        output = Path(folder) / "s.h5"
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        done = subprocess.run(
            [*as_nobody, *EBSCAN, "preprocess", str(CM_DRA_S24), "-o", str(output)],
            capture_output=True,
            text=True,
            cwd=folder,
        )
        assert done.returncode == 1
        assert done.stderr == (
            f"ebscan preprocess: error: cannot write {output}: Permission denied\n"
        )
        assert os.listdir(folder) == []


def test_download_on_a_full_disk_still_reports(spoc_dir, small_disk, tmp_path):
    dest = small_disk / "lc"
    dest.mkdir()
    fill(small_disk)
    with MirrorServer(spoc_dir) as server:
        done = ebscan(
            "download",
            "--manifest",
            str(manifest_of(tmp_path / "m.csv", GOOD[:2])),
            "--dest",
            str(dest),
            "--download-url",
            server.download_url,
            "--no-progress",
        )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    reason = f"cannot write {dest / GOOD[0]}: No space left on device (0 bytes free in {dest})"
    assert done.stderr.startswith(
        f"ebscan download: error: cannot write {dest / 'download-report.tsv'}: "
        f"No space left on device (0 bytes free in {dest}); the report follows\n"
        "filename\tstatus\tbytes\treason\n"
        f"{GOOD[0]}\tfailed\t0\t{reason}\n"
    )
    assert f"failed {GOOD[1]}: cannot write {dest / GOOD[1]}: No space left" in done.stderr
    assert done.stderr.endswith("0 downloaded, 0 already there, 2 failed (report: above)\n")


# 4. User mistakes: one line, exit 2; Ctrl-C: exit 130 and, for a download, its report.


@pytest.fixture
def labels_csv(tmp_path) -> Path:
    path = tmp_path / "labels.csv"
    path.write_text("tic,sector,label\n25155310,1,EB\n")
    return path


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err.rstrip("\n")


def test_a_labels_table_given_as_manifest(labels_csv, tmp_path, capsys):
    status = main(["download", "--manifest", str(labels_csv), "--dest", str(tmp_path / "lc")])
    assert status == 2
    assert one_error_line(capsys) == (
        f"ebscan download: error: {labels_csv}: not a manifest: no filename, uri column "
        "(it has tic, sector, label)"
    )


def test_a_labels_table_given_as_manifest_to_labels(labels_csv, catalogs_dir, tmp_path, capsys):
    argv = ["labels", "--catalogs", str(catalogs_dir), "--manifest", str(labels_csv)]
    assert main([*argv, "-o", str(tmp_path / "out.csv")]) == 2
    assert one_error_line(capsys).startswith(f"ebscan labels: error: {labels_csv}: not a manifest")


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_an_empty_labels_file(command, tmp_path, capsys):
    empty = tmp_path / "labels.csv"
    empty.write_text("")
    shard = tmp_path / "s.h5"
    shard.write_text("")
    argv = [command, "--shards", str(shard), "--labels", str(empty), "--out", str(tmp_path / "o")]
    if command == "evaluate":
        argv += ["--model", str(shard)]
    assert main(argv) == 2
    assert one_error_line(capsys) == (
        f"ebscan {command}: error: {empty}: empty file; a labels table has the columns "
        "tic, sector, label"
    )


@pytest.mark.parametrize("command", ["gls", "merge"])
def test_a_file_that_is_no_shard(command, labels_csv, tmp_path, capsys):
    assert main([command, str(labels_csv), "-o", str(tmp_path / "out.h5")]) == 2
    assert one_error_line(capsys) == (
        f"ebscan {command}: error: {labels_csv}: not a shard (not an HDF5 file)"
    )


@pytest.mark.parametrize("command", ["gls", "merge", "train", "vetted"])
def test_a_missing_input_is_a_usage_error_naming_it(command, tmp_path, capsys):
    missing = str(tmp_path / "gone.csv")
    argv = {
        "gls": ["gls", missing, "-o", str(tmp_path / "g.h5")],
        "merge": ["merge", missing, "-o", str(tmp_path / "m.h5")],
        "train": ["train", "--shards", missing, "--labels", missing, "--out", str(tmp_path)],
        "vetted": ["vetted", "--candidates", missing, "--decisions", missing, "-o", missing],
    }[command]
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"ebscan {command}: error: no such file: {missing}"
    )


def test_a_table_without_tic_given_as_candidates(tmp_path, capsys):
    candidates = tmp_path / "c.csv"
    candidates.write_text("star,max_score\n1,0.95\n")
    decisions = tmp_path / "d.csv"
    decisions.write_text("tic,decision\n1,accept\n")
    argv = ["vetted", "--candidates", str(candidates), "--decisions", str(decisions)]
    assert main([*argv, "-o", str(tmp_path / "v.csv")]) == 2
    assert one_error_line(capsys) == (
        f"ebscan vetted: error: {candidates}: not a candidate catalog: no tic column"
    )


def sigint_as_at_a_terminal() -> None:
    """In a child about to start: SIGINT back to its default disposition.

    A background job of a non-interactive shell (``make test &``, ``nohup``) starts with
    SIGINT ignored, its children inherit that, and Python then never raises
    KeyboardInterrupt: the tests of Ctrl-C would see runs that cannot be interrupted.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt_when(command: list[str], ready, group: bool = False) -> subprocess.CompletedProcess:
    """Run ``command``; send Ctrl-C's SIGINT (to its process group with ``group``) once
    ``ready(process)`` is true; return what it printed and its status."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=sigint_as_at_a_terminal,
    )
    deadline = time.monotonic() + 120
    while not ready(process):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the moment to interrupt never came"
        time.sleep(0.02)
    if group:
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def test_ctrl_c_during_a_download_writes_its_report(spoc_dir, tmp_path):
    names = GOOD[:8]
    dest = tmp_path / "lc"
    command = download_command(manifest_of(tmp_path / "m.csv", names), dest)
    with MirrorServer(spoc_dir, bytes_per_second=8e6) as slow:
        done = interrupt_when(
            [*command, "--download-url", slow.download_url],
            lambda _: sum((dest / n).exists() for n in names) >= 2,
        )
    assert done.returncode == 130
    assert "Traceback" not in done.stderr
    report = mast.read_download_report(dest / "download-report.tsv")
    assert [r["filename"] for r in report] == names
    arrived = [r["filename"] for r in report if r["status"] == "downloaded"]
    assert 2 <= len(arrived) < len(names)
    assert all(r["reason"] == mast.INTERRUPTED for r in report if r["status"] == "failed")
    for name in arrived:
        assert (dest / name).read_bytes() == (spoc_dir / name).read_bytes()
    assert done.stderr.endswith(
        f"{dest}: {len(arrived)} downloaded, 0 already there, {len(names) - len(arrived)} "
        f"failed (report: {dest / 'download-report.tsv'})\n"
        f"ebscan download: interrupted; {len(names) - len(arrived)} files not fetched: run "
        "the same command again to fetch them (partial transfers resume)\n"
    )
    with MirrorServer(spoc_dir) as fast:
        again = subprocess.run([*command, "--download-url", fast.download_url], check=True)
        assert again.returncode == 0
        assert sorted(n for n, _ in fast.requests) == sorted(set(names) - set(arrived))


def working(process: subprocess.Popen) -> bool:
    """Whether ``process`` has started its two workers, and they have had a moment."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    if len(children.read_text().split()) < 2:
        return False
    # Python loses a signal that lands while the interpreter runs a finalizer
    # ("Exception ignored"), as it does while it starts a pool; a person would press
    # Ctrl-C again, the test waits for the work to be under way.
    time.sleep(1.0)
    return True


def test_ctrl_c_during_preprocess_with_workers(spoc_dir, tmp_path):
    # All the shared light curves with the direct GLS (0.2 s a segment): about 15 s of
    # work on two cores, so the interrupt lands mid-run (with the default fast GLS
    # the run can end within the second the test waits for the workers).
    files = sorted(str(p) for p in spoc_dir.glob("*.fits"))
    output = tmp_path / "s.h5"
    done = interrupt_when(
        [*EBSCAN, "preprocess", *files, "-o", str(output), "-j", "2", "--gls-method", "direct"],
        working,
        group=True,  # a terminal's Ctrl-C reaches the workers too
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr.endswith("ebscan preprocess: interrupted\n")
    assert "Traceback" not in done.stderr
    assert os.listdir(tmp_path) == []


# 5. The log of a failed workflow job says what failed, where and why.


def test_a_log_holds_the_traceback(tmp_path):
    log = tmp_path / "logs" / "job.log"
    with pytest.raises(ZeroDivisionError):
        with logging_to(log, "rule divide (sector=3)"):
            print("dividing")
            1 / 0  # noqa: B018
    text = log.read_text()
    assert text.startswith("rule divide (sector=3)\ndividing\nTraceback (most recent call last):")
    assert text.endswith("ZeroDivisionError: division by zero\n")


def test_a_failed_manifest_job_logs_sector_url_and_traceback(tmp_path):
    pytest.importorskip("snakemake")
    from ebscan.sim.simulate import build_mirror

    build_mirror(tmp_path / "mirror", [1], 4, seed=3)
    results = tmp_path / "results"
    with MirrorServer(tmp_path / "mirror" / "files", tmp_path / "mirror") as server:
        config = tmp_path / "config.yaml"
        config.write_text(
            json.dumps(
                {
                    "sectors": [1, 7],
                    "results": str(results),
                    "products": {"spoc-2min": {"bulk_script_url": server.bulk_script_url}},
                    "mast": {"download_url": server.download_url},
                    "training": {"labels": str(tmp_path / "mirror" / "truth.csv")},
                }
            )
        )
        targets = [str(results / "manifests" / "spoc-2min" / f"sector_{s}.csv") for s in (1, 7)]
        done = subprocess.run(
            [*SNAKEMAKE, "--configfile", str(config), "--cores", "1", "--keep-going", *targets],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
    assert done.returncode == 1
    assert (results / "manifests" / "spoc-2min" / "sector_1.csv").exists()
    log = (results / "logs" / "manifest" / "spoc-2min" / "sector_7.log").read_text()
    assert log.startswith(
        f"rule manifest (product=spoc-2min, sector=7)\n  input: -\n  output: {targets[1]}\n"
        "  ebscan "
    )
    url = server.bulk_script_url.format(sector=7)
    assert "Traceback (most recent call last):" in log
    assert log.endswith(
        f"ebscan.acquire.mast.FetchError: sector 7 bulk script: {url}: HTTP 404 Not Found\n"
    )
    assert (results / LOCK_NAME).read_text() == ""  # released by the failed run


# 6. Exit 1 when no input produced a segment.


def test_preprocess_exits_1_when_nothing_produced_a_segment(spoc_dir, tmp_path, capsys):
    missing = tmp_path / "missing.fits"
    output = tmp_path / "s.h5"
    assert main(["preprocess", str(missing), str(TRUNCATED), "-o", str(output)]) == 1
    err = capsys.readouterr().err
    assert f"rejected {missing}: cannot open: No such file or directory\n" in err
    assert err.endswith(
        f"{output}: 2 files -> 0 segments, 2 rejected\n"
        "ebscan preprocess: error: none of the 2 input files produced a segment "
        "(the reasons are above)\n"
    )
    assert len(read_shard(output)["rejects"]["reason"]) == 2  # the reasons are kept


def test_gls_exits_1_when_no_source_file_can_be_read_again(spoc_dir, tmp_path, capsys):
    copy = tmp_path / CM_DRA_S24.name
    shutil.copy(CM_DRA_S24, copy)
    assert main(["preprocess", str(copy), "-o", str(tmp_path / "lc.h5"), "--no-gls"]) == 0
    copy.unlink()
    capsys.readouterr()
    assert main(["gls", str(tmp_path / "lc.h5"), "-o", str(tmp_path / "g.h5")]) == 1
    assert capsys.readouterr().err == (
        f"{tmp_path / 'g.h5'}: 1 source files unreadable now, moved to rejects\n"
        "ebscan gls: error: none of the 1 source files could be read again\n"
    )
    assert read_shard(tmp_path / "g.h5")["rejects"]["reason"] == [
        "cannot open: No such file or directory"
    ]


# 7. Permanent network errors fail at once; transient ones are retried.


def test_offline_manifest_fails_at_the_first_attempt(tmp_path, monkeypatch, capsys):
    attempts = []
    real_urlopen = urllib.request.urlopen

    def counting(*args, **kwargs):
        attempts.append(args[0].full_url)
        return real_urlopen(*args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", counting)
    url = "https://archive.ebscan.invalid/tesscurl_sector_{sector}_lc.sh"
    argv = ["manifest", "--sector", "1", "-o", str(tmp_path / "m.csv"), "--retries", "5"]
    assert main([*argv, "--bulk-script-url", url]) == 1
    assert attempts == [url.format(sector=1)]
    assert one_error_line(capsys) == (
        f"ebscan manifest: error: sector 1 bulk script: {url.format(sector=1)}: cannot "
        "resolve the host name (Name or service not known; offline?)"
    )
    assert not (tmp_path / "m.csv").exists()


def test_404_is_not_retried_but_503_is(spoc_dir, tmp_path):
    with MirrorServer(spoc_dir) as server:
        server.plan(GOOD[0], "503")
        outcomes = mast.download_files(
            ["tess-no-such-product_lc.fits", GOOD[0]],
            tmp_path,
            server.download_url,
            retries=5,
            backoff=0.01,
        )
        asked = [name for name, _ in server.requests]
    assert asked.count("tess-no-such-product_lc.fits") == 1
    assert asked.count(GOOD[0]) == 2
    url = mast.product_url(server.download_url, "tess-no-such-product_lc.fits")
    assert outcomes[0].reason == f"HTTP 404 Not Found ({url})"
    assert outcomes[1].status == "downloaded"


def test_which_failures_are_permanent():
    import urllib.error

    def http(code):
        return urllib.error.HTTPError("u", code, "x", {}, None)

    assert [mast.permanent(http(c)) for c in (400, 403, 404, 408, 429, 500, 503)] == [
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    assert mast.permanent(urllib.error.URLError(socket.gaierror(-3, "Temporary failure")))
    assert not mast.permanent(urllib.error.URLError(ConnectionRefusedError()))
    assert not mast.permanent(TimeoutError())


# 8. The MAST stand-in of the README: a folder of light curves served under MAST's paths.


def test_mirror_server_serves_a_folder_with_bulk_scripts_made_from_it(spoc_dir, tmp_path):
    server = subprocess.Popen(
        [sys.executable, "-m", "ebscan.acquire.mirror_server", str(spoc_dir), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=sigint_as_at_a_terminal,
    )
    try:
        lines = [server.stdout.readline() for _ in range(9)]
        assert lines[0].startswith(f"Serving {spoc_dir} like MAST at http://127.0.0.1:")
        assert "sectors (light curves): spoc-2min 1 (32), 3 (2), " in lines[0]
        assert lines[2:4] == ["  products:\n", "    spoc-2min:\n"]
        bulk = lines[4].split('"')[1]
        download = lines[6].split('"')[1]
        search = lines[7].split("--mast-url ")[1].strip()
        assert lines[8] == "Ctrl-C stops it.\n"
        m = tmp_path / "m.csv"
        assert main(["manifest", "--sector", "1", "-o", str(m), "--bulk-script-url", bulk]) == 0
        rows = mast.read_manifest(m)
        assert [r["filename"] for r in rows] == SECTOR1
        # The same light curves through MAST's search, for a list of their TICs.
        tics = tmp_path / "tics.txt"
        tics.write_text("".join(f"{r['tic']}\n" for r in rows))
        searched = tmp_path / "searched.csv"
        argv = ["manifest", "--search", "--tics", str(tics), "--sector", "1"]
        assert main([*argv, "--mast-url", search, "-o", str(searched)]) == 0
        assert searched.read_text() == m.read_text()
        dest = tmp_path / "lc"
        argv = ["download", "--manifest", str(m), "--dest", str(dest), "--no-progress"]
        assert main([*argv, "--download-url", download]) == 1  # the truncated file
        assert (dest / GOOD[0]).read_bytes() == (spoc_dir / GOOD[0]).read_bytes()
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
