"""Simulated TESS sectors in the SPOC 2-minute format, for the demo and the tests.

Each star gets a class (eclipsing binaries of three morphologies from the physical model
and catalogue population of :mod:`ebscan.sim.eclipses`, and the usual impostors:
:data:`ebscan.sim.signals.SIGNALS`), a light curve with white noise set by its TESS
magnitude and the systematics a SPOC light curve keeps (red noise, jumps at momentum
dumps, ramps at orbit starts, scattered light: :func:`ebscan.sim.signals.systematics`), a
sector's cadence pattern (2-minute cadences, the mid-sector data downlink gap, flagged
momentum dumps, scattered quality flags and NaNs) and a FITS file laid out like a SPOC
``*-s_lc.fits`` product, so the real readers, downloader and pipeline run on it
unchanged.
"""

from __future__ import annotations

import csv
import io
import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
from astropy.io import fits

from ebscan import __version__
from ebscan.atomic import atomic_open
from ebscan.lightcurves.io import LightCurve
from ebscan.sim.signals import SIGNALS, systematics

CADENCE_DAYS = 2.0 / 1440.0
SECTOR_DAYS = 27.4
#: BTJD of the start of sector 1; later sectors follow every SECTOR_DAYS.
SECTOR1_START = 1325.3
#: SPOC quality bits used here: attitude tweak, momentum dump (desaturation), and
#: "manual exclude" during the downlink gap.
QUALITY_MOMENTUM_DUMP = 32
QUALITY_DESAT = 128
QUALITY_MANUAL_EXCLUDE = 1024


@dataclass(frozen=True)
class SimulatedStar:
    """Truth for one simulated light curve."""

    tic: int
    sector: int
    subtype: str
    label: str
    tmag: float
    ra: float
    dec: float


def sector_times(sector: int) -> tuple[np.ndarray, np.ndarray]:
    """Cadence times of a sector and a mask of those inside the downlink gap."""
    start = SECTOR1_START + (sector - 1) * SECTOR_DAYS
    time = start + CADENCE_DAYS * np.arange(int(SECTOR_DAYS / CADENCE_DAYS))
    middle = start + SECTOR_DAYS / 2
    in_gap = np.abs(time - middle) < 0.5
    return time, in_gap


def noise_ppm(tmag: float) -> float:
    """2-minute white noise against TESS magnitude (about 230 ppm at T = 10)."""
    return 230.0 * 10 ** (0.33 * (tmag - 10.0))


#: Days between momentum dumps (reaction-wheel desaturations) in the simulated sectors.
MOMENTUM_DUMP_DAYS = 3.125


def sector_events(sector: int) -> tuple[np.ndarray, np.ndarray]:
    """Start times of a sector's two orbits and the times of its momentum dumps."""
    time, in_gap = sector_times(sector)
    orbit_starts = np.array([time[0], time[in_gap][-1] + CADENCE_DAYS])
    dumps = time[0] + MOMENTUM_DUMP_DAYS * np.arange(1, int(SECTOR_DAYS / MOMENTUM_DUMP_DAYS) + 1)
    return orbit_starts, dumps


def spoc_filename(sector: int, tic: int) -> str:
    """A SPOC-style product name, ``tess<stamp>-s<sector>-<tic>-0000-s_lc.fits``."""
    stamp = 2018206045859 + (sector - 1) * 27_000_000  # monotonic, SPOC-shaped
    return f"tess{stamp}-s{sector:04d}-{tic:016d}-0000-s_lc.fits"


def simulated_period(star: SimulatedStar, seed: int) -> float:
    """The period :func:`write_spoc_file` draws for ``star`` (same seed), without writing."""
    rng = np.random.default_rng([seed, star.sector, star.tic])
    time, _ = sector_times(star.sector)
    return float(SIGNALS[star.subtype][1](rng, time, CADENCE_DAYS)[1])


