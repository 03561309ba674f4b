"""``taros backup PATH`` and ``taros restore PATH``: the database and the evidence, safely.

A backup is a folder (created 0700, files 0600)::

    PATH/taros.db        the database, copied with SQLite's online backup API: a consistent
                         snapshot even while ``taros run`` keeps writing
    PATH/media/..        every evidence file, under its sha256 as in the data dir
    PATH/MANIFEST.json   written last: sizes and sha256 of everything above, schema version

A folder without its manifest is an interrupted backup and is never restored. Restoring checks
everything before touching the data dir: the manifest, each file's sha256, ``PRAGMA
integrity_check`` of the database and that its schema is not newer than this TAROS. The
current database is first saved next to it (``taros.db.pre-restore-<time>``), and a data dir
that holds tickets is only overwritten with ``--force``. The WhatsApp session is not part of
a backup (it is a credential; link the number again after moving to a new machine), nor are
derived files (charts, officer copies of photos).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from bot.files import write_private
from bot.ops.serving import try_lock
from bot.storage.database import bundled_migrations, prepare_private_file
from bot.storage.writer_lock import DataDirBusy, hold_alone

__all__ = ["BackupError", "Summary", "backup", "restore", "verify"]

FORMAT = "taros-backup"
VERSION = 1
MANIFEST = "MANIFEST.json"
DATABASE = "taros.db"
MEDIA = "media"
PRE_RESTORE = f"{DATABASE}.pre-restore-"  # + the time; deleted by retention after 30 days
_CHUNK = 1 << 20


class BackupError(ValueError):
    """A backup cannot be made or restored; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Summary:
    path: Path
    database_bytes: int
    tickets: int
    schema_version: int
    media_files: int
    media_bytes: int
    saved_as: Path | None = None  # restore: where the replaced database was kept

    def text(self) -> str:
        return (
            f"database {_size(self.database_bytes)} ({self.tickets} tickets, schema"
            f" {self.schema_version}); {self.media_files} evidence files, {_size(self.media_bytes)}"
        )


def backup(data_dir: Path, target: Path) -> Summary:
    """Copy the database (online) and the media store of ``data_dir`` into the new folder
    ``target``."""
    source = data_dir / DATABASE
    if not source.is_file():
        raise BackupError(f"there is no database to back up in {data_dir}")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} already exists and is not empty: choose a new folder")
    _private_dir(target)
    partial = target / (DATABASE + ".partial")
    _online_copy(source, partial)
    result = _quick_check(partial)
    if result != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy of the database is damaged ({result}); nothing was kept")
    info = _database_info(partial)
    media = [(rel, *_copy_file(path, target / MEDIA / rel)) for rel, path in _media_files(data_dir)]
    database_hash, database_size = _digest(partial)
    os.replace(partial, target / DATABASE)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": {
            "file": DATABASE,
            "sha256": database_hash,
            "size": database_size,
            "schema_version": info[0],
            "tickets": info[1],
        },
        "media": [{"path": rel, "sha256": sha, "size": size} for rel, sha, size in media],
    }
    write_private(target / MANIFEST, json.dumps(manifest, indent=1).encode())
    return Summary(
        target,
        database_size,
        info[1],
        info[0],
        len(media),
        sum(size for _, _, size in media),
    )


def verify(source: Path) -> dict[str, object]:
    """The manifest of the backup in ``source`` once everything in it has been checked;
    raises :class:`BackupError` at the first thing wrong."""
    manifest_path = source / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(
            f"{source} is not a complete TAROS backup (no {MANIFEST}: the backup was"
            " interrupted, or this is another folder)"
        )
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
        database = manifest["database"]
        entries = manifest["media"]
        ok_format = manifest.get("format") == FORMAT and int(manifest.get("version", 0)) >= 1
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{manifest_path} is damaged ({type(exc).__name__})") from None
    if not ok_format or int(manifest["version"]) > VERSION:
        raise BackupError(f"{source} was made by a newer TAROS or is no TAROS backup")
    db_path = source / DATABASE
    _expect(db_path, str(database["sha256"]), int(database["size"]))
    result = _integrity_check(db_path)
    if result != "ok":
        raise BackupError(f"the database in {source} fails its integrity check ({result})")
    schema, _tickets = _database_info(db_path)
    latest = len(bundled_migrations())
    if schema > latest:
        raise BackupError(
            f"the backup's database has schema {schema}, newer than this TAROS ({latest}):"
            " upgrade TAROS first"
        )
    for entry in entries:
        rel = _safe_relative(str(entry["path"]))
        _expect(source / MEDIA / rel, str(entry["sha256"]), int(entry["size"]))
    return manifest


