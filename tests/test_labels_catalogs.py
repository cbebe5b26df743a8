"""Catalog readers, label assembly and cross-matching against the shared catalogs."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from ebscan.labels.catalogs import (
    CatalogSet,
    build_labels,
    known_eb_tics,
    planet_hosts,
    read_kepler_eb_labels,
)
from ebscan.labels.gcvs import match_positions
from ebscan.labels.table import evaluation_labels

from conftest import SPOC


@pytest.fixture(scope="module")
def catalogs(request):
    from conftest import CATALOGS, require_shared

    return CatalogSet(require_shared(CATALOGS))


def test_row_counts(catalogs):
    assert len(catalogs.prsa) == 4584
    assert len(catalogs.calnet_training) == 4225
    assert len(catalogs.calnet_samples) == 19171
    assert len(catalogs.calnet_new) == 10531
    cm_dra = catalogs.prsa[catalogs.prsa["TIC"] == 199574208]
    assert float(cm_dra["Per"][0]) == pytest.approx(1.2684, abs=1e-3)


def test_justesen_table_has_periods_with_units(catalogs):
    """Table 2 of Justesen & Albrecht 2021: one row per EB, periods in days. TIC
    30034081 is at twice Prsa's 2.3446 d: two equal eclipses, not one."""
    table = catalogs.justesen
    assert len(table) == len(set(table["TIC"])) == 748
    assert table["Per"].unit == "d"
    (row,) = table[table["TIC"] == 30034081]
    assert float(row["Per"]) == pytest.approx(4.689181915, abs=1e-9)
    assert float(row["d1"]) == pytest.approx(0.468, abs=1e-3)
    assert 30034081 in known_eb_tics(catalogs)


def toi_hosts_by_hand(path):
    """KP/CP TICs read with the csv module alone, skipping ExoFOP's two preamble lines."""
    with open(path, encoding="utf-8-sig") as handle:
        lines = handle.read().splitlines()[2:]
    header = next(csv.reader(lines[:1]))
    tic, disposition = header.index("TIC ID"), header.index("TFOPWG Disposition")
    return {int(r[tic]) for r in csv.reader(lines[1:]) if r and r[disposition] in ("KP", "CP")}


def test_planet_hosts_are_removed_and_counted(catalogs):
    hosts = planet_hosts(catalogs.root / "exofop_toi_2022-11" / "exofop_tess_tois.csv")
    assert set(hosts) == toi_hosts_by_hand(
        catalogs.root / "exofop_toi_2022-11" / "exofop_tess_tois.csv"
    )
    assert hosts[38846515].endswith("KP")  # TOI-106, in the Prsa EB catalog
    rows, counts = build_labels(catalogs)
    excluded = [r for r in rows if r["label"] == "excluded"]
    assert counts["planet_hosts_removed"] == len(excluded) > 0
    assert all(r["tic"] in hosts for r in excluded)
    assert not {r["tic"] for r in rows if r["label"] == "EB"} & set(hosts)
    assert ("38846515", "1") not in {
        (str(r["tic"]), str(r["sector"])) for r in rows if r["label"] == "EB"
    }
    samples = {(int(r["TIC"]), int(r["sector"])) for r in catalogs.calnet_samples}
    eb = {(r["tic"], r["sector"]) for r in rows if r["label"] == "EB"}
    assert {p for p in samples if p[0] not in hosts} <= eb


def manifests_from(catalogs, n_random=400, seed=0):
    """Two sectors of a fake manifest: some catalogued EBs plus random TICs."""
    rng = np.random.default_rng(seed)
    samples = [(int(r["TIC"]), int(r["sector"])) for r in catalogs.calnet_samples]
    manifests = []
    for sector in (11, 12):
        ebs = [tic for tic, s in samples if s == sector][:50]
        others = rng.integers(10**6, 10**9, n_random)
        manifests.append([{"tic": int(t), "sector": sector} for t in [*ebs, *others]])
    return manifests


def test_negatives_sampled_by_seed_and_disjoint(catalogs):
    manifests = manifests_from(catalogs)
    rows, counts = build_labels(catalogs, manifests, negative_ratio=1.0, seed=3)
    again, _ = build_labels(catalogs, manifests, negative_ratio=1.0, seed=3)
    other, _ = build_labels(catalogs, manifests, negative_ratio=1.0, seed=4)
    assert rows == again and rows != other
    positive = {r["tic"] for r in rows if r["label"] == "EB"}
    negative = {r["tic"] for r in rows if r["label"] == "non-EB"}
    assert not positive & negative
    assert not negative & known_eb_tics(catalogs)
    for sector in (11, 12):
        n_pos = sum(r["label"] == "EB" and r["sector"] == sector for r in rows)
        n_neg = sum(r["label"] == "non-EB" and r["sector"] == sector for r in rows)
        assert n_pos > 0 and n_neg == n_pos
    assert counts["negative"] == len([r for r in rows if r["label"] == "non-EB"])
    assert all(r["source"] and r["reason"] for r in rows)


def test_evaluation_labels_of_the_shared_set(spoc_dir):
    rows = evaluation_labels(SPOC / "labels.csv")
    labels = {r["label"] for r in rows}
    assert labels == {"EB", "non-EB", "excluded"}
    cm_dra = [r for r in rows if r["tic"] == 199574208]
    assert {r["label"] for r in cm_dra} == {"EB"} and len(cm_dra) == 3
    planet = [r for r in rows if r["tic"] == 410214986]
    assert planet[0]["label"] == "excluded" and planet[0]["subtype"] == "planet-host"
    assert all(r["tic"] > 0 for r in rows)  # the corrupt file has no TIC and is left out


def test_match_positions_takes_the_nearest_within_the_radius():
    catalog_ra, catalog_dec = np.array([10.0, 20.0, 30.0]), np.array([0.0, 5.0, -5.0])
    ra = np.array([np.nan, 30.0 + 10 / 3600, 10.0, 50.0, 20.0])
    dec = np.array([np.nan, -5.0, 0.0 + 30 / 3600, 0.0, 5.0 + 20 / 3600])
    # No position; 10" from the third; 30" from the first (outside 21"); far from all;
    # 20" from the second.
    assert match_positions(ra, dec, catalog_ra, catalog_dec, 21.0).tolist() == [-1, 2, -1, -1, 1]


def test_cli_labels_reports_planet_hosts(catalogs, tmp_path, capsys):
    from ebscan.cli import main

    assert main(["labels", "--catalogs", str(catalogs.root), "-o", str(tmp_path / "l.csv")]) == 0
    _, counts = build_labels(catalogs)
    err = capsys.readouterr().err
    assert f"planet_hosts_removed: {counts['planet_hosts_removed']}" in err
    with open(tmp_path / "l.csv") as handle:
        header = next(csv.reader(handle))
    assert header == ["tic", "sector", "label", "subtype", "source", "reason"]


def test_kepler_eb_rows_of_the_30_minute_labels(ffi_dir, ffi_kepler_dir):
    """The Kepler EB catalogue's KIC and period per TIC, from both 30-minute sets."""
    matches = read_kepler_eb_labels([ffi_dir / "labels.csv", ffi_kepler_dir / "labels.csv"])
    assert len(matches) == 50 + 252  # every EB row of the two sets, no TIC in both
    assert matches[273036521] == (7976783, pytest.approx(1.2088516))
    assert all(period > 0 for _, period in matches.values())
