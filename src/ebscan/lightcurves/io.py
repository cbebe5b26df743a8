"""Fast readers for TESS light-curve FITS files.

Two layouts are supported: SPOC files (``*-s_lc.fits``, the TESS-SPOC
full-frame-image files ``hlsp_tess-spoc_*_lc.fits``; flux in ``PDCSAP_FLUX``) and
lightkurve-written files (``LightCurve.to_fits()``, flux in ``FLUX``), such as the
30-minute FFI light curves of ../shared. Either may be gzip- or bzip2-compressed
(``.fits.gz``, ``.fits.bz2``), told by their first bytes, not their name. Reading goes
through ``fitsio`` (CFITSIO) and reads the whole binary table at once, which is several
times cheaper than astropy's table machinery or ``lightkurve.read``.
"""

from __future__ import annotations

import bz2
import gzip
import os
import re
import zlib
from dataclasses import dataclass, field

import fitsio
import numpy as np

from ebscan.errors import LightCurveError

#: Flux columns tried in order when the caller does not name one.
FLUX_COLUMNS = ("PDCSAP_FLUX", "FLUX")
#: Header keywords kept as provenance in :attr:`LightCurve.meta`, with their names there.
PROVENANCE_KEYWORDS = (
    ("RA_OBJ", "ra"),
    ("DEC_OBJ", "dec"),
    ("TESSMAG", "tmag"),
    ("CAMERA", "camera"),
    ("CCD", "ccd"),
)


@dataclass(frozen=True)
class LightCurve:
    """Raw columns of one light-curve file and where they came from.

    Attributes
    ----------
    time : numpy.ndarray
        Times (BTJD, days), float64, in file order.
    flux : numpy.ndarray
        Flux of ``flux_column``, float64.
    quality : numpy.ndarray
        Quality bitmask, int32 (all zeros if the file has no ``QUALITY``).
    tic : int
        TESS Input Catalog id.
    sector : int
        TESS sector (-1 if the header does not say).
    flux_column : str
        The column ``flux`` was read from.
    meta : dict
        Provenance: ``path`` and, when the header has them, ``ra``, ``dec``,
        ``tmag``, ``camera``, ``ccd``.
    """

    time: np.ndarray
    flux: np.ndarray
    quality: np.ndarray
    tic: int
    sector: int
    flux_column: str
    meta: dict = field(default_factory=dict)


_TIC_IN_NAME = re.compile(r"(?:-|tic)0*(\d{3,})(?:-|_lc|\.fits)", re.IGNORECASE)


def _tic_from(header: fitsio.FITSHDR, path: str) -> int:
    for key in ("TICID", "TARGETID"):
        value = header.get(key)
        if isinstance(value, (int, np.integer)) and value > 0:
            return int(value)
    obj = str(header.get("OBJECT", "")).strip()
    digits = re.fullmatch(r"(?:TIC\s*)?(\d+)", obj)
    if digits:
        return int(digits.group(1))
    named = _TIC_IN_NAME.search(os.path.basename(path))
    if named:
        return int(named.group(1))
    raise LightCurveError(path, "no TIC id in the header (TICID, TARGETID, OBJECT)")


#: Largest header accepted (a SPOC light curve's are about 14 kB): a larger one is a
#: damaged or foreign file, and reading it would cost more than the light curve.
MAX_HEADER_BYTES = 1 << 20


#: Compressions CFITSIO reads as it reads a plain file, by their first bytes, with the
#: module that reads a whole stream (checking its end marker and CRC) and the suffix
#: CFITSIO needs to see (gzip it recognises by its first bytes too).
COMPRESSIONS = {
    b"\x1f\x8b": ("gzip", gzip.open, ""),
    b"BZh": ("bzip2", bz2.open, ".bz2"),
}
#: Other compressions, which CFITSIO cannot read or this build does not.
UNREADABLE_COMPRESSIONS = {
    b"\xfd7zXZ\x00": "xz",
    b"PK\x03\x04": "zip",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"\x1f\x9d": "Unix compress",
}


