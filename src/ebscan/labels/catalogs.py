"""EB catalogs and the labels built from them, with provenance.

Readers for the catalogs the training set is built from (offline, from a folder laid
out like ``../shared/catalogs``; Prsa et al. 2022 also online from VizieR), the
planet-host list that is removed from the EB truth, and the assembly of a labels
table: positives and sampled negatives, every row with its source and reason.
"""

from __future__ import annotations

import csv
import os
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from astropy.io import ascii as astropy_ascii

from ebscan.config import TrainingConfig
from ebscan.labels.table import NEGATIVE, POSITIVE

#: ExoFOP TFOPWG dispositions of confirmed or known planets.
PLANET_DISPOSITIONS = frozenset({"KP", "CP"})


def read_prsa2022(directory: str | os.PathLike):
    """Prsa et al. 2022 TESS EBs (VizieR J/ApJS/258/16) from ``tess-ebs.dat`` + ``ReadMe``.

    Returns an astropy Table with one row per ephemeris (4,584; some TICs have two).
    """
    directory = Path(directory)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the ReadMe's "datime" unit is not a CDS unit
        return astropy_ascii.read(
            directory / "tess-ebs.dat", readme=str(directory / "ReadMe"), format="cds"
        )


def fetch_prsa2022_vizier():
    """The same table from VizieR through astroquery (needs the network)."""
    from astroquery.vizier import Vizier

    return Vizier(row_limit=-1).get_catalogs("J/ApJS/258/16")[0]


def _fixed_width(path: Path):
    return astropy_ascii.read(path, format="fixed_width_two_line")


def read_calnet_training(directory: str | os.PathLike):
    """The CALNet paper's 4,225 known EBs (TIC, position, EA/EB/EW class, source)."""
    return _fixed_width(Path(directory) / "training_samples.dat")


def read_calnet_samples(directory: str | os.PathLike):
    """The CALNet paper's 19,171 TIC x sector light curves of known EBs, with class."""
    return _fixed_width(Path(directory) / "newclass_samples.dat")


def read_calnet_new_ebs(directory: str | os.PathLike):
    """The CALNet paper's new-EB catalog (10,531 stars from sectors 1-88)."""
    return _fixed_width(Path(directory) / "newecl.dat")


def read_justesen2021(directory: str | os.PathLike):
    """Justesen & Albrecht 2021 TESS EBs (VizieR J/ApJ/912/123, table 2) from
    ``table2.dat`` + ``ReadMe``.

    Returns an astropy Table with one row per EB (748): TIC, orbital period ``Per`` (d),
    primary and secondary eclipse times and depths, from a model of both eclipses of
    each light curve.
    """
    directory = Path(directory)
    return astropy_ascii.read(
        directory / "table2.dat", readme=str(directory / "ReadMe"), format="cds"
    )


def read_kepler_eb_labels(
    labels: Iterable[str | os.PathLike],
) -> dict[int, tuple[int | None, float]]:
    """TIC -> (KIC, period in d) of the Kepler EB catalogue rows of labels tables.

    The shared 30-minute ``labels.csv`` files carry the Kepler EB catalogue's period
    (``kebc_period``) and the KIC in ``evidence`` (``KEBC:KIC7976783``) for their EB
    rows: the catalogue cross-identified with the TIC.
    """
    matches: dict[int, tuple[int | None, float]] = {}
    for path in labels:
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                if not row.get("kebc_period") or not row.get("tic"):
                    continue
                kic = re.search(r"KIC\s*(\d+)", row.get("evidence", ""))
                matches.setdefault(
                    int(row["tic"]),
                    (int(kic.group(1)) if kic else None, float(row["kebc_period"])),
                )
    return matches


def planet_hosts(toi_csv: str | os.PathLike) -> dict[int, str]:
    """TIC -> "TOI-x.01 KP" for ExoFOP TOIs whose TFOPWG disposition is KP or CP."""
    with open(toi_csv, newline="", encoding="utf-8-sig") as handle:
        lines = [line for line in handle if line.startswith('"') or line[:1].isdigit()]
    hosts: dict[int, str] = {}
    for row in csv.DictReader(lines):
        if row["TFOPWG Disposition"] in PLANET_DISPOSITIONS:
            hosts.setdefault(int(row["TIC ID"]), f"TOI-{row['TOI']} {row['TFOPWG Disposition']}")
    return hosts


@dataclass(frozen=True)
class CatalogSet:
    """The catalogs under one folder (the layout of ``../shared/catalogs``), each read
    once, when first used."""

    root: Path

    @cached_property
    def prsa(self):
        return read_prsa2022(self.root / "prsa2022_tess_ebs")

    @cached_property
    def calnet_training(self):
        return read_calnet_training(self.root / "calnet_shan2025")

    @cached_property
    def calnet_samples(self):
        return read_calnet_samples(self.root / "calnet_shan2025")

    @cached_property
    def calnet_new(self):
        return read_calnet_new_ebs(self.root / "calnet_shan2025")

    @cached_property
    def justesen(self):
        return read_justesen2021(self.root / "justesen2021")

    @cached_property
    def planet_hosts(self) -> dict[int, str]:
        return planet_hosts(self.root / "exofop_toi_2022-11" / "exofop_tess_tois.csv")


