"""Sector manifests and verified downloads of TESS light curves from MAST (or a mirror).

A manifest lists a sector's light-curve files of one product (:mod:`ebscan.acquire.products`:
the 2-minute SPOC files, the TESS-SPOC full-frame-image files), parsed from MAST's
per-sector bulk download script for it (one ``curl`` line per file). Downloads go to a
temporary name, are verified (size, FITS with a ``LIGHTCURVE`` table) and renamed into
place, so a file under its final name is always complete; a complete file is never
fetched again.

Both addresses are templates so that a mirror or a test server can stand in:
``bulk_script_url`` with ``{sector}`` and ``download_url`` with ``{uri}`` or
``{filename}`` (see :func:`product_url`).
"""

from __future__ import annotations

import csv
import dataclasses
import errno
import http.client
import io
import os
import random
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tqdm import tqdm

from ebscan import __version__
from ebscan.acquire.products import MAST_DOWNLOAD_URL, PRODUCTS, SPOC_2MIN, file_fields, identify
from ebscan.atomic import atomic_open, write_csv
from ebscan.config import MastConfig
from ebscan.errors import LightCurveError, WriteError
from ebscan.tables import read_table

#: The same files from the public AWS bucket (no MAST load; anonymous HTTPS).
S3_DOWNLOAD_URL = "https://stpubdata.s3.amazonaws.com/{path}"
MANIFEST_FIELDS = ("filename", "tic", "sector", "uri")
DOWNLOAD_REPORT_FIELDS = ("filename", "status", "bytes", "reason")
USER_AGENT = f"ebscan/{__version__} (TESS eclipsing-binary survey)"

#: The file a ``curl`` line writes: ``-o NAME`` or ``--output NAME``, quoted or not.
_CURL_OUTPUT = re.compile(r"^\s*curl\b.*?\s(?:-o|--output)\s+(?:'([^']+)'|\"([^\"]+)\"|(\S+))")


def product_row(filename: str, uri: str | None = None) -> dict | None:
    """The manifest row of a light curve of a known product, or None for another file.

    Parameters
    ----------
    filename : str
        A file name as MAST gives it (:mod:`ebscan.acquire.products`), such as
        ``tess2018206045859-s0001-0000000025155310-0120-s_lc.fits``.
    uri : str, optional
        Its MAST URI (default: the product's, from the name).

    Returns
    -------
    dict or None
        ``filename``, ``tic``, ``sector`` and ``uri`` (:data:`MANIFEST_FIELDS`), and
        ``product``.
    """
    if identify(filename) is None:
        return None
    fields = file_fields(filename)
    return {
        **{field: fields[field] for field in MANIFEST_FIELDS},
        "uri": uri or fields["uri"],
        "product": fields["product"],
    }


def _script_lines(text: str) -> Iterator[tuple[dict | None, str]]:
    """(:func:`product_row`, "") for each light curve of a bulk script, (None, why) for
    each other line that is not blank or a comment."""
    seen = set()
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _CURL_OUTPUT.match(line)
        if not match:
            yield None, "not a curl command"
            continue
        filename = os.path.basename(next(group for group in match.groups() if group))
        row = product_row(filename)
        if row is None:
            yield None, "not a light curve of a known product"
        elif filename in seen:
            yield None, "listed twice"
        else:
            seen.add(filename)
            yield row, ""


def parse_bulk_script(text: str) -> list[dict]:
    """Light-curve files of a MAST bulk download script.

    Parameters
    ----------
    text : str
        The script: a shebang, then one ``curl`` line per file, such as
        ``curl -C - -L -o tess...-s0001-0000000025155310-0120-s_lc.fits https://...``
        (2-minute files) or ``curl -f --create-dirs --output
        s0014/target/.../hlsp_tess-spoc_tess_phot_...-s0014_tess_v1_lc.fits ...``
        (TESS-SPOC). The file named after ``-o`` or ``--output`` counts.

    Returns
    -------
    list of dict
        :func:`product_row` of each line whose file is a light curve of a known product
        (:mod:`ebscan.acquire.products`), in script order, duplicates dropped. (The scripts give
        no sizes; a download is checked against its Content-Length and by opening the
        file.)
    """
    return [row for row, _ in _script_lines(text) if row]


