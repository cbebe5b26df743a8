"""Sector manifests and verified downloads of TESS light curves from MAST (or a mirror).

A manifest lists a sector's 2-minute light-curve products, parsed from MAST's
per-sector bulk download script (``tesscurl_sector_N_lc.sh``: one ``curl`` line per
file). Downloads go to a temporary name, are verified (size, FITS with a
``LIGHTCURVE`` table) and renamed into place, so a file under its final name is
always complete; a complete file is never fetched again.

Both addresses are templates so that a mirror or a test server can stand in:
``bulk_script_url`` with ``{sector}`` and ``download_url`` with ``{filename}``.
"""

from __future__ import annotations

import csv
import dataclasses
import http.client
import os
import random
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tqdm import tqdm

from ebscan import __version__
from ebscan.atomic import write_csv
from ebscan.errors import LightCurveError
from ebscan.io import read_lightcurve

BULK_SCRIPT_URL = (
    "https://archive.stsci.edu/missions/tess/download_scripts/sector/tesscurl_sector_{sector}_lc.sh"
)
DOWNLOAD_URL = "https://mast.stsci.edu/api/v0.1/Download/file/?uri={uri}"
#: The same files from the public AWS bucket (no MAST load; anonymous HTTPS).
S3_DOWNLOAD_URL = (
    "https://stpubdata.s3.amazonaws.com/tess/public/tid/s{sector:04d}/{tid_path}/{filename}"
)
MANIFEST_FIELDS = ("filename", "tic", "sector", "uri")
USER_AGENT = f"ebscan/{__version__} (TESS eclipsing-binary survey)"

_CURL_LINE = re.compile(r"^\s*curl\b.*?\s-o\s+(\S+)\s+(\S+)\s*$")
_PRODUCT = re.compile(r"-s(\d{4})-(\d{16})-\d{4}-[a-z]_lc\.fits$")


def parse_bulk_script(text: str) -> list[dict]:
    """Light-curve products of a MAST bulk download script.

    Parameters
    ----------
    text : str
        The script: a shebang, then lines like
        ``curl -C - -L -o tess...-s0001-0000000025155310-0120-s_lc.fits https://...``.

    Returns
    -------
    list of dict
        ``filename``, ``tic``, ``sector`` and MAST ``uri`` of each ``*_lc.fits`` line, in
        script order, duplicates dropped. (The scripts give no sizes; a download is
        checked against its Content-Length and by opening the file.)
    """
    products, seen = [], set()
    for line in text.splitlines():
        match = _CURL_LINE.match(line)
        if not match:
            continue
        filename = os.path.basename(match.group(1))
        product = _PRODUCT.search(filename)
        if not product or filename in seen:
            continue
        seen.add(filename)
        products.append(
            {
                "filename": filename,
                "tic": int(product.group(2)),
                "sector": int(product.group(1)),
                "uri": f"mast:TESS/product/{filename}",
            }
        )
    return products


class IncompleteDownload(OSError):
    """A transfer that ended short or produced a file that does not verify."""


#: Failures worth another try: the network or the server may do better next time.
TRANSIENT = (
    urllib.error.URLError,
    http.client.HTTPException,
    TimeoutError,
    ConnectionError,
    IncompleteDownload,
)


def _retrying(call: Callable, retries: int, backoff: float):
    """Run ``call`` with exponential backoff and jitter on transient failures.

    Retried: timeouts, dropped connections, short bodies, files that fail
    verification, HTTP 5xx and 429 (waiting ``Retry-After`` seconds when the server
    says so). Other HTTP errors (404, 403, ...) propagate at once.
    """
    attempt = 0
    while True:
        try:
            return call()
        except urllib.error.HTTPError as exc:
            if (exc.code < 500 and exc.code != 429) or attempt == retries:
                raise
            retry_after = exc.headers.get("Retry-After", "")
            delay = float(retry_after) if retry_after.isdigit() else backoff * 2**attempt
        except TRANSIENT:
            if attempt == retries:
                raise
            delay = backoff * 2**attempt
        time.sleep(delay * random.uniform(0.5, 1.5))
        attempt += 1


def fetch_text(url: str, retries: int = 5, timeout: float = 60.0, backoff: float = 1.0) -> str:
    """GET ``url`` as text, retrying transient failures."""

    def get() -> str:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read().decode()

    return _retrying(get, retries, backoff)


def sector_manifest(
    sector: int,
    bulk_script_url: str = BULK_SCRIPT_URL,
    tics: Iterable[int] | None = None,
    retries: int = 5,
    timeout: float = 60.0,
) -> list[dict]:
    """The light-curve products of one sector, optionally restricted to some TICs."""
    products = parse_bulk_script(
        fetch_text(bulk_script_url.format(sector=sector), retries, timeout)
    )
    products = [p for p in products if p["sector"] == sector]
    if tics is not None:
        wanted = set(tics)
        products = [p for p in products if p["tic"] in wanted]
    return products


