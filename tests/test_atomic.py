"""Atomic writes leave either the old file or the new one, never a part."""

from __future__ import annotations

import os

import pytest

from ebscan.atomic import atomic_open, write_csv


def test_failed_write_keeps_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "sub" / "table.csv"
    write_csv(target, [{"a": 1, "b": 2, "ignored": 3}], ["a", "b"])
    assert target.read_bytes() == b"a,b\r\n1,2\r\n"
    with pytest.raises(RuntimeError):
        with atomic_open(target) as handle:
            handle.write("half a new fi")
            raise RuntimeError("killed")
    assert target.read_bytes() == b"a,b\r\n1,2\r\n"
    assert os.listdir(tmp_path / "sub") == ["table.csv"]


def test_tsv(tmp_path):
    write_csv(tmp_path / "t.tsv", [{"x": "a b", "y": ""}], ["x", "y"], delimiter="\t")
    assert (tmp_path / "t.tsv").read_bytes() == b"x\ty\r\na b\t\r\n"