def bulk_script(filenames: Iterable[str]) -> str:
    """A bulk download script as MAST publishes them: one ``curl`` line per file, in
    the form of each file's product (what :func:`parse_bulk_script` reads)."""
    lines = ["#!/bin/sh"]
    for name in filenames:
        fields = file_fields(name)
        url = MAST_DOWNLOAD_URL.format(**fields)
        lines.append(PRODUCTS[fields["product"]].script_line.format(**fields, url=url))
    return "\n".join(lines) + "\n"


class IncompleteDownload(OSError):
    """A transfer that ended short or produced a file that does not verify."""


class FetchError(OSError):
    """A URL that could not be fetched: what it was for, the URL and why."""

    def __init__(self, url: str, reason: str, purpose: str = "") -> None:
        super().__init__(f"{purpose}: {url}: {reason}" if purpose else f"{url}: {reason}")
        self.url, self.reason = url, reason


#: Failures worth another try: the network or the server may do better next time
#: (but see :func:`permanent`).
TRANSIENT = (
    urllib.error.URLError,
    http.client.HTTPException,
    TimeoutError,
    ConnectionError,
    IncompleteDownload,
)


def _http_answer(exc: BaseException) -> tuple[int, str, dict] | None:
    """(status, reason, headers) of an HTTP error answer, from urllib or from requests
    (which astroquery uses); None for a failure without an answer."""
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code, exc.reason, exc.headers
    response = getattr(exc, "response", None)
    if getattr(response, "status_code", None):
        return response.status_code, response.reason, response.headers
    return None