def restore(data_dir: Path, source: Path, *, force: bool = False) -> Summary:
    """Put the verified backup ``source`` in place in ``data_dir``. Refuses while ``taros
    run`` serves this data dir or any process has it open (and says which), and over a
    database with tickets unless ``force``."""
    manifest = verify(source)
    if serving(data_dir):
        raise BackupError(f"taros run is serving {data_dir}: stop it first (systemctl stop taros)")
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        alone = hold_alone(data_dir)  # no process writes while the database is replaced
    except DataDirBusy as exc:
        raise BackupError(str(exc)) from None
    try:
        return _restore(data_dir, source, manifest, force=force)
    finally:
        if alone is not None:
            alone.release()


def _restore(
    data_dir: Path, source: Path, manifest: dict[str, object], *, force: bool
) -> Summary:
    target = data_dir / DATABASE
    saved_as: Path | None = None
    if target.is_file() and target.stat().st_size > 0:
        held = _ticket_count(target)
        if held and not force:
            raise BackupError(
                f"{target} already holds {held} tickets; restoring replaces them. Run again"
                " with --force to do it (the current database is kept as a copy)"
            )
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        saved_as = target.with_name(f"{PRE_RESTORE}{stamp}")
        _online_copy(target, saved_as)
    prepare_private_file(target)
    _online_copy(source / DATABASE, target, source_immutable=True)
    result = _quick_check(target)
    if result != "ok":
        raise BackupError(f"the restored database fails its check ({result})")
    entries = manifest["media"]
    assert isinstance(entries, list)
    media_bytes = 0
    for entry in entries:
        rel = _safe_relative(str(entry["path"]))
        destination = data_dir / MEDIA / rel
        if not _matches(destination, str(entry["sha256"])):
            _copy_file(source / MEDIA / rel, destination)
        media_bytes += int(entry["size"])
    schema, tickets = _database_info(target)
    return Summary(
        data_dir, target.stat().st_size, tickets, schema, len(entries), media_bytes, saved_as
    )


def serving(data_dir: Path) -> bool:
    """Whether a process holds one of the data dir's serving locks (``taros run``)."""
    folder = data_dir / "serving"
    if not folder.is_dir():
        return False
    for lock in folder.glob("*.lock"):
        fd = try_lock(lock)
        if fd is None:
            return True
        os.close(fd)
    return False


# --- helpers -------------------------------------------------------------------------------


def _online_copy(source: Path, target: Path, *, source_immutable: bool = False) -> None:
    """SQLite's backup API: one step, so the copy is one consistent snapshot of ``source``
    even while another process writes to it (WAL lets the writer go on)."""
    if not target.exists():
        fd = os.open(target, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    uri = f"file:{source}?mode=ro&immutable=1" if source_immutable else f"file:{source}"
    src = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(f"copying the database failed: {exc}") from None
    finally:
        src.close()
    os.chmod(target, 0o600)


def _readonly(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)


def _quick_check(path: Path) -> str:
    return _pragma(path, "PRAGMA quick_check")


def _integrity_check(path: Path) -> str:
    return _pragma(path, "PRAGMA integrity_check")


def _pragma(path: Path, statement: str) -> str:
    try:
        conn = _readonly(path)
        try:
            rows = conn.execute(statement).fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"{type(exc).__name__}: {exc}"
    return "; ".join(str(r[0]) for r in rows[:5]) or "no answer"


def _database_info(path: Path) -> tuple[int, int]:
    """(schema version, tickets) of a database file."""
    try:
        conn = _readonly(path)
        try:
            schema = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]
            tickets = conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{path} is not a TAROS database ({exc})") from None
    return int(schema or 0), int(tickets)


def _ticket_count(path: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0  # no tickets table: an empty or foreign file


def _media_files(data_dir: Path) -> Iterator[tuple[str, Path]]:
    root = data_dir / MEDIA
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and not path.name.startswith("."):
            yield path.relative_to(root).as_posix(), path


def _copy_file(source: Path, target: Path) -> tuple[str, int]:
    """Copy ``source`` to ``target`` (private); the sha256 and size of what was written."""
    _private_dir(target.parent)
    partial = target.with_name(f".{target.name}.partial")
    digest = hashlib.sha256()
    size = 0
    fd = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        with source.open("rb") as reader, os.fdopen(fd, "wb") as writer:
            while chunk := reader.read(_CHUNK):
                digest.update(chunk)
                writer.write(chunk)
                size += len(chunk)
            writer.flush()
            os.fsync(writer.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size


def _digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as reader:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _expect(path: Path, sha256: str, size: int) -> None:
    if not path.is_file():
        raise BackupError(f"{path} is missing from the backup")
    if path.stat().st_size != size or _digest(path)[0] != sha256:
        raise BackupError(f"{path} does not match the backup's manifest: it is damaged")


def _matches(path: Path, sha256: str) -> bool:
    return path.is_file() and _digest(path)[0] == sha256


def _safe_relative(rel: str) -> Path:
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise BackupError(f"the manifest names an unsafe path: {rel!r}")
    return Path(*pure.parts)


def _private_dir(path: Path) -> None:
    """``path`` and every folder created for it: 0700."""
    created = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for folder in {path, *created}:
        os.chmod(folder, stat.S_IRWXU)


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    value = float(count)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.1f} {unit}"
