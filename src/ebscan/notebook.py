"""The notebook API, ``ebscan.score`` and ``ebscan.preprocess``.

Both take what an astronomer has at hand: a light-curve file, a list of them, a
``lightkurve.LightCurve`` or ``LightCurveCollection`` (from ``lightkurve.read`` or a
lightkurve search), or an :class:`ebscan.lightcurves.io.LightCurve`; ``score`` also takes TIC ids,
whose light curves it finds at MAST and caches (:mod:`ebscan.acquire.search`). They return
``astropy.table.Table`` objects. They compute what ``ebscan score`` and
``ebscan preprocess`` compute, through the same functions: a file scores the same
read by ebscan or by lightkurve.

A light curve that yields no segment is not an error here: it is left out of the
table, named with its reason in a :class:`RejectedLightCurveWarning` and listed in
the table's ``meta``, so one bad light curve of many does not stop a notebook.

The heavy modules (NumPy, astropy's tables, the preprocessing, ONNX Runtime) are
imported inside the functions: ``import ebscan``, and with it the command line,
stays fast.
"""

from __future__ import annotations

import functools
import itertools
import os
import sys
import warnings
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ebscan.config import InferenceConfig, MastConfig

if TYPE_CHECKING:
    from astropy.table import Table

    from ebscan.config import PreprocessConfig
    from ebscan.lightcurves.io import LightCurve
    from ebscan.lightcurves.preprocess import FileResult

#: Time formats of astropy (and lightkurve's TESS and Kepler ones) counted in days:
#: their values are used as they are; other formats are converted to BTJD.
DAY_FORMATS = ("btjd", "bkjd", "jd", "mjd")
#: BTJD = JD - 2457000 (TESS's time stamps).
BTJD_OFFSET = 2457000.0
#: The groupings of :func:`score`'s table.
PER = ("segment", "star")
#: The columns of :func:`score`'s table per star.
STAR_COLUMNS = (
    "tic",
    "n_light_curves",
    "n_rejected",
    "sectors",
    "n_segments",
    "max_score",
    "mean_score",
    "best_sector",
    "best_segment",
)


class RejectedLightCurveWarning(UserWarning):
    """A light curve that gave no segment (``FILE: reason``), or a star asked for by TIC
    of which MAST has no light curve."""


def from_lightkurve(lc: Any) -> LightCurve:
    """An :class:`ebscan.lightcurves.io.LightCurve` of a ``lightkurve.LightCurve``.

    The flux is the light curve's ``flux`` column (``PDCSAP_FLUX`` for a SPOC file
    read with ``lightkurve.read``), the quality its ``quality`` column (zeros when it
    has none); masked values become NaN, which preprocessing drops. The TIC and
    sector come from ``meta`` (``TICID`` or ``TARGETID``, ``SECTOR``; -1 when absent),
    the name from ``meta["FILENAME"]``.

    Parameters
    ----------
    lc : lightkurve.LightCurve
        Times in a day-counting format (BTJD for TESS files; JD, MJD and BKJD are
        taken as they are) or any other astropy format (converted to BTJD).

    Returns
    -------
    ebscan.lightcurves.io.LightCurve
    """
    import numpy as np

    from ebscan.lightcurves.io import PROVENANCE_KEYWORDS, LightCurve

    def values(column) -> np.ndarray:
        if hasattr(column, "mask") and hasattr(column, "filled"):
            column = column.filled(np.nan)
        return np.asarray(getattr(column, "value", column), dtype=np.float64)

    time = lc.time.value if lc.time.format in DAY_FORMATS else lc.time.tdb.jd - BTJD_OFFSET
    meta = lc.meta
    quality = (
        np.asarray(lc["quality"], dtype=np.int32)
        if "quality" in lc.colnames
        else np.zeros(len(lc), dtype=np.int32)
    )
    provenance = {"path": str(meta.get("FILENAME") or "<memory>")}
    for key, name in PROVENANCE_KEYWORDS:
        if isinstance(meta.get(key), int | float | np.number):
            provenance[name] = meta[key]
    tic = meta.get("TICID", meta.get("TARGETID"))
    sector = meta.get("SECTOR")
    return LightCurve(
        time=np.asarray(time, dtype=np.float64),
        flux=values(lc.flux),
        quality=quality,
        tic=int(tic) if tic is not None else -1,
        sector=int(sector) if sector is not None else -1,
        flux_column=str(meta.get("FLUX_ORIGIN") or "flux").upper(),
        meta=provenance,
    )