def _fits_size(path: str) -> tuple[int, str]:
    """The size of the FITS data in ``path`` and what it is the size of: the file's,
    or the decompressed data's.

    Raises
    ------
    LightCurveError
        For a compressed stream that ends early or fails its check (what a download
        cut short leaves), or a compression that cannot be read.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(6)
    except OSError as exc:
        raise LightCurveError(path, f"cannot open: {exc.strerror}") from None
    for magic, (name, opener, suffix) in COMPRESSIONS.items():
        if head.startswith(magic):
            if not path.endswith(suffix):
                raise LightCurveError(
                    path, f"{name}-compressed without the {suffix} suffix CFITSIO needs to read it"
                )
            size = 0
            try:
                with opener(path) as stream:
                    while chunk := stream.read(1 << 20):
                        size += len(chunk)
            except EOFError:
                raise LightCurveError(
                    path, f"truncated: the {name} stream ends before its end marker"
                ) from None
            except (OSError, ValueError, zlib.error) as exc:
                raise LightCurveError(path, f"corrupt {name} file: {exc}") from None
            return size, f"decompressed {name} data"
    for magic, name in UNREADABLE_COMPRESSIONS.items():
        if head.startswith(magic):
            raise LightCurveError(
                path, f"{name}-compressed; ebscan reads plain, gzip and bzip2 FITS files"
            )
    return os.path.getsize(path), "file"


def _check_complete(fits: fitsio.FITS, path: str, size: tuple[int, str]) -> None:
    size, what = size
    for hdu in fits:
        offsets = hdu.get_offsets()
        header = offsets["data_start"] - offsets["header_start"]
        if header > MAX_HEADER_BYTES:
            raise LightCurveError(
                path,
                f"HDU {hdu.get_extnum()} header is {header} bytes (more than {MAX_HEADER_BYTES})",
            )
        end = offsets["data_end"]
        if end > size:
            raise LightCurveError(
                path,
                f"truncated: HDU {hdu.get_extnum()} ends at byte {end} "
                f"but the {what} has {size} bytes",
            )


def header_sector(header) -> int:
    """The TESS sector a primary header names (``SECTOR``), -1 where it names none."""
    sector = header.get("SECTOR")
    return int(sector) if isinstance(sector, (int, np.integer)) else -1


def read_lightcurve(path: str | os.PathLike, flux_column: str | None = None) -> LightCurve:
    """Read one TESS light-curve file.

    Parameters
    ----------
    path : str or os.PathLike
        A SPOC or TESS-SPOC ``*_lc.fits`` file or a lightkurve-format FITS file,
        plain or gzip- or bzip2-compressed.
    flux_column : str, optional
        Column to read the flux from; by default the first of
        ``PDCSAP_FLUX``, ``FLUX`` that the file has.

    Returns
    -------
    LightCurve

    Raises
    ------
    LightCurveError
        If the file is missing, empty, not FITS, truncated (a compressed one
        included), compressed in a way CFITSIO cannot read, has no
        ``LIGHTCURVE`` table, or lacks the time or flux column.
    """
    path = os.fspath(path)
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise LightCurveError(path, f"cannot open: {exc.strerror}") from None
    if size == 0:
        raise LightCurveError(path, "empty file (0 bytes)")
    size = _fits_size(path)
    try:
        fits = fitsio.FITS(path)
    except (OSError, ValueError):  # CFITSIO's error text on some foreign bytes is not UTF-8
        raise LightCurveError(path, "not a FITS file") from None
    with fits:
        _check_complete(fits, path, size)
        if "LIGHTCURVE" not in fits:
            raise LightCurveError(path, "no LIGHTCURVE extension")
        table = fits["LIGHTCURVE"]
        if table.get_exttype() != "BINARY_TBL":
            raise LightCurveError(path, "LIGHTCURVE extension is not a binary table")
        columns = table.get_colnames()
        if "TIME" not in columns:
            raise LightCurveError(path, "no TIME column")
        if flux_column is None:
            flux_column = next((c for c in FLUX_COLUMNS if c in columns), None)
            if flux_column is None:
                raise LightCurveError(
                    path, f"no flux column (looked for {', '.join(FLUX_COLUMNS)})"
                )
        elif flux_column not in columns:
            raise LightCurveError(path, f"no {flux_column} column")
        header = fits[0].read_header()
        try:
            # One read of the whole table is cheaper than a read per column.
            data = table.read()
        except (OSError, ValueError) as exc:
            raise LightCurveError(path, f"unreadable table: {exc}") from None
    if data is None or len(data) == 0:
        raise LightCurveError(path, "LIGHTCURVE table has no rows")
    for name in ("TIME", flux_column):
        if data.dtype[name].kind != "f":
            raise LightCurveError(path, f"{name} column has type {data.dtype[name]}, not float")
    quality = (
        data["QUALITY"].astype(np.int32)
        if "QUALITY" in columns
        else np.zeros(len(data), dtype=np.int32)
    )
    meta = {"path": path}
    for key, name in PROVENANCE_KEYWORDS:
        value = header.get(key)
        if isinstance(value, (int, float, np.number)):
            meta[name] = value
    return LightCurve(
        time=data["TIME"].astype(np.float64),
        flux=data[flux_column].astype(np.float64),
        quality=quality,
        tic=_tic_from(header, path),
        sector=header_sector(header),
        flux_column=flux_column,
        meta=meta,
    )
