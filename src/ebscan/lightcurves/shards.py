"""HDF5 shards of preprocessed segments: writing (atomic), reading and merging.

The layout is documented in ``docs/shard-format.md``. A shard is always built
under a temporary name in the destination folder and renamed into place when
complete, so a reader never sees a half-written shard under its final name.
Source files are recorded relative to the shard (:mod:`ebscan.paths`); readers
return them as absolute paths.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from types import TracebackType

import h5py
import numpy as np

from ebscan import __version__
from ebscan.config import PreprocessConfig
from ebscan.errors import InputError, LightCurveError, WriteError
from ebscan.lightcurves.fold import FOLD_INPUT, model_inputs
from ebscan.lightcurves.periodogram import calnet_period_grid
from ebscan.lightcurves.preprocess import FileResult, gls_vectors
from ebscan.paths import recorded, resolved

#: 3: each segment's ``cadence_minutes``; 2: ``source_file`` relative to the shard's
#: folder; 1: as given to the command.
FORMAT_VERSION = 3

_STR = h5py.string_dtype()
SEGMENT_DTYPE = np.dtype(
    [
        ("tic", "i8"),
        ("sector", "i4"),
        ("segment", "i4"),
        ("t_start", "f8"),
        ("t_end", "f8"),
        ("n_points", "i4"),
        ("cadence_minutes", "f8"),
        ("ra", "f8"),
        ("dec", "f8"),
        ("tmag", "f8"),
        ("source_file", _STR),
    ]
)
REJECT_DTYPE = np.dtype([("source_file", _STR), ("tic", "i8"), ("sector", "i4"), ("reason", _STR)])

#: Rows buffered in memory before they are written out.
_FLUSH_ROWS = 256


def _table(group: h5py.File, name: str, dtype: np.dtype) -> h5py.Dataset:
    return group.create_dataset(name, shape=(0,), maxshape=(None,), dtype=dtype, chunks=(1024,))


def _append(dataset: h5py.Dataset, rows: np.ndarray) -> None:
    start = dataset.shape[0]
    dataset.resize(start + len(rows), axis=0)
    dataset[start:] = rows


class ShardWriter:
    """Build a shard under a temporary name; rename it into place on success.

    Use as a context manager. If the block raises, the temporary file is
    removed and nothing appears under ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        Final shard path.
    config : PreprocessConfig
        Preprocessing parameters, written as attributes.
    period : numpy.ndarray or None
        The GLS trial periods (days), stored as ``gls_period``; ``None`` for a
        shard of light-curve vectors only (``gls`` added later by :func:`add_gls`).
    """

    def __init__(
        self, path: str | os.PathLike, config: PreprocessConfig, period: np.ndarray | None
    ) -> None:
        self.path = os.fspath(path)
        self.config = config
        self.period = None if period is None else np.asarray(period, dtype=np.float64)
        self.source_files: set[str] = set()
        self._segments: list[tuple] = []
        self._lc: list[np.ndarray] = []
        self._gls: list[np.ndarray] = []
        self._rejects: list[tuple] = []

    def __enter__(self) -> ShardWriter:
        folder = os.path.dirname(os.path.abspath(self.path))
        self._tmp = self._file = None
        try:
            os.makedirs(folder, exist_ok=True)
            # A killed writer leaves its temporary file behind; whoever rewrites the
            # shard owns those leftovers.
            for stale in glob.glob(
                os.path.join(
                    glob.escape(folder), f".{glob.escape(os.path.basename(self.path))}.*.tmp"
                )
            ):
                os.remove(stale)
            handle, self._tmp = tempfile.mkstemp(
                prefix=f".{os.path.basename(self.path)}.", suffix=".tmp", dir=folder
            )
            os.close(handle)
            self._file = h5py.File(self._tmp, "w")
            self._datasets = self._create_datasets()
        except OSError as exc:
            self._discard()
            raise WriteError(self.path, exc) from exc
        return self

    def _create_datasets(self) -> dict[str, h5py.Dataset]:
        """The shard's datasets, kept open while writing.

        HDF5 writes a dataset's cached chunks when the dataset is closed; an error
        there (a full disk) cannot be raised and leaves the library in a state that
        crashes the interpreter later. Open handles and an explicit flush after every
        batch of rows make such errors ordinary exceptions.
        """
        f, n_lc = self._file, self.config.n_lc
        datasets = {
            "lc": f.create_dataset(
                "lc", (0, n_lc), maxshape=(None, n_lc), dtype="f4", chunks=(64, n_lc)
            ),
            "segments": _table(f, "segments", SEGMENT_DTYPE),
            "rejects": _table(f, "rejects", REJECT_DTYPE),
        }
        if self.period is not None:
            n_gls = self.period.size
            datasets["gls"] = f.create_dataset(
                "gls", (0, n_gls), maxshape=(None, n_gls), dtype="f4", chunks=(64, n_gls)
            )
            f.create_dataset("gls_period", data=self.period)
        return datasets

    def add(self, result: FileResult) -> None:
        """Add one file's segments, or its rejection."""
        source = os.path.abspath(result.path)
        if source in self.source_files:
            raise ValueError(f"{result.path}: already in shard {self.path}")
        self.source_files.add(source)
        stored = recorded(source, self.path)
        if result.rejected:
            self._rejects.append((stored, result.tic, result.sector, result.reject_reason))
        else:
            meta = result.meta
            for row in result.segments:
                self._segments.append(
                    (
                        result.tic,
                        result.sector,
                        row["segment"],
                        row["t_start"],
                        row["t_end"],
                        row["n_points"],
                        result.cadence_minutes,
                        meta.get("ra", np.nan),
                        meta.get("dec", np.nan),
                        meta.get("tmag", np.nan),
                        stored,
                    )
                )
            if (result.gls is None) != (self.period is None):
                raise ValueError(f"{result.path}: GLS vectors {self._gls_expectation}")
            self._lc.append(result.lc)
            self._gls.append(result.gls)
        if len(self._segments) >= _FLUSH_ROWS:
            self._flush()

    def add_reject(self, path: str, tic: int, sector: int, reason: str) -> None:
        """Record an input file that produced no segment."""
        self.add(FileResult(path=path, tic=tic, sector=sector, reject_reason=reason))

    def add_shard(self, path: str | os.PathLike, block: int = 4096) -> None:
        """Copy every row of another shard made with the same parameters.

        Raises
        ------
        ValueError
            If ``path`` differs in a preprocessing parameter or the period
            grid, or accounts for an input file this shard already has.
        """
        path = os.fspath(path)
        expected = self.config.as_attrs()
        with open_shard(path) as f:
            found = config_from_attrs(f.attrs).as_attrs()
            for key, value in expected.items():
                if found[key] != value:
                    raise ValueError(
                        f"{path}: {key}={found[key]!r} differs from {value!r}; cannot merge"
                    )
            other = f["gls_period"][()] if "gls_period" in f else None
            if (other is None) != (self.period is None) or (
                other is not None and not np.array_equal(other, self.period)
            ):
                raise ValueError(f"{path}: GLS period grid differs; cannot merge")
            files = _accounted_files(f)
            duplicates = files & self.source_files
            if duplicates:
                raise ValueError(f"{sorted(duplicates)[0]}: in {path} and already in {self.path}")
            self.source_files |= files
            self._flush()
            self._write("rejects", self._rebased(f, f["rejects"][()]))
            for start in range(0, f["segments"].shape[0], block):
                rows = slice(start, start + block)
                for name in self._row_datasets:
                    values = f[name][rows]
                    if name == "segments":
                        values = self._rebased(f, current_segments(values))
                    self._write(name, values)

    def _rebased(self, shard: h5py.File, table: np.ndarray) -> np.ndarray:
        """Rows of another shard's table with ``source_file`` recorded relative to this one."""
        table["source_file"] = [
            recorded(source, self.path) for source in source_paths(shard, table["source_file"])
        ]
        return table

    def _write(self, name: str, rows: np.ndarray) -> None:
        try:
            _append(self._datasets[name], rows)
        except (OSError, RuntimeError) as exc:
            raise WriteError(self.path, _os_error(exc)) from exc

    @property
    def _row_datasets(self) -> tuple[str, ...]:
        return ("segments", "lc") if self.period is None else ("segments", "lc", "gls")

    @property
    def _gls_expectation(self) -> str:
        return "given to a shard without GLS" if self.period is None else "missing"

    def _flush(self) -> None:
        if self._segments:
            self._write("segments", np.array(self._segments, dtype=SEGMENT_DTYPE))
            self._write("lc", np.concatenate(self._lc))
            if self.period is not None:
                self._write("gls", np.concatenate(self._gls))
        if self._rejects:
            self._write("rejects", np.array(self._rejects, dtype=REJECT_DTYPE))
        self._segments, self._lc, self._gls, self._rejects = [], [], [], []
        try:
            self._file.flush()
        except (OSError, RuntimeError) as exc:
            raise WriteError(self.path, _os_error(exc)) from exc

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self._discard()
            return
        try:
            self._flush()
            attrs = self._file.attrs
            attrs.update(self.config.as_attrs())
            attrs["ebscan_version"] = __version__
            attrs["format_version"] = FORMAT_VERSION
            attrs["created"] = datetime.now(UTC).isoformat(timespec="seconds")
            attrs["n_segments"] = self._datasets["segments"].shape[0]
            attrs["n_files"] = len(self.source_files)
            attrs["n_rejects"] = self._datasets["rejects"].shape[0]
            self._file.flush()
            self._file.close()
            os.replace(self._tmp, self.path)
        except (OSError, RuntimeError) as exc:
            self._discard()
            if isinstance(exc, WriteError):
                raise
            raise WriteError(self.path, _os_error(exc)) from exc

    def _discard(self) -> None:
        """Close and remove the temporary file after a failure.

        The file is emptied first: closing makes HDF5 write what it still caches, and
        on a full disk that write would fail again, leaving the library in a state
        that crashes the interpreter at exit.
        """
        if self._tmp is None or not os.path.exists(self._tmp):
            return
        os.truncate(self._tmp, 0)
        self._datasets = {}
        if self._file is not None:
            with contextlib.suppress(Exception):
                self._file.close()
        os.remove(self._tmp)


