"""EB catalogs and training labels with provenance.

Readers for the catalogs the training set is built from (offline, from a folder laid
out like ``../shared/catalogs``; Prsa et al. 2022 and GCVS 5.1 also online from
VizieR), the planet-host list that is removed from the EB truth, the assembly of a
labels table (positives, sampled negatives, known non-EB variables, every row with its
source and reason), and the TIC-then-position cross-match used here and by the catalog
stage.
"""

from __future__ import annotations

import csv
import os
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import ascii as astropy_ascii

from ebscan.atomic import write_csv
from ebscan.config import TrainingConfig
from ebscan.tables import read_table

LABEL_FIELDS = ("tic", "sector", "label", "subtype", "source", "reason")
#: The vocabulary of a labels table: the labels ebscan writes for the two classes that
#: the training and evaluation stages use (:func:`label_class`); a row with any other
#: label (``excluded``, ``planet-host``, ``corrupt``) stays out of training.
POSITIVE = "EB"
NEGATIVE = "non-EB"
#: Labels read as negatives: ``non-EB``, and the shared 2-minute set's
#: ``non-EB-unverified`` (no EB catalogue lists the star), so that such a table trains
#: as it is; :func:`evaluation_labels` writes both as ``non-EB``.
NEGATIVE_LABELS = frozenset({NEGATIVE, "non-EB-unverified"})


def label_class(label: str) -> int | None:
    """1 for an EB, 0 for a negative (:data:`NEGATIVE_LABELS`), ``None`` for a label
    that stays out of training."""
    if label == POSITIVE:
        return 1
    return 0 if label in NEGATIVE_LABELS else None


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


#: VizieR's copy of the General Catalogue of Variable Stars, version 5.1.
GCVS_VIZIER = "B/gcvs/gcvs_cat"
#: GCVS variability types taken as known non-EB variables, with their usual names.
GCVS_NON_EB_TYPES = {
    "BY": "BY Dra",
    "DSCT": "delta Sct",
    "DSCTC": "delta Sct (low amplitude)",
    "GDOR": "gamma Dor",
    "RRAB": "RR Lyr (ab)",
    "RRC": "RR Lyr (c)",
    "ELL": "ellipsoidal",
    "M": "Mira (M type)",
}
#: GCVS eclipsing types: a star that has one of these is never a negative.
GCVS_ECLIPSING_TYPES = frozenset({"E", "EA", "EB", "EW", "EP"})


def gcvs_non_eb_type(var_type: str) -> str | None:
    """The non-EB type a GCVS ``VarType`` string gives, or None.

    GCVS writes combined types with ``+`` and ``/`` (``EA/DM``, ``BY+UV``) and
    uncertain ones with ``:`` (``RRAB:``). A star counts when one of its types is in
    :data:`GCVS_NON_EB_TYPES` and none is eclipsing; an uncertain type does not count.
    """
    parts = [p for p in re.split(r"[+/|]", var_type.strip()) if p]
    if any(p.rstrip(":") in GCVS_ECLIPSING_TYPES for p in parts):
        return None
    return next((p for p in parts if p in GCVS_NON_EB_TYPES), None)


def fetch_gcvs_vizier(server: str | None = None):
    """GCVS 5.1 names, types and J2000 positions in degrees from VizieR (astroquery).

    ``server`` replaces astroquery's VizieR host (a mirror, or a test server).
    """
    from astroquery.vizier import Vizier

    vizier = Vizier(columns=["GCVS", "VarType", "_RAJ2000", "_DEJ2000"], row_limit=-1)
    if server:
        vizier.VIZIER_SERVER = server
    return vizier.get_catalogs(GCVS_VIZIER)[0]


