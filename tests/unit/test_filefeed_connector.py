"""The file feed connector on a temporary directory: batch files and the snapshot appear and parse back, a
redelivered batch rewrites its file, the snapshot keeps the newest version, the directory's failures are
results, and the snapshot reads back."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from keel.channels.sync.filefeed import FileFeedConnector, directory_of, parse
from keel.channels.sync.model import Connector, PushResult, ReadBack, ReadResult, Update, batch_key, parse_config
from keel.channels.sync.pump import default_connector

BATCH = [Update("A", "DE", 3, "active:x", 2, price="9.99"), Update("B", "FR", 0, None, 5)]


def _push(c: FileFeedConnector, updates: list[Update], channel: str = "shop") -> PushResult:
    return c.push(channel, updates, batch_key(channel, updates))


def _files(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


def test_a_push_writes_the_batch_file_and_the_snapshot(tmp_path: Path) -> None:
    c = FileFeedConnector(tmp_path.as_uri())
    result = _push(c, BATCH)
    assert result == PushResult(accepted=(("A", "DE"), ("B", "FR")))
    key = batch_key("shop", BATCH)
    assert _files(tmp_path) == sorted([f"shop-{key}.csv", "shop-full.csv"])  # no temporary file left behind
    expected = [("A", "DE", 3, "active:x", "9.99", 2), ("B", "FR", 0, None, None, 5)]
    assert parse((tmp_path / f"shop-{key}.csv").read_text()) == expected
    assert parse((tmp_path / "shop-full.csv").read_text()) == expected
    assert (tmp_path / "shop-full.csv").read_text().splitlines()[0] == "sku,country,quantity,content,price,version"


def test_a_redelivered_batch_rewrites_the_same_file(tmp_path: Path) -> None:
    c = FileFeedConnector(tmp_path.as_uri())
    _push(c, BATCH)
    before = {name: (tmp_path / name).read_bytes() for name in _files(tmp_path)}
    assert _push(c, BATCH) == PushResult(accepted=(("A", "DE"), ("B", "FR")))
    assert {name: (tmp_path / name).read_bytes() for name in _files(tmp_path)} == before


def test_the_snapshot_merges_batches_and_never_goes_back_a_version(tmp_path: Path) -> None:
    c = FileFeedConnector(tmp_path.as_uri())
    _push(c, BATCH)
    _push(c, [Update("A", "DE", 7, "active:y", 4), Update("C", "DE", 1, None, 1)])
    # a late, older value of A/DE and a newer one of B/FR
    _push(c, [Update("A", "DE", 1, "active:old", 3), Update("B", "FR", 2, None, 6)])
    assert parse((tmp_path / "shop-full.csv").read_text()) == [
        ("A", "DE", 7, "active:y", None, 4),
        ("B", "FR", 2, None, None, 6),
        ("C", "DE", 1, None, None, 1),
    ]
    assert len(_files(tmp_path)) == 4  # three batch files and the snapshot


def test_channels_keep_snapshots_of_their_own(tmp_path: Path) -> None:
    c = FileFeedConnector(tmp_path.as_uri())
    _push(c, BATCH, "one")
    _push(c, [Update("A", "DE", 9, None, 9)], "two")
    assert c.read("one", [("A", "DE")]) == ReadResult(values={("A", "DE"): 3})
    assert c.read("two", [("A", "DE")]) == ReadResult(values={("A", "DE"): 9})


def test_an_unusable_directory_is_an_error_not_an_exception(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    for url in ((tmp_path / "missing").as_uri(), (blocker / "feeds").as_uri()):
        result = _push(FileFeedConnector(url), BATCH)
        assert result.accepted == () and result.error is not None and result.error.startswith("cannot write feed")
    assert blocker.read_text() == "not a directory"


def test_a_full_disk_is_an_error_and_leaves_the_snapshot_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = FileFeedConnector(tmp_path.as_uri())
    _push(c, BATCH)
    snapshot = (tmp_path / "shop-full.csv").read_bytes()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    result = _push(c, [Update("A", "DE", 1, None, 9)])
    assert result == PushResult(error=f"cannot write feed: {os.strerror(errno.ENOSPC)}")
    assert (tmp_path / "shop-full.csv").read_bytes() == snapshot
    assert not [n for n in _files(tmp_path) if n.endswith(".tmp")]


def test_a_broken_snapshot_is_reported_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "shop-full.csv").write_text("sku,country,quantity,content,price,version\nA,DE,lots,,,1\n")
    c = FileFeedConnector(tmp_path.as_uri())
    result = _push(c, BATCH)
    assert (
        result.accepted == ()
        and result.error == "snapshot unreadable: line 2: quantity and version must be whole numbers"
    )
    assert c.read("shop", [("A", "DE")]).error is not None
    assert "lots" in (tmp_path / "shop-full.csv").read_text()


def test_read_back_gives_the_snapshot_values_of_the_keys_asked(tmp_path: Path) -> None:
    c = FileFeedConnector(tmp_path.as_uri())
    port: Connector = c  # the ports it implements (checked by mypy)
    reader: ReadBack = c
    assert (
        port.capabilities.read_back and reader.read("shop", [("A", "DE")]) == ReadResult()
    )  # nothing written yet: nothing held
    _push(c, BATCH)
    assert c.read("shop", [("A", "DE"), ("B", "FR"), ("Z", "DE")]) == ReadResult(
        values={("A", "DE"): 3, ("B", "FR"): 0}
    )


def test_the_configuration_takes_file_urls_for_the_file_kind_only(tmp_path: Path) -> None:
    config, problems = parse_config("shop", {"connector": "file", "url": tmp_path.as_uri()})
    assert problems == [] and config is not None
    assert (config.capabilities.batch_size, config.secret) == (25_000, "")
    connector = default_connector(config)
    assert isinstance(connector, FileFeedConnector) and connector.directory == tmp_path
    _, problems = parse_config("shop", {"connector": "webhook", "url": tmp_path.as_uri(), "secret": "secret-1"})
    assert [p[0] for p in problems] == ["url"]
    _, problems = parse_config("shop", {"connector": "file", "url": "http://example.com/feeds"})
    assert [p[0] for p in problems] == ["url"]
    with pytest.raises(ValueError):
        directory_of("file://host/feeds")