def _os_error(exc: OSError | RuntimeError) -> OSError:
    """An HDF5 failure as an OSError: h5py raises some write failures as RuntimeError,
    with the system's error number only in the message (``errno = 28``)."""
    if isinstance(exc, OSError):
        return exc
    found = re.search(r"errno = (\d+)", str(exc))
    return OSError(int(found.group(1)) if found else None, str(exc))


def current_segments(table: np.ndarray) -> np.ndarray:
    """Rows of a ``segments`` table in this format's dtype: a shard of format 2 or
    before has no ``cadence_minutes``, which becomes NaN (unknown)."""
    if table.dtype == SEGMENT_DTYPE:
        return table
    rows = np.empty(len(table), dtype=SEGMENT_DTYPE)
    rows["cadence_minutes"] = np.nan
    for name in table.dtype.names:
        rows[name] = table[name]
    return rows


def as_str(values: Iterable) -> list[str]:
    """Strings of an HDF5 string column (h5py reads them as bytes)."""
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def open_shard(path: str | os.PathLike) -> h5py.File:
    """Open a shard for reading.

    Raises
    ------
    InputError
        If ``path`` is missing, not an HDF5 file, or an HDF5 file without a
        ``segments`` table.
    """
    if not os.path.exists(path):
        raise InputError(path, "no such shard")
    try:
        shard = h5py.File(path, "r")
    except OSError:
        raise InputError(path, "not a shard (not an HDF5 file)") from None
    if "segments" not in shard or "rejects" not in shard:
        shard.close()
        raise InputError(path, "not a shard (no segments and rejects tables)")
    return shard


