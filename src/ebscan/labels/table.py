"""The labels table: its vocabulary, reading and writing, and tables made from other
labels (the shared data's, the simulator's).
"""

from __future__ import annotations

import csv
import os

from ebscan.atomic import write_csv
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


def labelled_light_curves(labels_csv: str | os.PathLike) -> int:
    """Light curves of a labels table that training uses (a :func:`label_class`)."""
    with open(labels_csv, newline="") as handle:
        return sum(label_class(row["label"]) is not None for row in csv.DictReader(handle))


def simulated_star_count(n_real: int, share: float) -> int:
    """Simulated light curves that make up ``share`` of a training set of ``n_real`` real ones."""
    if not 0 <= share < 1:
        raise ValueError(f"simulated share must be in [0, 1), not {share!r}")
    return round(n_real * share / (1 - share))
