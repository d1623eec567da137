"""The file feed connector: each push becomes a feed file in a directory that a channel (or its feed fetcher,
an SFTP drop, a CDN bucket mirror) picks up.

Configured with ``url = file:///absolute/dir``. A push writes two files, each atomically (written under a
temporary name in the same directory, fsynced, renamed over the target, the directory fsynced), so a reader
never sees half a file:

- ``{channel}-{key}.csv``: the batch, named by its idempotency key, so a redelivered batch rewrites the same
  file with the same content instead of adding one;
- ``{channel}-full.csv``: the full snapshot, the latest value per (sku, country), merged from the previous
  snapshot and the batch; a row's version never goes backwards in it (an older value arriving late is left
  out), so a reader that only takes the snapshot always sees the newest values.

Both are CSV with the header ``sku,country,quantity,content,price,version`` (an empty cell: no value). The
catalog's feed formats need the listing's fields, which a sync update does not carry (only the content's
hash), so CSV is the format here. "On change and on a schedule": the engine pushes every change as it
happens, and the resync command (on demand or from a schedule) pushes the full desired state, which the
snapshot then holds whole. Keel never deletes batch files: the directory's reader removes what it has taken.

The connector never raises for the directory's failures (missing, unwritable, disk full, an unreadable
snapshot): they become ``PushResult(error=...)`` and the engine retries the batch under the same key.
``read`` reads the snapshot back (drift detection).
"""

from __future__ import annotations

import csv
import io
import os
import threading
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlparse

from keel.channels.sync.model import Capabilities, PushResult, ReadResult, Update

HEADER = ("sku", "country", "quantity", "content", "price", "version")
CAPABILITIES = Capabilities(batch_size=25_000, rate_limit=1_000_000, window_s=60.0, read_back=True)
Row = tuple[str, str, int, str | None, str | None, int]


class FeedError(Exception):
    """A feed file that does not parse (raised inside this module only; reported as a result)."""


def directory_of(url: str) -> Path:
    """The directory of a ``file:///absolute/dir`` URL (ValueError for anything else)."""
    parts = urlparse(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise ValueError("must be a file:/// URL")
    path = Path(unquote(parts.path))
    if not path.is_absolute():
        raise ValueError("must name an absolute directory")
    return path


class FileFeedConnector:
    """Writes one channel family's feed files into one directory."""

    kind = "file"

    def __init__(self, url: str, capabilities: Capabilities | None = None) -> None:
        self.directory = directory_of(url)
        # the limits are the configuration's; what the channel can do (read back, compare-and-set, ...) is this kind's
        self.capabilities = (
            CAPABILITIES
            if capabilities is None
            else replace(
                CAPABILITIES,
                batch_size=capabilities.batch_size,
                rate_limit=capabilities.rate_limit,
                window_s=capabilities.window_s,
            )
        )
        # the engine pushes one batch per channel at a time; the lock keeps a snapshot merge whole even if not
        self._lock = threading.Lock()

    def push(self, channel: str, updates: list[Update], key: str) -> PushResult:
        """Write the batch file and merge it into the snapshot; every failure is reported in the result."""
        if not updates:
            return PushResult()
        if not _safe_name(channel) or not _safe_name(key):
            return PushResult(error="channel or key not usable in a file name")
        rows = [(u.sku, u.country, u.quantity, u.content, u.price, u.version) for u in updates]
        try:
            with self._lock:
                _write(self.directory / f"{channel}-{key}.csv", rows)
                snapshot = self.directory / f"{channel}-full.csv"
                held = _read(snapshot)
                for row in rows:
                    old = held.get((row[0], row[1]))
                    if old is None or old[5] <= row[5]:  # an older version arriving late changes nothing
                        held[(row[0], row[1])] = row
                _write(snapshot, [held[k] for k in sorted(held)])
        except FeedError as exc:
            return PushResult(error=f"snapshot unreadable: {exc}")
        except OSError as exc:  # missing or unwritable directory, disk full, quota
            return PushResult(error=f"cannot write feed: {exc.strerror or type(exc).__name__}")
        return PushResult(accepted=tuple((u.sku, u.country) for u in updates))

    def read(self, channel: str, keys: list[tuple[str, str]]) -> ReadResult:
        """The snapshot's quantities of ``keys`` (no snapshot yet: the channel holds nothing)."""
        if not _safe_name(channel):
            return ReadResult(error="channel not usable in a file name")
        try:
            held = _read(self.directory / f"{channel}-full.csv")
        except FeedError as exc:
            return ReadResult(error=f"snapshot unreadable: {exc}")
        except OSError as exc:
            return ReadResult(error=f"cannot read feed: {exc.strerror or type(exc).__name__}")
        return ReadResult(values={k: held[k][2] for k in keys if k in held})

    def close(self) -> None:
        pass


def _safe_name(name: str) -> bool:
    # channel codes and batch keys are plain already; this keeps any other name from leaving the directory
    return bool(name) and not name.startswith(".") and all(c.isalnum() or c in "-_." for c in name)


def _write(path: Path, rows: list[Row]) -> None:
    """Replace ``path`` with ``rows`` atomically and durably: a crash leaves the old file or the new one."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for sku, country, quantity, content, price, version in rows:
        writer.writerow((sku, country, quantity, content or "", price or "", version))
    data = buffer.getvalue().encode()
    temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)
        raise
    # the rename itself must survive a crash too
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def parse(text: str) -> list[Row]:
    """The rows of a feed file (FeedError when it is not one)."""
    reader = csv.reader(io.StringIO(text))
    if tuple(next(reader, ())) != HEADER:
        raise FeedError("not a feed file (header)")
    rows: list[Row] = []
    for n, cells in enumerate(reader, start=2):
        if len(cells) != len(HEADER):
            raise FeedError(f"line {n}: {len(cells)} cells")
        sku, country, quantity, content, price, version = cells
        try:
            rows.append((sku, country, int(quantity), content or None, price or None, int(version)))
        except ValueError:
            raise FeedError(f"line {n}: quantity and version must be whole numbers") from None
    return rows


def _read(path: Path) -> dict[tuple[str, str], Row]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise FeedError(f"{path.name} is not UTF-8") from None
    return {(r[0], r[1]): r for r in parse(text)}
