"""Finding stars' light curves at MAST by TIC, and fetching them into a cache.

The search goes through astroquery's MAST ``Observations`` (the service lightkurve's
``search_lightcurve`` uses too): the TESS time-series observations of the SPOC
pipeline whose target is the TIC, then their 2-minute light-curve products
(``*-s_lc.fits``). The result is a manifest (:data:`ebscan.acquire.mast.MANIFEST_FIELDS`), so
``ebscan download`` and :func:`ebscan.acquire.mast.download_files` fetch it like a sector's;
:func:`fetch_light_curves` does both into a cache folder, where a verified file is
never fetched again.

``mast_url`` points the search at another server answering like MAST's portal API
(``/api/v0/invoke``): a mirror, or :mod:`ebscan.acquire.mirror_server` in the tests.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ebscan.acquire.mast import (
    TRANSIENT,
    FetchError,
    describe,
    download_files,
    product_row,
    retrying,
)
from ebscan.config import MastConfig, PreprocessConfig
from ebscan.lightcurves.preprocess import FileResult, preprocess_files

#: The search's criteria for astroquery's ``Observations.query_criteria``: TESS
#: light curves from the SPOC pipeline (the 2-minute targets).
SPOC_TIMESERIES = {
    "obs_collection": "TESS",
    "dataproduct_type": "timeseries",
    "provenance_name": "SPOC",
}
#: The product group of 2-minute light curves (20-second ones are ``FAST-LC``).
LIGHT_CURVE_GROUP = "LC"


def default_cache() -> Path:
    """Where fetched light curves go unless told: ``$XDG_CACHE_HOME/ebscan/lightcurves``
    (``~/.cache/ebscan/lightcurves``)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ebscan" / "lightcurves"


def _observations(mast_url: str | None, timeout: float):
    """astroquery's MAST ``Observations``, asking ``mast_url`` when given, and giving
    up on a silent server after ``timeout`` seconds.

    astroquery fixes the portal's address when it is imported (``PortalAPI``'s class
    attributes, from ``astroquery.mast.conf.server``) and sends its requests without
    a timeout, so both are set on this instance's portal connection and session.
    """
    import requests
    from astroquery.mast import ObservationsClass

    class TimeoutAdapter(requests.adapters.HTTPAdapter):
        def send(self, request, **kwargs):
            kwargs["timeout"] = kwargs.get("timeout") or timeout
            return super().send(request, **kwargs)

    observations = ObservationsClass()
    for scheme in ("http://", "https://"):
        observations._session.mount(scheme, TimeoutAdapter())
    if mast_url:
        portal = observations._portal_api_connection
        portal.MAST_REQUEST_URL = f"{mast_url}/api/v0/invoke"
        portal.COLUMNS_CONFIG_URL = f"{mast_url}/portal/Mashup/Mashup.asmx/columnsconfig"
    return observations


def find_light_curves(
    tics: Iterable[int],
    sectors: Iterable[int] | None = None,
    mast_url: str | None = None,
    retries: int = MastConfig.retries,
    timeout: float = MastConfig.timeout_s,
    backoff: float = 1.0,
) -> list[dict]:
    """The 2-minute SPOC light curves of some stars at MAST, as a manifest.

    Parameters
    ----------
    tics : iterable of int
        TESS Input Catalog ids.
    sectors : iterable of int, optional
        Only these sectors (default: all).
    mast_url : str, optional
        A server answering like MAST's portal API, e.g. ``http://127.0.0.1:8765``
        (default: astroquery's, ``https://mast.stsci.edu``).
    retries, timeout, backoff
        Further tries of a query after a transient failure (a dropped connection, a
        timeout, HTTP 5xx), seconds without an answer before a try is given up, and
        the first wait between tries (it doubles).

    Returns
    -------
    list of dict
        Manifest rows (``filename``, ``tic``, ``sector``, ``uri``) sorted by TIC and
        sector; empty when MAST has no such light curve.

    Raises
    ------
    FetchError
        When MAST cannot be asked (the message names the TICs, the URL and why).
    """
    import requests
    from astroquery.exceptions import NoResultsWarning, RemoteServiceError

    tics = sorted({int(tic) for tic in tics})
    criteria = {**SPOC_TIMESERIES, "target_name": [str(tic) for tic in tics]}
    if sectors is not None:
        criteria["sequence_number"] = sorted({int(s) for s in sectors})
    observations = _observations(mast_url, timeout)

    def search() -> list[dict]:
        with warnings.catch_warnings():
            # No observation is an answer here, not a warning.
            warnings.simplefilter("ignore", NoResultsWarning)
            found = observations.query_criteria(**criteria)
            if len(found) == 0:
                return []
            products = observations.get_product_list(found)
        rows = {}
        for product in products:
            if product["productSubGroupDescription"] != LIGHT_CURVE_GROUP:
                continue
            row = product_row(str(product["productFilename"]), str(product["dataURI"]))
            if row is not None and row["tic"] in tics:
                rows[row["filename"]] = row
        return sorted(rows.values(), key=lambda r: (r["tic"], r["sector"]))

    url = observations._portal_api_connection.MAST_REQUEST_URL
    what = f"MAST search for TIC {', '.join(map(str, tics))}"
    try:
        return retrying(search, retries, backoff, transient=(*TRANSIENT, requests.RequestException))
    except RemoteServiceError as exc:
        raise FetchError(url, f"MAST answered: {exc}", what) from exc
    except (OSError, requests.RequestException) as exc:
        raise FetchError(url, describe(exc), what) from exc


