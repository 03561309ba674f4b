"""Files under the data dir, readable by their owner only."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def private_dir(path: Path) -> Path:
    """``path`` as a folder (created when missing), mode 0700."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, stat.S_IRWXU)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all, mode 0600: a uniquely named partial
    file (created 0600) is written, synced and renamed over ``path``; on failure it is
    removed. Concurrent writers of the same path never mix their bytes."""
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