def shard_inputs(
    names: Sequence[str], shard: h5py.File, rows: slice | np.ndarray
) -> dict[str, np.ndarray]:
    """The inputs of a model named ``names`` for ``rows`` (a slice, or increasing row
    indices) of an open shard.

    See :func:`ebscan.lightcurves.fold.model_inputs`; the folded view is made from the
    rows' vectors, the shard's trial periods and the segments' spans and cadences.

    Raises
    ------
    InputError
        If the shard lacks a dataset the inputs are made from (a shard preprocessed
        without GLS vectors, for a model that reads them or folds).
    """
    needed = ["lc", "gls", "gls_period"] if FOLD_INPUT in names else list(names)
    missing = [name for name in needed if name not in shard]
    if missing:
        raise InputError(
            shard.filename,
            f"no {', '.join(missing)} in the shard, which the model needs "
            "(a shard made without GLS vectors gets them from `ebscan gls`)",
        )
    if FOLD_INPUT not in names:
        return model_inputs(names, *(shard[k][rows] if k in names else None for k in ("lc", "gls")))
    segments = current_segments(shard["segments"][rows])
    spans = segments["t_end"] - segments["t_start"]
    # Shards of format 2 record no cadence: the mean step is near it.
    mean_steps = spans / np.maximum(segments["n_points"] - 1, 1)
    cadences = np.where(
        np.isnan(segments["cadence_minutes"]), mean_steps, segments["cadence_minutes"] / 1440
    )
    return model_inputs(
        names, shard["lc"][rows], shard["gls"][rows], shard["gls_period"][:], spans, cadences
    )


