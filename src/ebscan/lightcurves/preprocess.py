"""From a light-curve file to CALNet's (LC 4000, GLS 1000) vector pairs."""

from __future__ import annotations

import math
import os
import signal
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ebscan.config import PreprocessConfig
from ebscan.errors import LightCurveError
from ebscan.lightcurves.io import LightCurve, read_lightcurve
from ebscan.lightcurves.periodogram import calnet_period_grid, gls
from ebscan.lightcurves.resample import clip_top, minmax, resample
from ebscan.lightcurves.segments import (
    Segment,
    cadence_minutes,
    good_cadences,
    longest_stretch,
    split_segments,
)


@dataclass
class FileResult:
    """What one input file became: its segments' vectors, or a rejection.

    Attributes
    ----------
    path : str
        The input file.
    tic, sector : int
        From the header (-1 when the file was rejected before they were read).
    cadence_minutes : float
        The light curve's cadence (:func:`ebscan.lightcurves.segments.cadence_minutes`; NaN when
        the file was rejected before it was read).
    segments : list of dict
        One row per kept segment: ``segment``, ``t_start``, ``t_end``, ``n_points``.
    lc, gls : numpy.ndarray
        float32 arrays of shape (n_segments, n_lc) and (n_segments, n_periods).
    reject_reason : str or None
        Why the file produced no segment; ``None`` when it did.
    meta : dict
        Header provenance (ra, dec, tmag, camera, ccd).
    """

    path: str
    tic: int = -1
    sector: int = -1
    cadence_minutes: float = math.nan
    segments: list[dict] = field(default_factory=list)
    lc: np.ndarray | None = None
    gls: np.ndarray | None = None
    reject_reason: str | None = None
    meta: dict = field(default_factory=dict)

    @property
    def rejected(self) -> bool:
        return self.reject_reason is not None


def kept_segments(lc: LightCurve, config: PreprocessConfig) -> list[Segment]:
    """The segments of ``lc`` that ``config`` keeps (long enough at its cadence).

    Raises
    ------
    LightCurveError
        If no cadence is usable (:func:`ebscan.lightcurves.segments.good_cadences`), the time steps
        give no cadence, or no segment is long enough (the message gives the longest).
    """
    time, flux = good_cadences(lc)
    cadence = cadence_minutes(lc.time)
    if not cadence > 0:  # NaN with fewer than two distinct times; 0 below half a second
        raise LightCurveError(
            lc.meta.get("path", "<memory>"), f"no cadence from the time steps ({cadence:g} min)"
        )
    min_points = config.min_points_at(cadence)
    segments = split_segments(time, flux, config.gap_days, min_points)
    if not segments:
        days = f"{config.min_segment_days:.2f} days at {cadence:g} min; "
        length = "" if config.min_points else days
        raise LightCurveError(
            lc.meta.get("path", "<memory>"),
            f"no segment with at least {min_points} good cadences "
            f"({length}longest has {longest_stretch(time, config.gap_days)})",
        )
    return segments


def _segments_of(lc: LightCurve, config: PreprocessConfig, result: FileResult) -> list[Segment]:
    """Fill ``result``'s header fields from ``lc`` and return its kept segments."""
    result.tic, result.sector = lc.tic, lc.sector
    result.cadence_minutes = cadence_minutes(lc.time)
    result.meta = {k: v for k, v in lc.meta.items() if k != "path"}
    return kept_segments(lc, config)


def _gls_row(path: str, segment: Segment, config: PreprocessConfig, period: np.ndarray):
    seg_time, seg_flux = clip_top(segment.time, segment.flux, config.clip_percentile)
    try:
        return minmax(gls(seg_time, seg_flux, period, config.gls_method))
    except ValueError as exc:
        raise LightCurveError(path, f"segment {segment.index}: GLS {exc}") from None


