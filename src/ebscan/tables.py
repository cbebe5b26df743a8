"""Reading the CSV and TSV tables that ebscan exchanges, with errors that name the file."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable

from ebscan.errors import InputError


def read_table(
    path: str | os.PathLike, columns: Iterable[str], kind: str, delimiter: str = ","
) -> list[dict]:
    """Rows of a table that must have ``columns`` (others may follow).

    Parameters
    ----------
    path : path
        The CSV (or, with ``delimiter="\\t"``, TSV) file.
    columns : iterable of str
        Columns the table must have.
    kind : str
        What the table is, for the error message (``"manifest"``, ``"labels table"``).

    Raises
    ------
    InputError
        For an empty file, or one without some of ``columns`` (say a labels table
        given as a manifest), naming the file, the missing and the present columns.
    """
    columns = list(columns)
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        if reader.fieldnames is None:
            raise InputError(path, f"empty file; a {kind} has the columns {', '.join(columns)}")
        missing = [c for c in columns if c not in reader.fieldnames]
        if missing:
            raise InputError(
                path,
                f"not a {kind}: no {', '.join(missing)} column "
                f"(it has {', '.join(reader.fieldnames)})",
            )
        return list(reader)