def shard_rows_inputs(
    names: Sequence[str], rows: Sequence[tuple[h5py.File, int]]
) -> dict[str, np.ndarray]:
    """:func:`shard_inputs` of rows given one by one as (open shard, row index), in
    their order; each shard is read once, for all its rows."""
    inputs = {}
    for shard in {id(shard): shard for shard, _ in rows}.values():
        wanted = np.array([row for other, row in rows if other is shard])
        unique = np.unique(wanted)
        read = shard_inputs(names, shard, unique)
        positions = [i for i, (other, _) in enumerate(rows) if other is shard]
        for name, values in read.items():
            if name not in inputs:
                inputs[name] = np.empty((len(rows), *values.shape[1:]), values.dtype)
            inputs[name][positions] = values[np.searchsorted(unique, wanted)]
    return inputs


def source_paths(shard: h5py.File, stored: Iterable) -> list[str]:
    """The absolute paths that ``source_file`` values read from an open shard name."""
    names = as_str(stored)
    if shard.attrs.get("format_version", 1) < 2:
        # Format 1 kept the paths as given to the command, relative to its working
        # directory, which is the best guess there is.
        return [os.path.abspath(name) for name in names]
    return [resolved(name, shard.filename) for name in names]


def config_from_attrs(attrs: h5py.AttributeManager) -> PreprocessConfig:
    """Rebuild the :class:`PreprocessConfig` a shard was made with.

    A parameter a shard of an older format lacks keeps its default: shards of format 2
    and before have no ``min_segment_days``, and their ``min_points`` (2000 unless
    chosen) stands for it.
    """
    values = {key: attrs[key] for key in PreprocessConfig().as_attrs() if key in attrs}
    values = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in values.items()}
    return PreprocessConfig(**{k: (None if v == "auto" else v) for k, v in values.items()})


def read_shard(path: str | os.PathLike) -> dict:
    """Load a whole shard into memory (for small shards, tests and inspection).

    Returns
    -------
    dict
        ``lc``, ``gls``, ``gls_period``, ``segments`` and ``rejects`` arrays
        (string fields decoded to ``str``, ``source_file`` as absolute paths), and
        ``attrs`` as a dict.
    """
    with open_shard(path) as f:
        out = {name: f[name][()] for name in ("lc", "gls", "gls_period") if name in f}
        for name in ("segments", "rejects"):
            table = f[name][()]
            if name == "segments":
                table = current_segments(table)
            decoded = {
                field: as_str(table[field]) if table.dtype[field].kind == "O" else table[field]
                for field in table.dtype.names
            }
            decoded["source_file"] = source_paths(f, table["source_file"])
            out[name] = decoded
        out["attrs"] = {
            k: (v.item() if isinstance(v, np.generic) else v) for k, v in f.attrs.items()
        }
    return out