def read_gcvs(source: str | os.PathLike, server: str | None = None) -> list[dict]:
    """The known non-EB variables of GCVS 5.1: name, GCVS type, RA and Dec (degrees).

    Parameters
    ----------
    source : str or path
        ``"vizier"`` to query VizieR, or a saved copy of the VizieR table (any format
        astropy reads: VOTable, ECSV, FITS) with columns ``GCVS``, ``VarType`` and
        ``_RAJ2000``/``_DEJ2000`` in degrees or ``RAJ2000``/``DEJ2000`` sexagesimal.
    server : str, optional
        VizieR host for ``"vizier"``.
    """
    from astropy import units as u
    from astropy.coordinates import SkyCoord
    from astropy.table import Table

    table = fetch_gcvs_vizier(server) if source == "vizier" else Table.read(source)
    if "_RAJ2000" in table.colnames:
        ra = np.asarray(table["_RAJ2000"], dtype=float)
        dec = np.asarray(table["_DEJ2000"], dtype=float)
    else:
        position = SkyCoord(
            [str(v) for v in table["RAJ2000"]],
            [str(v) for v in table["DEJ2000"]],
            unit=(u.hourangle, u.deg),
        )
        ra, dec = position.ra.deg, position.dec.deg
    variables = []
    for row, ra_deg, dec_deg in zip(table, ra, dec, strict=True):
        var_type = gcvs_non_eb_type(str(row["VarType"]))
        if var_type is not None and np.isfinite(ra_deg) and np.isfinite(dec_deg):
            variables.append(
                {"name": str(row["GCVS"]).strip(), "type": var_type, "ra": ra_deg, "dec": dec_deg}
            )
    return variables


def variable_labels(
    light_curves: list[dict],
    variables: list[dict],
    exclude_tics: set[int] = frozenset(),
    radius_arcsec: float = TrainingConfig.gcvs_radius_arcsec,
) -> list[dict]:
    """Label as ``non-EB`` the light curves of known non-EB variables (by position).

    Parameters
    ----------
    light_curves : list of dict
        ``tic``, ``sector``, ``ra``, ``dec`` of each light curve (from the shards).
    variables : list of dict
        :func:`read_gcvs` rows.
    exclude_tics : set of int
        TICs never labelled negative (every EB catalog's stars, planet hosts).
    radius_arcsec : float
        Largest separation accepted. GCVS positions of old entries are poor, and a
        TESS pixel (21 arcsec) can hold the variable and a neighbour: keep it small.
    """
    if not light_curves or not variables:
        return []
    match = crossmatch(
        np.full(len(light_curves), -1),
        np.array([lc["ra"] for lc in light_curves], dtype=float),
        np.array([lc["dec"] for lc in light_curves], dtype=float),
        np.full(len(variables), -1),
        np.array([v["ra"] for v in variables]),
        np.array([v["dec"] for v in variables]),
        radius_arcsec=radius_arcsec,
    )
    rows = []
    for lc, index in zip(light_curves, match, strict=True):
        if index < 0 or int(lc["tic"]) in exclude_tics:
            continue
        variable = variables[index]
        rows.append(
            {
                "tic": int(lc["tic"]),
                "sector": int(lc["sector"]),
                "label": NEGATIVE,
                "subtype": variable["type"],
                "source": f"GCVS 5.1 ({GCVS_VIZIER}) {variable['name']}",
                "reason": f"known {GCVS_NON_EB_TYPES[variable['type']]} variable",
            }
        )
    return rows


def build_variable_labels(
    shards: Iterable[str | os.PathLike],
    gcvs: str | os.PathLike,
    exclude_labels: Iterable[str | os.PathLike] = (),
    radius_arcsec: float = TrainingConfig.gcvs_radius_arcsec,
    server: str | None = None,
) -> list[dict]:
    """``non-EB`` labels for the shards' light curves of GCVS non-EB variables.

    ``gcvs`` is ``"vizier"`` or a saved table (see :func:`read_gcvs`). A TIC that any
    ``exclude_labels`` table labels other than ``non-EB`` (an EB, a planet host) is
    never labelled.
    """
    from ebscan.shards import light_curve_positions

    exclude = {
        tic
        for table in exclude_labels
        for (tic, _), row in read_labels(table).items()
        if label_class(row["label"]) != 0
    }
    return variable_labels(
        light_curve_positions(shards), read_gcvs(gcvs, server), exclude, radius_arcsec
    )


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


def read_justesen2021(directory: str | os.PathLike) -> set[int]:
    """TICs of Justesen et al. 2021 southern EBs (first column of table2.dat)."""
    with open(Path(directory) / "table2.dat") as handle:
        return {int(line.split()[0]) for line in handle if line.strip()}


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
    """The catalogs under one folder (the layout of ``../shared/catalogs``)."""

    root: Path

    @property
    def prsa(self):
        return read_prsa2022(self.root / "prsa2022_tess_ebs")

    @property
    def calnet_training(self):
        return read_calnet_training(self.root / "calnet_shan2025")

    @property
    def calnet_samples(self):
        return read_calnet_samples(self.root / "calnet_shan2025")

    @property
    def calnet_new(self):
        return read_calnet_new_ebs(self.root / "calnet_shan2025")

    @property
    def justesen(self) -> set[int]:
        return read_justesen2021(self.root / "justesen2021")

    @property
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
    return tics | catalogs.justesen


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