def _inputs(x: Any) -> Iterator[str | LightCurve]:
    """Paths and ebscan light curves of what was given, in order."""
    from ebscan.lightcurves.io import LightCurve

    lightkurve = sys.modules.get("lightkurve")  # a lightkurve object means it is imported
    if isinstance(x, str | os.PathLike):
        yield os.fspath(x)
    elif isinstance(x, LightCurve):
        yield x
    elif lightkurve is not None and isinstance(x, lightkurve.LightCurve):
        yield from_lightkurve(x)
    elif isinstance(x, Iterable) or (
        lightkurve is not None and isinstance(x, lightkurve.LightCurveCollection)
    ):
        for item in x:
            yield from _inputs(item)
    else:
        raise TypeError(
            f"cannot preprocess an object of type {type(x).__name__}: give a light-curve file, a "
            "lightkurve LightCurve or LightCurveCollection, or a list of them"
        )


def _preprocessed(
    x: Any, config: PreprocessConfig | None, jobs: int, fetch: dict | None = None
) -> Iterator[FileResult]:
    """:class:`ebscan.lightcurves.preprocess.FileResult` of each light curve of ``x`` and of the
    stars ``fetch`` asks for (:func:`ebscan.acquire.search.fetch_light_curves`'s arguments)."""
    from ebscan.lightcurves.preprocess import preprocess_files, preprocess_lightcurve

    if fetch is not None:
        from ebscan.acquire.search import fetch_light_curves, not_found, preprocess_fetched

        fetched = fetch_light_curves(**fetch)
        for message in not_found(fetch["tics"], fetch["sectors"], fetched):
            warnings.warn(message, RejectedLightCurveWarning, stacklevel=5)
        yield from preprocess_fetched(fetched, config, jobs)
    inputs = _inputs(x) if x is not None else iter(())
    for is_path, group in itertools.groupby(inputs, key=lambda item: isinstance(item, str)):
        if is_path:
            yield from preprocess_files(group, config, jobs)
        else:
            for lc in group:
                yield preprocess_lightcurve(lc, config)


def _warn_rejected(results: Iterable[FileResult], stacklevel: int) -> Iterator[FileResult]:
    """``results``, with a warning for each rejected one at the caller's ``stacklevel``."""
    for result in results:
        if result.rejected:
            message = f"{result.path}: {result.reject_reason}"
            warnings.warn(message, RejectedLightCurveWarning, stacklevel=stacklevel)
        yield result