def _accounted_files(shard: h5py.File) -> set[str]:
    stored = [*shard["segments"]["source_file"], *shard["rejects"]["source_file"]]
    return set(source_paths(shard, stored))


def source_files(path: str | os.PathLike) -> set[str]:
    """Every input file a shard accounts for, as a segment or as a reject (absolute paths)."""
    with open_shard(path) as f:
        return _accounted_files(f)


def light_curve_positions(paths: Iterable[str | os.PathLike]) -> list[dict]:
    """``tic``, ``sector``, ``ra``, ``dec`` of every light curve in the shards, once each."""
    seen: dict[tuple[int, int], dict] = {}
    for path in paths:
        with open_shard(path) as f:
            table = f["segments"][()]
        for row in table:
            key = (int(row["tic"]), int(row["sector"]))
            seen.setdefault(
                key,
                {"tic": key[0], "sector": key[1], "ra": float(row["ra"]), "dec": float(row["dec"])},
            )
    return list(seen.values())


def merge_shards(inputs: Iterable[str | os.PathLike], output: str | os.PathLike) -> None:
    """Concatenate shards made with the same parameters into one, atomically.

    Parameters
    ----------
    inputs : iterable of path
        Shards to merge, in order. ``output`` may be one of them.
    output : path
        The merged shard; rows are copied in blocks, so memory stays bounded.

    Raises
    ------
    ValueError
        If the shards differ in a preprocessing parameter or the period grid,
        or one input file appears in two shards.
    """
    inputs = [os.fspath(p) for p in inputs]
    if not inputs:
        raise ValueError("merge_shards needs at least one input shard")
    with open_shard(inputs[0]) as first:
        config = config_from_attrs(first.attrs)
        period = first["gls_period"][()] if "gls_period" in first else None
    with ShardWriter(output, config, period) as writer:
        for path in inputs:
            writer.add_shard(path)


def add_gls(
    shard: str | os.PathLike, output: str | os.PathLike, period: np.ndarray | None = None
) -> int:
    """Add GLS vectors to a light-curve-only shard, writing ``output`` atomically.

    Each segment's GLS is computed from its source file (read again, segmented and
    clipped with the shard's own parameters), so the vectors are those
    ``preprocess_file`` makes in one pass. A source file that no longer yields its
    segments moves to ``rejects`` with the reason.

    Parameters
    ----------
    shard : path
        Shard written with ``period=None`` (``ebscan preprocess --no-gls``).
    output : path
        The complete shard.
    period : numpy.ndarray, optional
        Trial periods (days); the CALNet grid by default.

    Returns
    -------
    int
        Number of source files moved to ``rejects``.
    """
    period = calnet_period_grid() if period is None else period
    data = read_shard(shard)
    if "gls" in data:
        raise ValueError(f"{shard}: already has GLS vectors")
    config = config_from_attrs(data["attrs"])
    segments = data["segments"]
    files = list(dict.fromkeys(segments["source_file"]))
    rows_of = {name: [] for name in files}
    for row, name in enumerate(segments["source_file"]):
        rows_of[name].append(row)
    newly_rejected = 0
    with ShardWriter(output, config, period) as writer:
        for name in files:
            rows = rows_of[name]
            first = rows[0]
            result = FileResult(
                path=name,
                tic=int(segments["tic"][first]),
                sector=int(segments["sector"][first]),
                cadence_minutes=float(segments["cadence_minutes"][first]),
                meta={k: float(segments[k][first]) for k in ("ra", "dec", "tmag")},
            )
            try:
                result.gls = gls_vectors(name, segments["segment"][rows], config, period)
            except LightCurveError as exc:
                result.reject_reason = exc.reason
                newly_rejected += 1
            else:
                result.lc = data["lc"][rows]
                result.segments = [
                    {k: segments[k][r] for k in ("segment", "t_start", "t_end", "n_points")}
                    for r in rows
                ]
            writer.add(result)
        for values in zip(*(data["rejects"][k] for k in REJECT_DTYPE.names), strict=True):
            writer.add_reject(*values)
    return newly_rejected