def preprocess_lightcurve(
    lc: LightCurve,
    config: PreprocessConfig | None = None,
    period: np.ndarray | None = None,
    with_gls: bool = True,
) -> FileResult:
    """Segment, clip, resample and (optionally) periodogram one light curve.

    Never raises for bad input: a light curve that yields no segment comes back with
    ``reject_reason`` set, so a survey run goes on.

    Parameters
    ----------
    lc : LightCurve
        Columns of one light curve (:func:`ebscan.lightcurves.io.read_lightcurve`, or made in
        memory: a simulated or injected one); ``lc.meta["path"]`` names it.
    config : PreprocessConfig, optional
        Defaults to the paper's parameters.
    period : numpy.ndarray, optional
        GLS trial periods (days); defaults to :func:`calnet_period_grid`.
    with_gls : bool
        Compute the GLS vectors too; without, ``result.gls`` stays ``None`` and
        :func:`gls_vectors` adds them later (the workflow's separate gls stage).

    Returns
    -------
    FileResult
    """
    config = config or PreprocessConfig()
    period = calnet_period_grid() if period is None else period
    path = lc.meta.get("path", "<memory>")
    result = FileResult(path=path)
    try:
        lc_rows, gls_rows = [], []
        for segment in _segments_of(lc, config, result):
            seg_time, seg_flux = clip_top(segment.time, segment.flux, config.clip_percentile)
            lc_rows.append(
                resample(
                    seg_time,
                    seg_flux,
                    config.n_lc,
                    config.spline_mode,
                    path=path,
                    **config.spline_options(),
                )
            )
            if with_gls:
                gls_rows.append(_gls_row(path, segment, config, period))
            result.segments.append(
                {
                    "segment": segment.index,
                    "t_start": float(segment.time[0]),
                    "t_end": float(segment.time[-1]),
                    "n_points": segment.n_points,
                }
            )
    except LightCurveError as exc:
        result.segments = []
        result.reject_reason = exc.reason
        return result
    result.lc = np.asarray(lc_rows, dtype=np.float32)
    if with_gls:
        result.gls = np.asarray(gls_rows, dtype=np.float32)
    return result


def preprocess_file(
    path: str | os.PathLike,
    config: PreprocessConfig | None = None,
    period: np.ndarray | None = None,
    with_gls: bool = True,
) -> FileResult:
    """Read one light-curve file and :func:`preprocess_lightcurve` it.

    Never raises for bad input: an unreadable file comes back with
    ``reject_reason`` set, as does one that yields no segment.

    Parameters
    ----------
    path : str or os.PathLike
        A light-curve FITS file.
    config, period, with_gls
        As for :func:`preprocess_lightcurve`.

    Returns
    -------
    FileResult
    """
    config = config or PreprocessConfig()
    path = os.fspath(path)
    try:
        lc = read_lightcurve(path, config.flux_column)
    except LightCurveError as exc:
        return FileResult(path=path, reject_reason=exc.reason)
    return preprocess_lightcurve(lc, config, period, with_gls)


def gls_vectors(
    path: str | os.PathLike,
    segment_indices: Iterable[int],
    config: PreprocessConfig,
    period: np.ndarray,
) -> np.ndarray:
    """GLS vectors of the given segments of one file, as ``preprocess_file`` makes them.

    Raises
    ------
    LightCurveError
        If the file no longer yields those segments (changed or unreadable).
    """
    path = os.fspath(path)
    lc = read_lightcurve(path, config.flux_column)
    by_index = {s.index: s for s in _segments_of(lc, config, FileResult(path=path))}
    rows = []
    for index in segment_indices:
        if index not in by_index:
            raise LightCurveError(path, f"segment {index} not found (file changed?)")
        rows.append(_gls_row(path, by_index[index], config, period))
    return np.asarray(rows, dtype=np.float32)


def _preprocess_one(args: tuple[str, PreprocessConfig, bool]) -> FileResult:
    path, config, with_gls = args
    return preprocess_file(path, config, with_gls=with_gls)


def _leave_interrupts_to_the_parent() -> None:
    """Worker initializer: Ctrl-C reaches every process of the terminal's group; the
    parent alone handles it (stops the pool, says so once), not each worker with a
    traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def preprocess_files(
    paths: Iterable[str | os.PathLike],
    config: PreprocessConfig | None = None,
    jobs: int = 1,
    with_gls: bool = True,
) -> Iterator[FileResult]:
    """Preprocess many files, in input order, optionally in ``jobs`` processes.

    Results stream out as they finish (in order), so memory stays bounded by
    the pool's read-ahead, not by the number of files.
    """
    config = config or PreprocessConfig()
    work = ((os.fspath(p), config, with_gls) for p in paths)
    if jobs <= 1:
        yield from map(_preprocess_one, work)
        return
    with ProcessPoolExecutor(max_workers=jobs, initializer=_leave_interrupts_to_the_parent) as pool:
        yield from pool.map(_preprocess_one, work, chunksize=8)