def write_manifest(rows: list[dict], path: str | os.PathLike) -> None:
    """Write manifest rows as CSV, atomically."""
    write_csv(path, rows, MANIFEST_FIELDS)


def read_manifest(path: str | os.PathLike) -> list[dict]:
    """Rows of a manifest CSV, with ``tic`` and ``sector`` as int."""
    with open(path, newline="") as handle:
        return [
            {**r, "tic": int(r["tic"]), "sector": int(r["sector"])} for r in csv.DictReader(handle)
        ]


@dataclass(frozen=True)
class DownloadOutcome:
    """What happened to one manifest entry."""

    filename: str
    status: str  # "downloaded", "present" or "failed"
    bytes: int
    reason: str = ""


def _verified(path: str) -> str | None:
    """None if ``path`` is a complete light-curve file, else why not."""
    try:
        read_lightcurve(path)
    except LightCurveError as exc:
        return exc.reason
    return None


def product_url(template: str, filename: str) -> str:
    """Fill a download-URL template for one product.

    Fields: ``{filename}``, ``{uri}`` (``mast:TESS/product/<filename>``), ``{sector}``,
    ``{tic}`` and ``{tid_path}`` (the 16-digit TIC as ``0000/0000/2515/5310``, the
    folder layout of the public S3 bucket, see ``S3_DOWNLOAD_URL``).
    """
    product = _PRODUCT.search(filename)
    sector, tic = (int(product.group(1)), product.group(2)) if product else (0, "0" * 16)
    return template.format(
        filename=filename,
        uri=f"mast:TESS/product/{filename}",
        sector=sector,
        tic=int(tic),
        tid_path="/".join(tic[i : i + 4] for i in range(0, 16, 4)),
    )


def download_file(
    filename: str,
    dest: str | os.PathLike,
    download_url: str = DOWNLOAD_URL,
    retries: int = 5,
    timeout: float = 60.0,
    backoff: float = 1.0,
    on_bytes: Callable[[int], None] | None = None,
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

    Returns
    -------
    DownloadOutcome
        ``status`` is ``present``, ``downloaded`` or ``failed`` (with the reason).
    """
    dest = os.fspath(dest)
    final = os.path.join(dest, filename)
    if os.path.exists(final) and _verified(final) is None:
        return DownloadOutcome(filename, "present", os.path.getsize(final))
    os.makedirs(dest, exist_ok=True)
    part = os.path.join(dest, f".{filename}.part")
    url = product_url(download_url, filename)

    def attempt() -> None:
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
        with response, open(part, "ab" if response.status == 206 else "wb") as out:
            while chunk := response.read(1 << 16):
                out.write(chunk)
                received += len(chunk)
                if on_bytes:
                    on_bytes(len(chunk))
        if expected is not None and received < int(expected):
            # A dropped connection: keep the part, the next attempt asks for the rest.
            raise IncompleteDownload(f"connection closed after {received} of {expected} bytes")
        problem = _verified(part)
        if problem is not None:
            os.remove(part)
            raise IncompleteDownload(f"verification failed: {problem}")

    try:
        _retrying(attempt, retries, backoff)
    except (OSError, http.client.HTTPException) as exc:
        return DownloadOutcome(filename, "failed", 0, f"{type(exc).__name__}: {exc}")
    os.replace(part, final)
    return DownloadOutcome(filename, "downloaded", os.path.getsize(final))


def download_files(
    filenames: Iterable[str],
    dest: str | os.PathLike,
    download_url: str = DOWNLOAD_URL,
    concurrency: int = 4,
    retries: int = 5,
    timeout: float = 60.0,
    backoff: float = 1.0,
    progress: bool = False,
) -> list[DownloadOutcome]:
    """Download many products, at most ``concurrency`` at a time, in input order.

    With ``progress``, a bar on stderr shows bytes, rate, and files done and failed.
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

    def one(name: str) -> DownloadOutcome:
        nonlocal done, failed
        outcome = download_file(name, dest, download_url, retries, timeout, backoff, bar.update)
        with lock:
            done += 1
            failed += outcome.status == "failed"
            bar.set_postfix_str(f"{done}/{len(names)} files, {failed} failed", refresh=False)
        return outcome

    with bar, ThreadPoolExecutor(max_workers=max(concurrency, 1)) as pool:
        return list(pool.map(one, names))


def write_download_report(outcomes: list[DownloadOutcome], path: str | os.PathLike) -> None:
    """Write one row per file (filename, status, bytes, reason) as TSV, atomically."""
    fields = ("filename", "status", "bytes", "reason")
    write_csv(path, (dataclasses.asdict(o) for o in outcomes), fields, delimiter="\t")


def read_download_report(path: str | os.PathLike) -> list[dict]:
    """Rows of a download report."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))