def _cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of ``kind`` behind ``exc``: urllib carries the cause as the
    reason, requests (through urllib3) a few wrappers down."""
    pending, seen = [exc], set()
    while pending:
        cause = pending.pop(0)
        if not isinstance(cause, BaseException) or id(cause) in seen:
            continue
        if isinstance(cause, kind):
            return cause
        seen.add(id(cause))
        pending += [getattr(cause, "reason", None), cause.__cause__, cause.__context__]
        pending += [arg for arg in cause.args if isinstance(arg, BaseException)]
    return None


def permanent(exc: BaseException) -> bool:
    """Whether another try cannot mend ``exc``: an HTTP answer 4xx (but 408 Request
    Timeout and 429 Too Many Requests), or a host name that does not resolve (no
    network, no DNS, or a typo in the URL: waiting does not change any of them)."""
    answer = _http_answer(exc)
    if answer is not None:
        return answer[0] < 500 and answer[0] not in (408, 429)
    return _cause(exc, socket.gaierror) is not None


def describe(exc: BaseException) -> str:
    """A network failure in a few words: ``HTTP 404 Not Found``, ``host ... not found``."""
    answer = _http_answer(exc)
    if answer is not None:
        return f"HTTP {answer[0]} {answer[1]}"
    unresolved = _cause(exc, socket.gaierror)
    if unresolved is not None:
        return f"cannot resolve the host name ({unresolved.strerror}; offline?)"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    refused = _cause(exc, ConnectionRefusedError)
    if refused is not None:  # requests words it over three lines of urllib3's wrappers
        return str(refused)
    return f"{type(exc).__name__}: {exc}"


def retrying(
    call: Callable,
    retries: int,
    backoff: float,
    stop: threading.Event | None = None,
    transient: tuple[type[BaseException], ...] = TRANSIENT,
):
    """Run ``call`` with exponential backoff and jitter on ``transient`` failures.

    Retried: timeouts, dropped connections, short bodies, files that fail
    verification, HTTP 5xx, 408 and 429 (waiting ``Retry-After`` seconds when the
    server says so). Permanent failures (:func:`permanent`) propagate at once. A
    ``stop`` event set during a wait ends the wait early.
    """
    pause = stop.wait if stop is not None else time.sleep
    attempt = 0
    while True:
        try:
            return call()
        except transient as exc:
            if permanent(exc) or attempt == retries:
                raise
            answer = _http_answer(exc)
            retry_after = answer[2].get("Retry-After", "") if answer is not None else ""
            delay = float(retry_after) if retry_after.isdigit() else backoff * 2**attempt
        pause(delay * random.uniform(0.5, 1.5))
        attempt += 1


def fetch_text(
    url: str,
    retries: int = MastConfig.retries,
    timeout: float = MastConfig.timeout_s,
    backoff: float = 1.0,
) -> str:
    """GET ``url`` as text, retrying transient failures.

    Raises
    ------
    FetchError
        Naming the URL and the last failure, once the retries are spent or at once
        for a permanent failure.
    """

    def get() -> str:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read().decode()

    try:
        return retrying(get, retries, backoff)
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(url, describe(exc)) from exc


class EmptyManifest(Exception):
    """A bulk script that lists no light curve of its sector: the wrong script, a
    mirror that lacks the sector, or a sector MAST has not published yet."""


def skipped_lines(skipped: dict[str, int]) -> str:
    """``skipped 3 lines: 2 of sector 2, 1 not a curl command`` (or ``no line skipped``)."""
    if not skipped:
        return "no line skipped"
    n = sum(skipped.values())
    reasons = ", ".join(f"{count} {reason}" for reason, count in skipped.items())
    return f"skipped {n} line{'s' * (n != 1)}: {reasons}"


def sector_manifest(
    sector: int,
    bulk_script_url: str = SPOC_2MIN.bulk_script_url,
    tics: Iterable[int] | None = None,
    retries: int = MastConfig.retries,
    timeout: float = MastConfig.timeout_s,
    product: str = SPOC_2MIN.name,
) -> tuple[list[dict], dict[str, int]]:
    """The light-curve files of one product and sector, optionally only of some TICs.

    ``bulk_script_url`` is the product's script (a template with ``{sector}``); files
    of other products that it may list are left out.

    Returns
    -------
    rows : list of dict
        Manifest rows (:data:`MANIFEST_FIELDS`), in script order.
    skipped : dict
        How many lines of the script gave no row, by reason (``of sector 2``, ``not
        a 2-minute light curve``, ``TIC not asked for``, ...); :func:`skipped_lines`
        says it in words.

    Raises
    ------
    FetchError
        When the sector's bulk script cannot be fetched (the message names the
        sector and the URL).
    EmptyManifest
        When the script lists no light curve of the sector (the message names the
        URL and the lines skipped).
    """
    url = bulk_script_url.format(sector=sector)
    try:
        text = fetch_text(url, retries, timeout)
    except FetchError as exc:
        raise FetchError(exc.url, exc.reason, f"sector {sector} bulk script") from exc
    wanted = None if tics is None else set(tics)
    rows, skipped, n_found = [], Counter(), 0
    for row, reason in _script_lines(text):
        if row is not None and row["product"] != product:
            reason = f"not a {product} light curve"
        elif row is not None and row["sector"] != sector:
            reason = f"of sector {row['sector']}"
        elif row is not None:
            n_found += 1
            if wanted is not None and row["tic"] not in wanted:
                reason = "TIC not asked for"
        if reason:
            skipped[reason] += 1
        else:
            rows.append({field: row[field] for field in MANIFEST_FIELDS})
    if not n_found:
        raise EmptyManifest(
            f"sector {sector} bulk script: {url}: lists no {product} light curve of sector "
            f"{sector} ({skipped_lines(skipped) if skipped else 'no curl line at all'})"
        )
    return rows, dict(skipped)


def write_manifest(rows: list[dict], path: str | os.PathLike) -> None:
    """Write manifest rows as CSV, atomically."""
    write_csv(path, rows, MANIFEST_FIELDS)


def read_manifest(path: str | os.PathLike) -> list[dict]:
    """Rows of a manifest CSV, with ``tic`` and ``sector`` as int.

    Raises
    ------
    InputError
        For an empty file or a table without the manifest's columns.
    """
    return [
        {**r, "tic": int(r["tic"]), "sector": int(r["sector"])}
        for r in read_table(path, MANIFEST_FIELDS, "manifest")
    ]


#: Why a file that an interrupted download did not finish failed.
INTERRUPTED = "interrupted (a partial file is kept; run again to resume)"
#: Errors of writing a download that no retry mends.
_DISK_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM)


class _Stopped(Exception):
    """A transfer ended on request (Ctrl-C); never retried."""


class DownloadInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`download_files`.

    Attributes
    ----------
    outcomes : list of DownloadOutcome
        Every file's outcome, in input order: what arrived, and ``failed`` with
        :data:`INTERRUPTED` for the rest.
    """

    def __init__(self, outcomes: list[DownloadOutcome]) -> None:
        super().__init__()
        self.outcomes = outcomes


