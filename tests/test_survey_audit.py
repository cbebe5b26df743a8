"""The files the audit and the report read, as the workflow names them and as the
command line finds them."""

from __future__ import annotations

from ebscan.survey.audit import SECTOR_FILES, sector_files


def test_named_chunks_and_found_chunks_are_the_same_files(tmp_path):
    """With its eleven chunks' files laid out, a sector's files found in the folder (the
    command line's way) are the ones the workflow names from its chunk numbers, in the
    same order (chunk 10 after chunk 9); before the files exist, the workflow's names
    are there all the same and nothing is found."""
    named = sector_files(tmp_path, "spoc-2min", 7, range(11))
    assert set(named) == set(SECTOR_FILES)
    assert named["shards"][9:] == [
        f"{tmp_path}/shards/spoc-2min/sector_7/chunk_9.h5",
        f"{tmp_path}/shards/spoc-2min/sector_7/chunk_10.h5",
    ]
    assert sector_files(tmp_path, "spoc-2min", 7)["score_tables"] == []
    for kind in ("download_reports", "shards", "score_tables"):
        for path in named[kind]:
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).touch()
    assert sector_files(tmp_path, "spoc-2min", 7) == named