def evaluation_labels(labels_csv: str | os.PathLike) -> list[dict]:
    """Labels of the shared real light curves (``data/*/labels.csv``) in LABEL_FIELDS form.

    ``EB`` stays ``EB``; ``non-EB``, ``non-EB-unverified`` and the 30-minute set's
    variable classes (NONVAR, GDOR, DSCT, RRLYR_C) become ``non-EB`` with the
    original as subtype; planet hosts, candidates and corrupt files are ``excluded``.
    """
    rows = []
    for row in read_table(labels_csv, ("tic", "sector", "label"), "labels table"):
        original = row["label"]
        if original == "EB":
            label = POSITIVE
        elif original in NEGATIVE_LABELS or original in {"NONVAR", "GDOR", "DSCT", "RRLYR_C"}:
            label = NEGATIVE
        else:
            label = "excluded"
        if not row["tic"]:
            continue
        rows.append(
            {
                "tic": int(row["tic"]),
                "sector": int(row["sector"]),
                "label": label,
                "subtype": original,
                "source": row.get("source_repo", ""),
                "reason": row.get("evidence", ""),
            }
        )
    return rows


def read_labels(path: str | os.PathLike) -> dict[tuple[int, int], dict]:
    """(tic, sector) -> row of a labels CSV with at least tic, sector, label columns.

    Raises
    ------
    ebscan.errors.InputError
        For an empty file or missing columns.
    """
    rows = read_table(path, ("tic", "sector", "label"), "labels table")
    return {(int(r["tic"]), int(r["sector"])): r for r in rows if r["tic"] and r["sector"]}


def write_labels(rows: list[dict], path: str | os.PathLike) -> None:
    """Write a labels table (CSV, ``LABEL_FIELDS``) atomically."""
    write_csv(path, rows, LABEL_FIELDS)


def crossmatch(
    tics: np.ndarray,
    ra: np.ndarray,
    dec: np.ndarray,
    catalog_tics: np.ndarray,
    catalog_ra: np.ndarray,
    catalog_dec: np.ndarray,
    radius_arcsec: float = 21.0,
) -> np.ndarray:
    """Index into the catalog of each source's match, or -1.

    A source matches the catalog row with the same TIC; a source whose TIC the
    catalog lacks (or is unknown, <= 0) falls back to the nearest catalog position
    within ``radius_arcsec`` (default one TESS pixel). NaN positions never match.
    """
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    tics = np.asarray(tics)
    index_of = {int(t): i for i, t in enumerate(catalog_tics)}
    match = np.array([index_of.get(int(t), -1) if t > 0 else -1 for t in tics], dtype=int)
    todo = np.flatnonzero((match < 0) & np.isfinite(ra) & np.isfinite(dec))
    cat_ok = np.flatnonzero(np.isfinite(catalog_ra) & np.isfinite(catalog_dec))
    if todo.size and cat_ok.size:
        sources = SkyCoord(np.asarray(ra)[todo] * u.deg, np.asarray(dec)[todo] * u.deg)
        catalog = SkyCoord(
            np.asarray(catalog_ra)[cat_ok] * u.deg, np.asarray(catalog_dec)[cat_ok] * u.deg
        )
        nearest, separation, _ = sources.match_to_catalog_sky(catalog)
        close = separation.arcsec <= radius_arcsec
        match[todo[close]] = cat_ok[nearest[close]]
    return match


def labelled_light_curves(labels_csv: str | os.PathLike) -> int:
    """Light curves of a labels table that training uses (``EB`` or ``non-EB``)."""
    with open(labels_csv, newline="") as handle:
        return sum(row["label"] in (POSITIVE, NEGATIVE) for row in csv.DictReader(handle))


def simulated_star_count(n_real: int, share: float) -> int:
    """Simulated light curves that make up ``share`` of a training set of ``n_real`` real ones."""
    if not 0 <= share < 1:
        raise ValueError(f"simulated share must be in [0, 1), not {share!r}")
    return round(n_real * share / (1 - share))