@dataclass(frozen=True)
class DownloadOutcome:
    """What happened to one manifest entry."""

    filename: str
    status: str  # "downloaded", "present" or "failed"
    bytes: int
    reason: str = ""


def _verified(path: str) -> str | None:
    """None if ``path`` is a complete light-curve file, else why not."""
    # Imported here: reading FITS brings NumPy, which a manifest does not need.
    from ebscan.lightcurves.io import read_lightcurve

    try:
        read_lightcurve(path)
    except LightCurveError as exc:
        return exc.reason
    return None


def product_url(template: str, filename: str) -> str:
    """Fill a download-URL template for one file.

    Fields (:meth:`ebscan.acquire.products.Product.fields` of the file's product):
    ``{filename}``, ``{uri}`` (MAST's: ``mast:TESS/product/<filename>``,
    ``mast:HLSP/tess-spoc/s0014/target/.../<filename>``), ``{sector}``, ``{tic}``,
    ``{tid_path}`` (the 16-digit TIC as ``0000/0000/2515/5310``) and ``{path}`` (the
    file's place in MAST's archive tree, as the public S3 bucket lays it out: see
    ``S3_DOWNLOAD_URL``).
    """
    return template.format(**file_fields(filename))


def download_file(
    filename: str,
    dest: str | os.PathLike,
    download_url: str = MastConfig.download_url,
    retries: int = MastConfig.retries,
    timeout: float = MastConfig.timeout_s,
    backoff: float = 1.0,
    on_bytes: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
) -> DownloadOutcome:
    """Fetch one product into ``dest`` unless a verified copy is already there.

    The body goes to ``.<filename>.part``; after a dropped connection or a short
    body the next attempt resumes it with an HTTP Range request. The finished file
    must open as a light curve (complete, with its ``LIGHTCURVE`` table) before it
    is renamed to its final name; a file that does not is fetched again from
    scratch, and so is a corrupt file already under the final name.

    Parameters
    ----------
    filename : str
        Product name, e.g. ``tess2018206045859-s0001-0000000025155310-0120-s_lc.fits``.
    dest : path
        Folder of the finished files.
    download_url : str
        Template (see :func:`product_url`).
    retries : int
        Further attempts after the first, with exponential backoff and jitter.
    timeout : float
        Seconds without data before an attempt is abandoned.
    backoff : float
        First delay between attempts, in seconds.
    on_bytes : callable, optional
        Called with the size of every chunk received (progress reporting).
    stop : threading.Event, optional
        When set, the transfer ends after the chunk in hand (failed, ``interrupted``;
        the partial file stays for the next run to resume).

    Returns
    -------
    DownloadOutcome
        ``status`` is ``present``, ``downloaded`` or ``failed`` (with the reason:
        what went wrong and the URL).
    """
    dest = os.fspath(dest)
    final = os.path.join(dest, filename)
    if os.path.exists(final) and _verified(final) is None:
        return DownloadOutcome(filename, "present", os.path.getsize(final))
    os.makedirs(dest, exist_ok=True)
    part = os.path.join(dest, f".{filename}.part")
    url = product_url(download_url, filename)

    def attempt() -> None:
        if stop is not None and stop.is_set():
            raise _Stopped
        have = os.path.getsize(part) if os.path.exists(part) else 0
        headers = {"User-Agent": USER_AGENT}
        if have:
            headers["Range"] = f"bytes={have}-"
        request = urllib.request.Request(url, headers=headers)
        try:
            response = urllib.request.urlopen(request, timeout=timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 416:  # the partial file is no prefix of the product: start over
                os.remove(part)
                raise IncompleteDownload("range not satisfiable; restarting") from None
            raise
        expected = response.headers.get("Content-Length")
        received = 0
        try:
            with response, open(part, "ab" if response.status == 206 else "wb") as out:
                while chunk := response.read(1 << 16):
                    out.write(chunk)
                    received += len(chunk)
                    if on_bytes:
                        on_bytes(len(chunk))
                    if stop is not None and stop.is_set():
                        raise _Stopped
        except OSError as exc:
            if exc.errno in _DISK_ERRORS:
                raise WriteError(final, exc) from exc
            raise
        if expected is not None and received < int(expected):
            # A dropped connection: keep the part, the next attempt asks for the rest.
            raise IncompleteDownload(f"connection closed after {received} of {expected} bytes")
        problem = _verified(part)
        if problem is not None:
            os.remove(part)
            raise IncompleteDownload(f"verification failed: {problem}")

    try:
        retrying(attempt, retries, backoff, stop)
    except _Stopped:
        return DownloadOutcome(filename, "failed", 0, INTERRUPTED)
    except WriteError as exc:
        return DownloadOutcome(filename, "failed", 0, str(exc))
    except (OSError, http.client.HTTPException) as exc:
        return DownloadOutcome(filename, "failed", 0, f"{describe(exc)} ({url})")
    os.replace(part, final)
    return DownloadOutcome(filename, "downloaded", os.path.getsize(final))


def download_files(
    filenames: Iterable[str],
    dest: str | os.PathLike,
    download_url: str = MastConfig.download_url,
    concurrency: int = MastConfig.concurrency,
    retries: int = MastConfig.retries,
    timeout: float = MastConfig.timeout_s,
    backoff: float = 1.0,
    progress: bool = False,
) -> list[DownloadOutcome]:
    """Download many products, at most ``concurrency`` at a time, in input order.

    With ``progress``, a bar on stderr shows bytes, rate, and files done and failed.

    Raises
    ------
    DownloadInterrupted
        On Ctrl-C: transfers in flight stop after their current chunk, the others
        never start, and the exception carries every file's outcome.
    """
    names = list(filenames)
    bar = tqdm(
        total=None,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        disable=not progress,
        desc="download",
        dynamic_ncols=True,
    )
    done = failed = 0
    lock = threading.Lock()
    stop = threading.Event()

    def one(name: str) -> DownloadOutcome:
        nonlocal done, failed
        outcome = download_file(
            name, dest, download_url, retries, timeout, backoff, bar.update, stop
        )
        with lock:
            done += 1
            failed += outcome.status == "failed"
            bar.set_postfix_str(f"{done}/{len(names)} files, {failed} failed", refresh=False)
        return outcome

    with bar, ThreadPoolExecutor(max_workers=max(concurrency, 1)) as pool:
        futures = [pool.submit(one, name) for name in names]
        try:
            return [future.result() for future in futures]
        except KeyboardInterrupt:
            stop.set()
            for future in futures:
                future.cancel()
            pool.shutdown(wait=True)
            outcomes = [
                DownloadOutcome(name, "failed", 0, INTERRUPTED)
                if future.cancelled()
                else future.result()
                for name, future in zip(names, futures, strict=True)
            ]
            raise DownloadInterrupted(outcomes) from None


def download_report(outcomes: list[DownloadOutcome]) -> str:
    """The download report: one row per file (``DOWNLOAD_REPORT_FIELDS``), as TSV text."""
    text = io.StringIO()
    writer = csv.DictWriter(text, DOWNLOAD_REPORT_FIELDS, delimiter="\t")
    writer.writeheader()
    writer.writerows(dataclasses.asdict(o) for o in outcomes)
    return text.getvalue()


def write_download_report(outcomes: list[DownloadOutcome], path: str | os.PathLike) -> None:
    """Write :func:`download_report` to ``path``, atomically."""
    with atomic_open(path, newline="") as handle:
        handle.write(download_report(outcomes))


def read_download_report(path: str | os.PathLike) -> list[dict]:
    """Rows of a download report."""
    return read_table(path, DOWNLOAD_REPORT_FIELDS, "download report", delimiter="\t")