def positive_light_curves(catalogs: CatalogSet) -> dict[tuple[int, int], dict]:
    """(tic, sector) -> {subtype, source} for every catalogued EB light curve."""
    positives: dict[tuple[int, int], dict] = {}

    def add(tic: int, sector: int, subtype: str, source: str) -> None:
        entry = positives.setdefault((tic, sector), {"subtype": subtype, "sources": []})
        entry["subtype"] = entry["subtype"] or subtype
        if source not in entry["sources"]:
            entry["sources"].append(source)

    for row in catalogs.calnet_samples:
        add(int(row["TIC"]), int(row["sector"]), str(row["class"]), "CALNet2025")
    for row in catalogs.prsa:
        for sector in str(row["Sectors"]).split(","):
            if sector.strip().isdigit():
                add(int(row["TIC"]), int(sector), "", "Prsa2022")
    return positives


def known_eb_tics(catalogs: CatalogSet) -> set[int]:
    """Every TIC any EB catalog lists: never drawn as a negative."""
    tics = {int(t) for t in catalogs.prsa["TIC"]}
    tics |= {int(t) for t in catalogs.calnet_training["TIC"]}
    tics |= {int(t) for t in catalogs.calnet_samples["TIC"]}
    tics |= {int(t) for t in catalogs.calnet_new["TIC"]}
    return tics | {int(t) for t in catalogs.justesen["TIC"]}


def build_labels(
    catalogs: CatalogSet,
    manifests: Iterable[list[dict]] | None = None,
    negative_ratio: float = TrainingConfig.negative_ratio,
    seed: int = TrainingConfig.seed,
) -> tuple[list[dict], dict[str, int]]:
    """A labels table: catalogued EBs, minus planet hosts, plus sampled negatives.

    Parameters
    ----------
    catalogs : CatalogSet
        Where the catalogs are.
    manifests : iterable of manifest rows, optional
        The light curves available (one manifest per sector). Positives are kept
        only where a light curve exists, and negatives are drawn from them: per
        sector, ``negative_ratio`` times that sector's positives, at random (seeded)
        among light curves whose TIC no EB catalog lists and that host no known
        planet. Without manifests, only positives are returned.
    negative_ratio : float
        Negatives per positive light curve (the paper: about 1).
    seed : int
        Sampling seed: the same inputs give the same table.

    Returns
    -------
    rows : list of dict
        ``LABEL_FIELDS`` rows: label ``EB`` or ``non-EB``, ``excluded`` for planet
        hosts that the EB catalogs list (kept for the record, used by no stage).
    counts : dict
        ``positive``, ``negative`` and ``planet_hosts_removed`` light curves.
    """
    hosts = catalogs.planet_hosts
    positives = positive_light_curves(catalogs)
    available: dict[int, set[int]] | None = None
    if manifests is not None:
        available = {}
        for manifest in manifests:
            for row in manifest:
                available.setdefault(int(row["sector"]), set()).add(int(row["tic"]))
    rows, counts = [], {"positive": 0, "negative": 0, "planet_hosts_removed": 0}
    positives_per_sector: dict[int, int] = {}
    for (tic, sector), entry in sorted(positives.items()):
        if available is not None and tic not in available.get(sector, set()):
            continue
        source = "+".join(entry["sources"])
        if tic in hosts:
            counts["planet_hosts_removed"] += 1
            rows.append(
                {
                    "tic": tic,
                    "sector": sector,
                    "label": "excluded",
                    "subtype": entry["subtype"],
                    "source": f"{source}+ExoFOP",
                    "reason": f"planet host ({hosts[tic]})",
                }
            )
            continue
        counts["positive"] += 1
        positives_per_sector[sector] = positives_per_sector.get(sector, 0) + 1
        rows.append(
            {
                "tic": tic,
                "sector": sector,
                "label": POSITIVE,
                "subtype": entry["subtype"],
                "source": source,
                "reason": "listed as an eclipsing binary",
            }
        )
    if available is not None:
        exclude = known_eb_tics(catalogs) | set(hosts)
        for sector in sorted(available):
            pool = sorted(available[sector] - exclude)
            wanted = min(round(negative_ratio * positives_per_sector.get(sector, 0)), len(pool))
            chosen = np.random.default_rng([seed, sector]).choice(pool, size=wanted, replace=False)
            for tic in sorted(int(t) for t in chosen):
                counts["negative"] += 1
                rows.append(
                    {
                        "tic": tic,
                        "sector": sector,
                        "label": NEGATIVE,
                        "subtype": "",
                        "source": f"random sector {sector} light curve",
                        "reason": "in no EB catalog; not a planet host",
                    }
                )
    return rows, counts
