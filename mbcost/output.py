"""Writing a report to a file the way a careful tool does (``-o FILE``, ``--plot FILE``).

- A regular file, or a path that does not exist yet, is replaced atomically: the
  text goes to a temporary file in the same folder, which is then renamed over
  the target. A reader never sees half a report, and a failed write (a full disk,
  an interrupt) leaves the old file as it was.
- Anything else that exists is written directly, as ``>`` in a shell would: a
  character device (``/dev/null``), a FIFO, a socket, and every ``/dev/...`` or
  ``/proc/...`` path (``/dev/stdout``, ``/dev/fd/3``). Renaming over those would
  replace the device node or the symlink for the whole machine.
- A symlink is followed and its target written; the link stays a link.
- Permissions are what a plain write gives: a new file gets ``0o666`` less the
  umask, an existing file keeps its mode (and, where we may, its owner).
"""

from __future__ import annotations

import os
import secrets
import stat

from .errors import OutputError

_DIRECT_PREFIXES = ("/dev/", "/proc/")


def write_text(path, text):
    """Write text (UTF-8, newlines as given) to path; see the module doc for how."""
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path, data):
    """Write data to path: atomically for a regular or new file, directly otherwise.

    Raises ``OutputError`` (an ``OSError`` and an ``MbcostError``) when the path
    cannot be written: a directory, a missing folder, no permission, a full disk.
    """
    given = os.path.abspath(os.fspath(path))
    target = os.path.realpath(given)  # follow symlinks: the link's target is written
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise OutputError(f"{path}: cannot write: {e.strerror or e}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{path}: cannot write: is a directory")
    if (st is not None and not stat.S_ISREG(st.st_mode)) or _special(given) or _special(target):
        _write_direct(path, target if st is not None else given, data)
        return
    if st is not None and not os.access(target, os.W_OK):
        raise OutputError(f"{path}: cannot write: Permission denied")
    _replace_atomically(path, target, data, st)


def _special(p):
    return p.startswith(_DIRECT_PREFIXES)


def _write_direct(shown, target, data):
    """Open and write in place, as a shell's `>` does (devices, FIFOs, /dev/stdout)."""
    try:
        with open(target, "wb") as fh:
            fh.write(data)
    except OSError as e:
        raise OutputError(f"{shown}: cannot write: {e.strerror or e}") from None


def _replace_atomically(shown, target, data, st):
    """Temp file beside target, then rename over it; the old file survives any failure."""
    folder = os.path.dirname(target)
    mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666  # a new file: umask applies
    tmp = None
    try:
        for _ in range(100):
            name = os.path.join(folder, f".mbcost-{secrets.token_hex(6)}.tmp")
            try:
                fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                             mode)
            except FileExistsError:
                continue
            tmp = name
            break
        else:
            raise OSError("no free temporary name")
        with os.fdopen(fd, "wb") as fh:
            if st is not None:
                os.fchmod(fh.fileno(), mode)  # keep the old file's mode exactly, umask or not
                try:
                    os.fchown(fh.fileno(), st.st_uid, st.st_gid)
                except OSError:
                    pass  # not ours to give away: the writer owns the new file, as cp would
            fh.write(data)
        os.replace(tmp, target)
        tmp = None
    except OSError as e:
        raise OutputError(f"{shown}: cannot write: {e.strerror or e}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