def preprocess(x: Any, config: PreprocessConfig | None = None, jobs: int = 1) -> Table:
    """CALNet's input vectors of light curves: one row per segment.

    Each light curve is split at gaps into segments; each segment becomes a pair of
    vectors, the light curve resampled to ``config.n_lc`` points and its generalized
    Lomb-Scargle periodogram on CALNet's 1000 trial periods, both scaled to [0, 1]
    (``docs/preprocessing.md``), exactly as ``ebscan preprocess`` writes them into a
    shard.

    Parameters
    ----------
    x : path, lightkurve.LightCurve, LightCurveCollection or list of them
        Light-curve FITS files (SPOC or lightkurve-written) or light curves in memory
        (lightkurve's or :class:`ebscan.lightcurves.io.LightCurve`).
    config : PreprocessConfig, optional
        The preprocessing parameters (default: the paper's, for 2-minute data; use
        ``PreprocessConfig(min_points=300)`` or so for 30-minute light curves).
    jobs : int
        Processes for the files among ``x``.

    Returns
    -------
    astropy.table.Table
        Columns ``file``, ``tic``, ``sector``, ``segment`` (its index among the
        light curve's gap-split stretches), ``t_start``, ``t_end`` (BTJD),
        ``n_points`` (good cadences), ``lc`` (float32, ``n_lc`` values per row) and
        ``gls`` (float32, 1000 per row). ``meta`` holds ``gls_period`` (the trial
        periods in days, increasing), ``config`` (the parameters) and ``rejected``
        (a table of the light curves that gave no segment: ``file``, ``tic``,
        ``sector``, ``reason``).

    Warns
    -----
    RejectedLightCurveWarning
        For each light curve that yields no segment, naming it and the reason.

    Examples
    --------
    A pulsating star (period 0.8 days) over a sector at 2-minute cadence, with the gap
    at mid-sector, made with lightkurve:

    >>> import ebscan
    >>> import lightkurve as lk
    >>> import numpy as np
    >>> from astropy.time import Time
    >>> t = np.arange(1325.3, 1352.7, 2 / 1440)  # BTJD
    >>> t = t[(t < 1338.5) | (t > 1339.6)]
    >>> flux = 1 + 0.01 * np.sin(2 * np.pi * t / 0.8)
    >>> star = lk.LightCurve(time=Time(t, format="btjd"), flux=flux, meta={"TICID": 3, "SECTOR": 5})
    >>> vectors = ebscan.preprocess(star)
    >>> vectors["tic", "sector", "segment", "n_points"].pprint()
    tic sector segment n_points
    --- ------ ------- --------
      3      5       0     9505
      3      5       1     9432
    >>> vectors["lc"].shape, vectors["gls"].shape
    ((2, 4000), (2, 1000))
    >>> float(vectors["lc"].min()), float(vectors["lc"].max())
    (0.0, 1.0)
    >>> period = vectors.meta["gls_period"]  # days, increasing
    >>> round(float(period[vectors["gls"][0].argmax()]), 2)  # the periodogram's peak
    0.8
    """
    import numpy as np

    from ebscan.config import PreprocessConfig
    from ebscan.lightcurves.periodogram import calnet_period_grid

    config = config or PreprocessConfig()
    rows, lc, gls, rejected = [], [], [], []
    for result in _warn_rejected(_preprocessed(x, config, jobs), stacklevel=3):
        if result.rejected:
            rejected.append(_rejection(result))
            continue
        rows += [
            {"file": result.path, "tic": result.tic, "sector": result.sector, **s}
            for s in result.segments
        ]
        lc.append(result.lc)
        gls.append(result.gls)
    table = _table(rows, ("file", "tic", "sector", "segment", "t_start", "t_end", "n_points"))
    table["lc"] = np.concatenate(lc) if lc else np.zeros((0, config.n_lc), np.float32)
    period = calnet_period_grid()
    table["gls"] = np.concatenate(gls) if gls else np.zeros((0, period.size), np.float32)
    table.meta.update(
        gls_period=period,
        config=config.as_attrs(),
        rejected=_table(rejected, ("file", "tic", "sector", "reason")),
    )
    return table


def _rejection(result: FileResult) -> dict:
    return {
        "file": result.path,
        "tic": result.tic,
        "sector": result.sector,
        "reason": result.reject_reason,
    }


#: Types of the tables' columns (the others are int), for tables with no row.
COLUMN_TYPES = {
    "file": str,
    "reason": str,
    "sectors": str,
    "t_start": float,
    "t_end": float,
    "score": float,
    "max_score": float,
    "mean_score": float,
}


def _table(rows: list[dict], names: Iterable[str]) -> Table:
    """A table of ``rows`` with the columns ``names``, typed even when it has no row."""
    from astropy.table import Table

    names = list(names)
    if rows:
        return Table(rows=[[row[name] for name in names] for row in rows], names=names)
    return Table(names=names, dtype=[_column_type(name) for name in names])


def _column_type(name: str) -> type:
    if name in COLUMN_TYPES:
        return COLUMN_TYPES[name]
    from ebscan.survey.candidates import EPHEMERIS_COLUMNS

    return EPHEMERIS_COLUMNS[name].dtype if name in EPHEMERIS_COLUMNS else int


@functools.lru_cache(maxsize=4)
def _predictor(model: str | None, engine: str, modified: int | None):
    """(predictor, its model's path, engine), loaded once per model file version."""
    from ebscan.learn.pretrained import pretrained_model
    from ebscan.survey.inference import load_predictor, resolve_engine

    engine = resolve_engine(engine)
    path = model or str(pretrained_model(engine))
    return load_predictor(path, engine), path, engine