def simulate_lightcurve(star: SimulatedStar, seed: int) -> tuple[LightCurve, float]:
    """Simulate ``star``'s 2-minute light curve in memory, as :func:`write_spoc_file` writes it.

    Returns
    -------
    (LightCurve, float)
        The light curve (flux in e-/s, float32 precision as in the file) and the period
        (days) of the drawn model (0 for a quiet star).
    """
    rng = np.random.default_rng([seed, star.sector, star.tic])
    time, in_gap = sector_times(star.sector)
    _, signal = SIGNALS[star.subtype]
    relative, period = signal(rng, time, CADENCE_DAYS)
    sigma = noise_ppm(star.tmag) * 1e-6
    orbit_starts, dumps = sector_events(star.sector)
    relative = relative * systematics(rng, time, orbit_starts, dumps, sigma)
    level = 15_000.0 * 10 ** (-0.4 * (star.tmag - 10.0))
    flux = level * (relative + rng.normal(0.0, sigma, time.size))
    quality = np.zeros(time.size, dtype=np.int32)
    quality[in_gap] = QUALITY_MANUAL_EXCLUDE
    quality[np.searchsorted(time, dumps)] |= QUALITY_MOMENTUM_DUMP | QUALITY_DESAT
    flagged = rng.choice(time.size, size=time.size // 200, replace=False)
    quality[flagged] |= rng.choice([QUALITY_MOMENTUM_DUMP, QUALITY_DESAT], size=flagged.size)
    flux[in_gap] = np.nan
    flux[rng.choice(time.size, size=time.size // 500, replace=False)] = np.nan
    lc = LightCurve(
        time=time,
        flux=flux.astype(np.float32).astype(np.float64),
        quality=quality,
        tic=star.tic,
        sector=star.sector,
        flux_column="PDCSAP_FLUX",
        meta={"path": f"<simulated TIC {star.tic} sector {star.sector}>", "ra": star.ra,
              "dec": star.dec, "tmag": star.tmag, "noise": level * sigma},
    )  # fmt: skip
    return lc, float(period)


def write_spoc_file(path: str | os.PathLike, star: SimulatedStar, seed: int) -> float:
    """Simulate ``star`` and write it as a SPOC 2-minute light-curve file (atomically).

    Returns the period (days) of the drawn model (0 for a quiet star).
    """
    lc, period = simulate_lightcurve(star, seed)
    time, flux = lc.time, lc.flux
    error = np.full(time.size, lc.meta["noise"], dtype=np.float32)
    primary = fits.PrimaryHDU()
    for key, value in {
        "TELESCOP": "TESS",
        "OBJECT": f"TIC {star.tic}",
        "TICID": star.tic,
        "SECTOR": star.sector,
        "CAMERA": 1 + star.tic % 4,
        "CCD": 1 + (star.tic // 4) % 4,
        "RA_OBJ": star.ra,
        "DEC_OBJ": star.dec,
        "TESSMAG": star.tmag,
        "ORIGIN": "ebscan simulator",
        "CREATOR": f"ebscan {__version__}",
    }.items():
        primary.header[key] = value
    table = fits.BinTableHDU.from_columns(
        [
            fits.Column("TIME", "D", unit="BJD - 2457000, days", array=time),
            fits.Column("CADENCENO", "J", array=np.arange(time.size, dtype=np.int32)),
            fits.Column("SAP_FLUX", "E", unit="e-/s", array=flux.astype(np.float32)),
            fits.Column("PDCSAP_FLUX", "E", unit="e-/s", array=flux.astype(np.float32)),
            fits.Column("PDCSAP_FLUX_ERR", "E", unit="e-/s", array=error),
            fits.Column("QUALITY", "J", array=lc.quality),
        ],
        name="LIGHTCURVE",
    )
    with atomic_open(path, "wb") as handle:
        fits.HDUList([primary, table]).writeto(handle, checksum=True)
    return float(period)


def _write_if_changed(path: str, text: str) -> None:
    """Leave an identical file alone, so that its timestamp does not trigger reruns."""
    if os.path.exists(path):
        with open(path) as handle:
            if handle.read() == text:
                return
    with atomic_open(path) as handle:
        handle.write(text)


#: Where simulated TICs start by default; SIMULATED_TIC_BASE keeps augmentation stars
#: clear of every real TIC (the TIC's ids end near 2.1e9).
DEMO_TIC_BASE = 10_000_000
SIMULATED_TIC_BASE = 3_000_000_000


def draw_stars(
    sector: int,
    n_stars: int,
    seed: int,
    eb_fraction: float = 0.4,
    tic_pool: int | None = None,
    tic_base: int = DEMO_TIC_BASE,
) -> list[SimulatedStar]:
    """Draw the stars of one sector.

    TICs come from a pool shared by all sectors of the same ``seed`` (a star keeps its
    class and TIC across sectors, as real targets do), so a TIC can appear in several
    sectors. They are drawn from ``tic_base`` to ``tic_base`` + 9e7.
    """
    pool = tic_pool or 3 * n_stars
    population = np.random.default_rng(seed)
    tics = tic_base + population.choice(90_000_000, size=pool, replace=False)
    eb_subtypes = [s for s, (label, _) in SIGNALS.items() if label == "EB"]
    other = [s for s, (label, _) in SIGNALS.items() if label != "EB"]
    subtypes = [
        population.choice(eb_subtypes)
        if population.random() < eb_fraction
        else population.choice(other)
        for _ in range(pool)
    ]
    tmags = population.uniform(7.0, 13.5, pool)
    ras, decs = (
        population.uniform(0, 360, pool),
        np.degrees(np.arcsin(population.uniform(-1, 1, pool))),
    )
    chosen = np.sort(
        np.random.default_rng([seed, sector]).choice(pool, size=n_stars, replace=False)
    )
    return [
        SimulatedStar(
            tic=int(tics[i]),
            sector=sector,
            subtype=str(subtypes[i]),
            label=SIGNALS[subtypes[i]][0],
            tmag=round(float(tmags[i]), 3),
            ra=round(float(ras[i]), 6),
            dec=round(float(decs[i]), 6),
        )
        for i in chosen
    ]


#: The real MAST address a bulk-script line points at; the manifest keeps only the file name.
MAST_DOWNLOAD = "https://mast.stsci.edu/api/v0.1/Download/file/?uri=mast:TESS/product/{filename}"


def _simulate_one(args: tuple[str, SimulatedStar, int]) -> float:
    path, star, seed = args
    if os.path.exists(path):
        return simulated_period(star, seed)
    return write_spoc_file(path, star, seed)


def build_mirror(
    directory: str | os.PathLike,
    sectors: list[int],
    n_stars: int,
    seed: int = 0,
    tic_base: int = DEMO_TIC_BASE,
    jobs: int = 1,
) -> list[dict]:
    """Write a local stand-in for MAST: light curves, bulk scripts and the truth.

    Layout: ``files/<product>.fits``, ``tesscurl_sector_<N>_lc.sh`` (one curl line per
    file, as MAST publishes them) and ``truth.csv`` (tic, sector, filename, label,
    subtype, period, tmag). The same arguments give the same files (headers and data;
    the checksum comments carry the time of writing), whatever ``jobs`` (worker
    processes); files already there are left untouched, so a rerun triggers no rerun
    downstream.

    Returns
    -------
    list of dict
        The truth rows.
    """
    directory = os.fspath(directory)
    os.makedirs(os.path.join(directory, "files"), exist_ok=True)
    truth = []
    with ProcessPoolExecutor(max_workers=jobs) if jobs > 1 else nullcontext() as pool:
        for sector in sectors:
            stars = draw_stars(sector, n_stars, seed, tic_base=tic_base)
            names = [spoc_filename(sector, star.tic) for star in stars]
            tasks = [
                (os.path.join(directory, "files", name), star, seed)
                for name, star in zip(names, stars, strict=True)
            ]
            periods = (
                pool.map(_simulate_one, tasks, chunksize=16) if pool else map(_simulate_one, tasks)
            )
            lines = ["#!/bin/sh"]
            for name, star, period in zip(names, stars, periods, strict=True):
                lines.append(f"curl -C - -L -o {name} {MAST_DOWNLOAD.format(filename=name)}")
                truth.append(
                    {
                        "tic": star.tic,
                        "sector": sector,
                        "filename": name,
                        "label": star.label,
                        "subtype": star.subtype,
                        "period": round(period, 6),
                        "tmag": star.tmag,
                    }
                )
            script = os.path.join(directory, f"tesscurl_sector_{sector}_lc.sh")
            _write_if_changed(script, "\n".join(lines) + "\n")
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=list(truth[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(truth)
    _write_if_changed(os.path.join(directory, "truth.csv"), table.getvalue())
    return truth
