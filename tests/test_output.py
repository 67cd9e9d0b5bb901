"""-o and --plot write the way a shell's `>` would (issue 8 §1): a regular or new file is
replaced atomically with the permissions a plain write gives; devices, FIFOs and
/dev/stdout-style paths are written in place, never replaced; symlinks are followed.

Every special file here lives in a temp folder (mknod, mkfifo, symlinks): nothing
touches the real /dev."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading

import pytest
from clirunner import CliRunner

from mbcost import output
from mbcost.cli import main
from mbcost.errors import MbcostError, OutputError

RUNNER = CliRunner()
CSV = ["table", "mobilenet_v1", "-f", "csv"]


@pytest.fixture
def umask():
    """Set a umask for one test and restore the old one."""
    old = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(old)


def _mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


def _leftovers(folder):
    return [n for n in os.listdir(folder) if n.startswith(".mbcost-")]


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_new_file_gets_the_umask_mode(tmp_path, umask, mask):
    umask(mask)
    out = tmp_path / "t.csv"
    r = RUNNER.invoke(main, [*CSV, "-o", str(out)])
    assert r.exit_code == 0
    assert _mode(out) == 0o666 & ~mask
    assert out.read_text().startswith("name,")
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o640, 0o664])
def test_existing_file_keeps_its_mode(tmp_path, umask, mode):
    umask(0o077)  # would give 0600 to a new file; the old file's mode wins
    out = tmp_path / "t.csv"
    out.write_text("old\n")
    os.chmod(out, mode)
    inode = os.stat(out).st_ino
    r = RUNNER.invoke(main, [*CSV, "-o", str(out)])
    assert r.exit_code == 0
    assert _mode(out) == mode
    assert out.read_text().startswith("name,")
    assert os.stat(out).st_ino != inode  # replaced by rename, not rewritten in place
    assert _leftovers(tmp_path) == []


def test_symlink_is_followed_and_stays_a_link(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    os.chmod(real, 0o640)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    r = RUNNER.invoke(main, [*CSV, "-o", str(link)])
    assert r.exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text().startswith("name,")
    assert _mode(real) == 0o640


def test_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "new.csv")
    assert RUNNER.invoke(main, [*CSV, "-o", str(link)]).exit_code == 0
    assert link.is_symlink() and (tmp_path / "new.csv").read_text().startswith("name,")


def test_fifo_is_written_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    r = RUNNER.invoke(main, [*CSV, "-o", str(fifo)])
    reader.join(10)
    assert r.exit_code == 0
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got and got[0].startswith(b"name,")
    assert _leftovers(tmp_path) == []


def _char_device(tmp_path):
    """A null character device in tmp_path (root may mknod); otherwise a link to the
    real /dev/null, which a non-root writer could never replace anyway."""
    dev = tmp_path / "null"
    try:
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        return dev, dev
    except PermissionError:
        dev.symlink_to("/dev/null")
        return dev, "/dev/null"


def test_character_device_is_written_not_replaced(tmp_path):
    # as root, the old rename turned /dev/null into a regular file for the whole machine
    path, node = _char_device(tmp_path)
    before = os.stat(node)
    for args in ([*CSV], ["table", "mobilenet_v1", "-f", "json"], ["sweep", "mobilenet_v1"]):
        assert RUNNER.invoke(main, [*args, "-o", str(path)]).exit_code == 0
    after = os.stat(node)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert after.st_ino == before.st_ino
    assert _leftovers(tmp_path) == []


def _run(args, **kw):
    return subprocess.run([sys.executable, "-m", "mbcost", *args], capture_output=True, timeout=60, **kw)


def test_dev_stdout_style_paths_reach_stdout(tmp_path):
    # /proc/self/fd/1 is what /dev/stdout points at; a link to it in tmp_path stands in
    # for /dev/stdout itself, so the real /dev is never at stake
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    for target in ("/proc/self/fd/1", str(link)):
        p = _run([*CSV, "-o", target])
        assert p.returncode == 0, p.stderr
        assert p.stdout.startswith(b"name,")
    assert link.is_symlink() and os.readlink(link) == "/proc/self/fd/1"
    assert _leftovers(tmp_path) == []


def test_output_errors_are_typed_and_replace_nothing(tmp_path):
    with pytest.raises(OutputError) as e:
        output.write_text(tmp_path, "x")
    assert isinstance(e.value, OSError) and isinstance(e.value, MbcostError)
    with pytest.raises(OutputError):
        output.write_text(tmp_path / "no" / "such" / "folder.csv", "x")
    assert os.listdir(tmp_path) == []


def test_read_only_file_is_refused_as_a_plain_write_would_be(tmp_path):
    if os.geteuid() == 0:
        # root may write anything, as `>` would: the file is replaced and keeps 0444
        out = tmp_path / "ro.csv"
        out.write_text("old\n")
        os.chmod(out, 0o444)
        output.write_text(out, "new\n")
        assert out.read_text() == "new\n" and _mode(out) == 0o444
        return
    out = tmp_path / "ro.csv"
    out.write_text("old\n")
    os.chmod(out, 0o444)
    r = RUNNER.invoke(main, [*CSV, "-o", str(out)])
    assert r.exit_code == 2 and r.stderr.endswith("ro.csv: cannot write: Permission denied\n")
    assert out.read_text() == "old\n"
