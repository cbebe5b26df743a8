"""Where output goes: a workflow job's into its log file, with what the job was and how
it ended; TensorFlow's start-up lines nowhere, unless asked for."""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import socket
import sys
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime

from ebscan import __version__


@contextlib.contextmanager
def logging_to(path: str | os.PathLike, context: str = "") -> Iterator[None]:
    """Redirect stdout and stderr (Python's and C libraries') to ``path`` for the block.

    The log opens with ``context`` (say the rule and its wildcards). An exception
    that leaves the block is written to the log with its traceback before it goes
    on, so the log that Snakemake points to after a failed job says what failed and
    where: on a cluster it is all a user has.
    """
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as log:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                if context:
                    print(context, flush=True)
                try:
                    yield
                except BaseException:
                    traceback.print_exc(file=log)
                    raise
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def job_context(job) -> str:
    """A job's identity for its log: rule, wildcards, inputs, outputs, host and time.

    ``job`` is the ``snakemake`` object of a workflow script.
    """
    wildcards = ", ".join(f"{k}={v}" for k, v in job.wildcards.items())
    lines = [
        f"rule {job.rule}" + (f" ({wildcards})" if wildcards else ""),
        f"  input: {' '.join(map(str, job.input)) or '-'}",
        f"  output: {' '.join(map(str, job.output))}",
        f"  ebscan {__version__} on {socket.gethostname()}, pid {os.getpid()}, "
        f"started {datetime.now(UTC).isoformat(timespec='seconds')}",
    ]
    return "\n".join(lines)


def job_log(job) -> contextlib.AbstractContextManager[None]:
    """:func:`logging_to` the job's log, opened with :func:`job_context`."""
    return logging_to(job.log[0], job_context(job))


@contextlib.contextmanager
def _stderr_to_devnull() -> Iterator[None]:
    """File descriptor 2 on /dev/null for the block (C and C++ code writes there)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` and loads it with stderr on /dev/null.

    TensorFlow writes its start-up lines (oneDNN, CPU instructions, CUDA factories)
    from C++ while it is imported, before it reads ``TF_CPP_MIN_LOG_LEVEL``, so only
    silencing the file descriptor during the import hides them. Errors of the import
    itself still reach the caller as exceptions.
    """

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            load = spec.loader.exec_module

            def exec_quietly(module) -> None:
                with _stderr_to_devnull():
                    load(module)

            spec.loader.exec_module = exec_quietly
        return spec


def quiet_tensorflow() -> None:
    """Hide TensorFlow's start-up logs and its C++ INFO and WARNING lines from here on.

    Costs nothing when TensorFlow is never imported. ``TF_CPP_MIN_LOG_LEVEL`` set by
    the user wins.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" not in sys.modules and not any(
        isinstance(finder, _QuietTensorFlowImport) for finder in sys.meta_path
    ):
        sys.meta_path.insert(0, _QuietTensorFlowImport())
