"""Send a workflow job's output to its log file, with what the job was and how it ended."""

from __future__ import annotations

import contextlib
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
