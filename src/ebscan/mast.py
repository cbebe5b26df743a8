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
import os
import random
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ebscan import __version__
from ebscan.errors import LightCurveError
from ebscan.io import read_lightcurve

BULK_SCRIPT_URL = (
    "https://archive.stsci.edu/missions/tess/download_scripts/sector/tesscurl_sector_{sector}_lc.sh"
)
DOWNLOAD_URL = "https://mast.stsci.edu/api/v0.1/Download/file/?uri=mast:TESS/product/{filename}"
MANIFEST_FIELDS = ("filename", "tic", "sector")
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
        ``filename``, ``tic`` and ``sector`` of each ``*_lc.fits`` line, in script order,
        duplicates dropped.
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
            {"filename": filename, "tic": int(product.group(2)), "sector": int(product.group(1))}
        )
    return products


def _retrying(call: Callable, retries: int, backoff: float):
    """Run ``call`` with exponential backoff and jitter on transient failures.

    Retried: timeouts, dropped connections, short bodies, HTTP 5xx and 429 (waiting
    for ``Retry-After`` when the server gives one). Other errors propagate at once.
    """
    attempt = 0
    while True:
        try:
            return call()
        except urllib.error.HTTPError as exc:
            if (exc.code < 500 and exc.code != 429) or attempt == retries:
                raise
            delay = float(exc.headers.get("Retry-After") or backoff * 2**attempt)
        except (urllib.error.URLError, TimeoutError, ConnectionError, IncompleteDownload):
            if attempt == retries:
                raise
            delay = backoff * 2**attempt
        time.sleep(delay * random.uniform(0.5, 1.5))
        attempt += 1


class IncompleteDownload(OSError):
    """The body ended before Content-Length bytes arrived."""


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
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".tmp", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        writer.writerows({k: row[k] for k in MANIFEST_FIELDS} for row in rows)
    os.replace(path + ".tmp", path)


def read_manifest(path: str | os.PathLike) -> list[dict]:
    """Rows of a manifest CSV, with ``tic`` and ``sector`` as int."""
    with open(path, newline="") as handle:
        return [
            {"filename": r["filename"], "tic": int(r["tic"]), "sector": int(r["sector"])}
            for r in csv.DictReader(handle)
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


def download_file(
    filename: str,
    dest: str | os.PathLike,
    download_url: str = DOWNLOAD_URL,
    retries: int = 5,
    timeout: float = 60.0,
    backoff: float = 1.0,
) -> DownloadOutcome:
    """Fetch one product into ``dest`` unless a verified copy is already there.

    The body goes to ``.<filename>.part``; an interrupted transfer resumes from it
    with an HTTP Range request. Only a file that opens as a light curve is renamed
    to its final name; a corrupt final file is fetched again.
    """
    dest = os.fspath(dest)
    final = os.path.join(dest, filename)
    if os.path.exists(final) and _verified(final) is None:
        return DownloadOutcome(filename, "present", os.path.getsize(final))
    os.makedirs(dest, exist_ok=True)
    part = os.path.join(dest, f".{filename}.part")
    url = download_url.format(filename=filename)

    def transfer() -> None:
        have = os.path.getsize(part) if os.path.exists(part) else 0
        headers = {"User-Agent": USER_AGENT}
        if have:
            headers["Range"] = f"bytes={have}-"
        request = urllib.request.Request(url, headers=headers)
        try:
            response = urllib.request.urlopen(request, timeout=timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 416:  # the partial file is not a prefix any more: start over
                os.remove(part)
                raise IncompleteDownload("range not satisfiable; restarting") from None
            raise
        with response:
            resumed = response.status == 206
            expected = response.headers.get("Content-Length")
            expected = int(expected) if expected is not None else None
            received = 0
            with open(part, "ab" if resumed else "wb") as out:
                while chunk := response.read(1 << 20):
                    out.write(chunk)
                    received += len(chunk)
        if expected is not None and received < expected:
            raise IncompleteDownload(f"{received} of {expected} bytes")

    try:
        _retrying(transfer, retries, backoff)
    except (OSError, urllib.error.URLError) as exc:
        return DownloadOutcome(filename, "failed", 0, f"{type(exc).__name__}: {exc}")
    problem = _verified(part)
    if problem is not None:
        os.remove(part)
        return DownloadOutcome(filename, "failed", 0, f"verification failed: {problem}")
    os.replace(part, final)
    return DownloadOutcome(filename, "downloaded", os.path.getsize(final))


def download_files(
    filenames: Iterable[str],
    dest: str | os.PathLike,
    download_url: str = DOWNLOAD_URL,
    concurrency: int = 4,
    retries: int = 5,
    timeout: float = 60.0,
) -> list[DownloadOutcome]:
    """Download many products with at most ``concurrency`` transfers at a time."""
    with ThreadPoolExecutor(max_workers=max(concurrency, 1)) as pool:
        return list(
            pool.map(
                lambda name: download_file(name, dest, download_url, retries, timeout), filenames
            )
        )


def write_download_report(outcomes: list[DownloadOutcome], path: str | os.PathLike) -> None:
    """Write one row per file (filename, status, bytes, reason) as TSV, atomically."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".tmp", "w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["filename", "status", "bytes", "reason"])
        writer.writerows([o.filename, o.status, o.bytes, o.reason] for o in outcomes)
    os.replace(path + ".tmp", path)


def read_download_report(path: str | os.PathLike) -> list[dict]:
    """Rows of a download report."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))