def score(
    x: Any = None,
    *,
    tic: int | Iterable[int] | None = None,
    sectors: Iterable[int] | None = None,
    model: str | os.PathLike | None = None,
    engine: str = InferenceConfig.engine,
    config: PreprocessConfig | None = None,
    per: str = "segment",
    jobs: int = 1,
    cache: str | os.PathLike | None = None,
    mast_url: str | None = None,
    download_url: str | None = None,
) -> Table:
    """EB scores of light curves, or of stars by TIC: one row per segment or per star.

    Every segment of every light curve gets CALNet's probability that it shows an
    eclipsing binary, as ``ebscan score`` computes it.

    Parameters
    ----------
    x : path, lightkurve.LightCurve, LightCurveCollection or list of them, optional
        Light curves, as for :func:`preprocess`.
    tic : int or list of int, optional
        Stars to score by TIC: their 2-minute SPOC light curves are found at MAST
        and downloaded into ``cache`` (verified; a complete file there is not
        fetched again).
    sectors : list of int, optional
        Only these sectors of the ``tic`` stars (default: all at MAST).
    model : path, optional
        A ``.keras`` model or its ONNX export (default: the pretrained CALNet that
        ships with ebscan, ``docs/model-card.md``).
    engine : {'auto', 'onnxruntime', 'keras'}
        The inference engine (:func:`ebscan.survey.inference.resolve_engine`).
    config : PreprocessConfig, optional
        As for :func:`preprocess`.
    per : {'segment', 'star'}
        One row per segment (the default) or per star (TIC).
    jobs : int
        Processes for preprocessing files.
    cache : path, optional
        Folder of the light curves fetched for ``tic``
        (default :func:`ebscan.acquire.search.default_cache`).
    mast_url, download_url : str, optional
        Where to search and download instead of MAST (a mirror; see
        :func:`ebscan.acquire.search.fetch_light_curves`).

    Returns
    -------
    astropy.table.Table
        Per segment: ``file``, ``tic``, ``sector``, ``segment``, ``t_start``,
        ``t_end``, ``n_points``, ``score``, in input order. Per star: ``tic``,
        ``n_light_curves``, ``n_rejected``, ``sectors``, ``n_segments``,
        ``max_score``, ``mean_score``, ``best_sector``, ``best_segment``, and the
        catalog's ephemeris and eclipse-geometry columns measured over all the star's
        light curves (``period``, ``t0``, depths, widths, morphology, flags, the
        centroid test where the files have centroids: ``docs/catalog.md``), highest
        ``max_score`` first; a star none of whose light curves gave a segment comes
        last, with ``n_segments`` 0 and NaN scores. ``meta`` holds ``model``,
        ``engine`` and ``light_curves``: one row per light curve as in
        ``ebscan score``'s ``.files.csv`` (``file``, ``tic``, ``sector``,
        ``n_segments``, ``max_score`` and the ``reason`` a rejected one gave no
        segment).

    Warns
    -----
    RejectedLightCurveWarning
        For each light curve that yields no segment or could not be downloaded, and
        each ``tic`` star of which MAST has no light curve.

    Raises
    ------
    ebscan.acquire.mast.FetchError
        When the search at MAST fails.

    Examples
    --------
    A simulated detached binary (period 2.7 days, eclipses 30% and 10% deep) and a
    star with nothing but noise, over a sector at 2-minute cadence, scored by the
    pretrained CALNet:

    >>> import numpy as np
    >>> import lightkurve as lk
    >>> from astropy.time import Time
    >>> import ebscan
    >>> rng = np.random.default_rng(1)
    >>> t = np.arange(1325.3, 1352.7, 2 / 1440)
    >>> t = t[(t < 1338.5) | (t > 1339.6)]
    >>> phase = (t - 1326.0) / 2.7 % 1
    >>> def dip(center, depth):  # an eclipse with a Gaussian profile
    ...     offset = (phase - center + 0.5) % 1 - 0.5
    ...     return depth * np.exp(-0.5 * (offset / 0.01) ** 2)
    >>> flux = 1 - dip(0.0, 0.3) - dip(0.5, 0.1) + rng.normal(0, 0.001, t.size)
    >>> time = Time(t, format="btjd")
    >>> eb = lk.LightCurve(time=time, flux=flux, meta={"TICID": 1, "SECTOR": 5})
    >>> noise = 1 + rng.normal(0, 0.001, t.size)
    >>> quiet = lk.LightCurve(time=time, flux=noise, meta={"TICID": 2, "SECTOR": 5})
    >>> segments = ebscan.score(lk.LightCurveCollection([eb, quiet]))
    >>> segments["tic", "sector", "segment", "n_points"].pprint()
    tic sector segment n_points
    --- ------ ------- --------
      1      5       0     9505
      1      5       1     9432
      2      5       0     9505
      2      5       1     9432
    >>> stars = ebscan.score([quiet, eb], per="star")
    >>> stars["tic", "n_segments"].pprint()  # the binary first
    tic n_segments
    --- ----------
      1          2
      2          2
    >>> bool(stars["max_score"][0] > stars["max_score"][1])
    True

    By TIC, from MAST (or a mirror of it), into a cache folder::

        ebscan.score(tic=199574208, sectors=[24, 25])
    """
    import numpy as np

    from ebscan.survey.inference import score_results

    if per not in PER:
        raise ValueError(f"per must be one of {PER}, not {per!r}")
    if x is None and tic is None:
        raise TypeError("nothing to score: give light curves or tic=")
    fetch = None
    if tic is not None:
        fetch = {
            "tics": [tic] if isinstance(tic, int | np.integer) else list(tic),
            "sectors": sectors,
            "cache": cache,
            "mast_url": mast_url,
            "download_url": download_url or MastConfig.download_url,
        }
    if model is not None:
        model = os.fspath(model)
    predictor, model_path, engine = _predictor(
        model, engine, os.stat(model).st_mtime_ns if model else None
    )
    inputs = list(_inputs(x)) if x is not None else None
    # The warnings point at the caller of score, two frames above score_results.
    segments, files = score_results(
        predictor, _warn_rejected(_preprocessed(inputs, config, jobs, fetch), stacklevel=4)
    )
    segment_table = _table(
        [{**row, "score": float(row["score"])} for row in segments],
        ("file", "tic", "sector", "segment", "t_start", "t_end", "n_points", "score"),
    )
    file_table = _table(
        [{**row, "max_score": float(row["max_score"] or "nan")} for row in files],
        ("file", "tic", "sector", "n_segments", "max_score", "reason"),
    )
    if per == "segment":
        table = segment_table
    else:
        table = _per_star(segment_table, file_table, _light_curves(inputs, file_table))
    table.meta.update(model=model_path, engine=engine, light_curves=file_table)
    return table