@dataclass(frozen=True)
class Fetched:
    """One light curve of a search and whether it arrived.

    Attributes
    ----------
    path : str
        Its file in the cache.
    tic, sector : int
        From the product name.
    failure : str
        Why it could not be fetched (what went wrong and the URL); empty when it
        arrived or was already there.
    """

    path: str
    tic: int
    sector: int
    failure: str = ""


def fetch_light_curves(
    tics: Iterable[int],
    sectors: Iterable[int] | None = None,
    cache: str | os.PathLike | None = None,
    mast_url: str | None = None,
    download_url: str = MastConfig.download_url,
    retries: int = MastConfig.retries,
    timeout: float = MastConfig.timeout_s,
    progress: bool = False,
) -> list[Fetched]:
    """Find stars' light curves at MAST (:func:`find_light_curves`) and download them.

    Downloads go through :func:`ebscan.acquire.mast.download_files` into ``cache``: verified
    and resumable; a complete file already there is not fetched again.

    Parameters
    ----------
    tics, sectors, mast_url, retries, timeout
        As for :func:`find_light_curves` (``retries`` and ``timeout`` apply to each
        download too).
    cache : path, optional
        Folder of the files (default :func:`default_cache`).
    download_url : str
        Template of a product's address (:func:`ebscan.acquire.mast.product_url`).
    progress : bool
        A progress bar on stderr while downloading.

    Returns
    -------
    list of Fetched
        Every light curve found, in the search's order, with why it failed when it
        did; empty when MAST has none.

    Raises
    ------
    FetchError
        When the search fails.
    """
    rows = find_light_curves(tics, sectors, mast_url, retries, timeout)
    cache = Path(cache) if cache is not None else default_cache()
    outcomes = download_files(
        [row["filename"] for row in rows],
        cache,
        download_url,
        retries=retries,
        timeout=timeout,
        progress=progress,
    )
    return [
        Fetched(
            str(cache / row["filename"]),
            row["tic"],
            row["sector"],
            outcome.reason if outcome.status == "failed" else "",
        )
        for row, outcome in zip(rows, outcomes, strict=True)
    ]


def not_found(
    tics: Iterable[int], sectors: Iterable[int] | None, fetched: Iterable[Fetched]
) -> list[str]:
    """``TIC 7: MAST has no 2-minute SPOC light curve`` for each star asked for that a
    search found nothing of (``... in sectors 3, 4`` when sectors were asked)."""
    where = f" in sectors {', '.join(map(str, sorted(sectors)))}" if sectors else ""
    found = {light_curve.tic for light_curve in fetched}
    return [
        f"TIC {tic}: MAST has no 2-minute SPOC light curve{where}"
        for tic in sorted(set(tics) - found)
    ]


def preprocess_fetched(
    fetched: Iterable[Fetched],
    config: PreprocessConfig | None = None,
    jobs: int = 1,
    with_gls: bool = True,
) -> Iterator[FileResult]:
    """Preprocess the light curves that arrived
    (:func:`ebscan.lightcurves.preprocess.preprocess_files`) after rejecting each one
    that did not with ``download failed: ...``."""
    arrived = []
    for light_curve in fetched:
        if light_curve.failure:
            yield FileResult(
                path=light_curve.path,
                tic=light_curve.tic,
                sector=light_curve.sector,
                reject_reason=f"download failed: {light_curve.failure}",
            )
        else:
            arrived.append(light_curve.path)
    yield from preprocess_files(arrived, config, jobs, with_gls)
