"""Known non-EB variables of GCVS 5.1 as negatives: read (offline or from VizieR) and
matched to light curves by TIC, then position.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

import numpy as np

from ebscan.config import TrainingConfig
from ebscan.labels.table import NEGATIVE, label_class, read_labels

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
    match = match_positions(
        np.array([lc["ra"] for lc in light_curves], dtype=float),
        np.array([lc["dec"] for lc in light_curves], dtype=float),
        np.array([v["ra"] for v in variables]),
        np.array([v["dec"] for v in variables]),
        radius_arcsec,
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
    from ebscan.lightcurves.shards import light_curve_positions

    exclude = {
        tic
        for table in exclude_labels
        for (tic, _), row in read_labels(table).items()
        if label_class(row["label"]) != 0
    }
    return variable_labels(
        light_curve_positions(shards), read_gcvs(gcvs, server), exclude, radius_arcsec
    )


def match_positions(
    ra: np.ndarray,
    dec: np.ndarray,
    catalog_ra: np.ndarray,
    catalog_dec: np.ndarray,
    radius_arcsec: float,
) -> np.ndarray:
    """Index into the catalog of each source's nearest catalog position within
    ``radius_arcsec``, or -1. NaN positions never match."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    match = np.full(len(ra), -1, dtype=int)
    todo = np.flatnonzero(np.isfinite(ra) & np.isfinite(dec))
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