def _light_curves(inputs: list | None, files: Table) -> dict[int, list]:
    """TIC -> the star's light curves that gave segments (files read again), in order."""
    from ebscan.lightcurves.io import read_lightcurve

    in_memory = [item for item in inputs or () if not isinstance(item, str)]
    by_tic: dict[int, list] = {}
    for row in files:
        if not row["n_segments"]:
            continue
        matches = [lc for lc in in_memory if lc.meta.get("path") == row["file"]]
        lc = matches[0] if matches else read_lightcurve(row["file"])
        by_tic.setdefault(int(row["tic"]), []).append(lc)
    return by_tic


def _ephemeris(lightcurves: list) -> dict:
    """The catalog's ephemeris and geometry columns of one star (empty when none)."""
    from ebscan.errors import LightCurveError
    from ebscan.survey.candidates import characterise_lightcurves, empty_ephemeris

    files = [lc.meta["path"] for lc in lightcurves if os.path.exists(lc.meta.get("path", ""))]
    try:
        return characterise_lightcurves(lightcurves, files).columns
    except (LightCurveError, ValueError):
        return empty_ephemeris()


def _per_star(segments: Table, light_curves: Table, stars: dict[int, list]) -> Table:
    """One row per TIC of the segment scores, best first; stars without a segment last.

    Each star also gets the catalog's ephemeris and geometry columns, measured over
    all its light curves together (``docs/catalog.md``).
    """
    import numpy as np

    from ebscan.survey.candidates import EPHEMERIS_COLUMNS, empty_ephemeris

    rows = []
    for tic in dict.fromkeys(light_curves["tic"]):
        mine = segments[segments["tic"] == tic]
        theirs = light_curves[light_curves["tic"] == tic]
        best = int(np.argmax(mine["score"])) if len(mine) else None
        rows.append(
            {
                "tic": int(tic),
                "n_light_curves": len(theirs),
                "n_rejected": int(np.sum(theirs["n_segments"] == 0)),
                "sectors": ",".join(str(s) for s in sorted(set(mine["sector"]))),
                "n_segments": len(mine),
                "max_score": float(mine["score"][best]) if len(mine) else np.nan,
                "mean_score": float(np.mean(mine["score"])) if len(mine) else np.nan,
                "best_sector": int(mine["sector"][best]) if len(mine) else -1,
                "best_segment": int(mine["segment"][best]) if len(mine) else -1,
                **(_ephemeris(stars[int(tic)]) if int(tic) in stars else empty_ephemeris()),
            }
        )
    rows.sort(key=lambda row: -row["max_score"] if row["n_segments"] else np.inf)
    return _table(rows, (*STAR_COLUMNS, *EPHEMERIS_COLUMNS))
