"""hwr_qt/ink.py: the drawing model, its undo history and the JSON ink file format."""

from __future__ import annotations

import errno
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwr_qt import ink as ink_mod
from hwr_qt.ink import Ink, InkError, InkHistory, Point, Stroke, load_ink, save_ink


def stroke(*xy: tuple[float, float]) -> Stroke:
    return Stroke(tuple(Point(x, y) for x, y in xy))


A = stroke((0, 0), (1, 1))
B = stroke((2, 2), (3, 5))
C = stroke((7, 7))


# --- Ink ----------------------------------------------------------------------------------


def test_ink_basics():
    ink = Ink().with_stroke(A).with_stroke(B)
    assert not ink.is_empty and Ink().is_empty
    assert ink.point_count == 4
    assert ink.bounds() == (0, 0, 3, 5)
    assert ink.subset([1]).strokes == (B,)
    with pytest.raises(InkError, match="empty"):
        Ink().bounds()


def test_with_stroke_does_not_mutate():
    ink = Ink((A,))
    ink2 = ink.with_stroke(B)
    assert ink.strokes == (A,) and ink2.strokes == (A, B)


# --- InkHistory ---------------------------------------------------------------------------


def test_history_add_undo_redo():
    h = InkHistory()
    assert not h.can_undo and not h.can_redo
    assert h.undo() is False and h.redo() is False
    h.add_stroke(A)
    h.add_stroke(B)
    assert h.current.strokes == (A, B)
    assert h.undo() is True
    assert h.current.strokes == (A,)
    assert h.can_redo
    assert h.undo() is True
    assert h.current.is_empty
    assert not h.can_undo
    assert h.redo() and h.redo()
    assert h.current.strokes == (A, B)
    assert not h.can_redo
    assert h.redo() is False


def test_clear_is_undoable():
    h = InkHistory()
    h.add_stroke(A)
    h.add_stroke(B)
    h.clear()
    assert h.current.is_empty
    assert h.undo()
    assert h.current.strokes == (A, B)
    assert h.redo()
    assert h.current.is_empty


def test_clear_on_empty_drawing_adds_no_step():
    h = InkHistory()
    h.clear()
    assert not h.can_undo
    h.add_stroke(A)
    h.clear()
    h.clear()
    assert h.undo() and h.current.strokes == (A,)


def test_new_stroke_clears_redo():
    h = InkHistory()
    h.add_stroke(A)
    h.add_stroke(B)
    h.undo()
    assert h.can_redo
    h.add_stroke(C)
    assert not h.can_redo
    assert h.redo() is False
    assert h.current.strokes == (A, C)
    h.undo()
    assert h.current.strokes == (A,)


def test_replace_is_one_undoable_step():
    h = InkHistory()
    h.add_stroke(A)
    loaded = Ink((B, C))
    h.replace(loaded)
    assert h.current == loaded
    h.undo()
    assert h.current.strokes == (A,)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["add", "undo", "redo", "clear"]), max_size=40))
def test_history_matches_a_simple_model(ops):
    """Undo/redo behave like a cursor over a list of states."""
    h = InkHistory()
    states, pos = [Ink()], 0
    for i, op in enumerate(ops):
        if op == "add":
            new = states[pos].with_stroke(stroke((i, i)))
            states, pos = states[:pos + 1] + [new], pos + 1
            h.add_stroke(new.strokes[-1])
        elif op == "clear":
            h.clear()
            if not states[pos].is_empty:
                states, pos = states[:pos + 1] + [Ink()], pos + 1
        elif op == "undo":
            assert h.undo() == (pos > 0)
            pos = max(pos - 1, 0)
        else:
            assert h.redo() == (pos < len(states) - 1)
            pos = min(pos + 1, len(states) - 1)
        assert h.current == states[pos]
        assert h.can_undo == (pos > 0)
        assert h.can_redo == (pos < len(states) - 1)


# --- JSON format ----------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path):
    ink = Ink.from_points([[[10, 20], [11.5, 22.25, 0.5]], [[30, 40]], [[0.125, -3, 0.0]]])
    path = tmp_path / "digit.json"
    save_ink(ink, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["strokes"][0][0] == [10, 20]  # full pressure is not written
    assert data["strokes"][0][1] == [11.5, 22.25, 0.5]
    back = load_ink(path)
    assert back == ink
    assert back.strokes[0].points[1].pressure == 0.5
    assert back.strokes[2].points[0].pressure == 0.0
    assert not list(tmp_path.glob("*.tmp"))


finite = st.floats(min_value=-1e7, max_value=1e7, allow_nan=False, allow_infinity=False)
pressure = st.floats(min_value=0.0, max_value=1.0)
point = st.one_of(st.tuples(finite, finite), st.tuples(finite, finite, pressure))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(point, min_size=1, max_size=8), min_size=1, max_size=5))
def test_json_round_trip_is_exact(strokes):
    """Any valid ink, in any units (1e-6 or 1e6), survives the file format unchanged."""
    ink = Ink.from_points(strokes)
    text = json.dumps(ink.to_json())
    assert Ink.from_json(json.loads(text)) == ink


def test_from_points_skips_empty_strokes():
    ink = Ink.from_points([[], [[1, 2]], []])
    assert len(ink.strokes) == 1


def test_ints_are_accepted():
    ink = Ink.from_points([[[1, 2], [3, 4, 1]]])
    assert ink.strokes[0].points[1] == Point(3.0, 4.0, 1.0)


@pytest.mark.parametrize("data, match", [
    ([], "not an ink file"),
    ({"points": []}, "not an ink file"),
    ("strokes", "not an ink file"),
    ({"strokes": {}}, "must be a list"),
    ({"strokes": []}, "no points"),
    ({"strokes": [[], []]}, "no points"),
    ({"strokes": [[1, 2]]}, "stroke 0, point 0"),
    ({"strokes": [[[1, 2]], 5]}, "stroke 1 is not a list"),
    ({"strokes": [[[1, 2], [1]]]}, r"stroke 0, point 1: a point must be"),
    ({"strokes": [[[1, 2, 0.5, 7]]]}, "a point must be"),
    ({"strokes": [[{"x": 1, "y": 2}]]}, "a point must be"),
    ({"strokes": [[["1", 2]]]}, "must be numbers"),
    ({"strokes": [[[None, 2]]]}, "must be numbers"),
    ({"strokes": [[[True, 2]]]}, "must be numbers"),
    ({"strokes": [[[1, 2, False]]]}, "must be numbers"),
    ({"strokes": [[[[1], 2]]]}, "must be numbers"),
    ({"strokes": [[[float("nan"), 2]]]}, "NaN or infinite"),
    ({"strokes": [[[1, float("inf")]]]}, "NaN or infinite"),
    ({"strokes": [[[1, 2, float("nan")]]]}, "NaN or infinite"),
    ({"strokes": [[[1.0000001e7, 2]]]}, "beyond"),
    ({"strokes": [[[0, -2e7]]]}, "beyond"),
    ({"strokes": [[[1, 2, 1.01]]]}, "pressure"),
    ({"strokes": [[[1, 2, -0.01]]]}, "pressure"),
    ({"strokes": [[[10**400, 2]]]}, "beyond"),
])
def test_invalid_ink(data, match):
    with pytest.raises(InkError, match=match):
        Ink.from_json(data)


def test_coordinate_limit_is_inclusive():
    Ink.from_points([[[1e7, -1e7]]])


def test_too_many_points(monkeypatch):
    monkeypatch.setattr(ink_mod, "MAX_POINTS", 5)
    Ink.from_points([[[0, 0]] * 3, [[1, 1]] * 2])
    with pytest.raises(InkError, match="too many points"):
        Ink.from_points([[[0, 0]] * 3, [[1, 1]] * 3])


# --- files ------------------------------------------------------------------------------------


def write(tmp_path, content: bytes | str, name: str = "x.json"):
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def test_missing_file(tmp_path):
    with pytest.raises(InkError, match="cannot read nope.json"):
        load_ink(tmp_path / "nope.json")


def test_empty_file(tmp_path):
    with pytest.raises(InkError, match="empty"):
        load_ink(write(tmp_path, b""))


@pytest.mark.parametrize("content", ["{", "strokes", '{"strokes": [[[1, 2]]]} trailing'])
def test_invalid_json(tmp_path, content):
    with pytest.raises(InkError, match="invalid JSON"):
        load_ink(write(tmp_path, content))


def test_not_utf8(tmp_path):
    with pytest.raises(InkError, match="UTF-8"):
        load_ink(write(tmp_path, b'{"strokes": [[[1, 2]]], "name": "\xff\xfe"}'))


def test_binary_file(tmp_path):
    with pytest.raises(InkError):
        load_ink(write(tmp_path, bytes(range(256)) * 4, "x.ink"))


def test_file_too_big(tmp_path, monkeypatch):
    path = write(tmp_path, json.dumps({"strokes": [[[1, 2]] * 100]}))
    assert load_ink(path).point_count == 100
    monkeypatch.setattr(ink_mod, "MAX_FILE_BYTES", path.stat().st_size - 1)
    with pytest.raises(InkError, match="too large"):
        load_ink(path)


def test_huge_integer_in_file(tmp_path):
    with pytest.raises(InkError):
        load_ink(write(tmp_path, '{"strokes": [[[1' + "0" * 400 + ", 2]]]}"))


def test_integer_beyond_python_digit_limit(tmp_path):
    with pytest.raises(InkError):
        load_ink(write(tmp_path, '{"strokes": [[[1' + "0" * 5000 + ", 2]]]}"))


def test_deeply_nested_json(tmp_path):
    with pytest.raises(InkError):
        load_ink(write(tmp_path, "[" * 100_000))


def test_json_nan_literal(tmp_path):
    with pytest.raises(InkError, match="NaN"):
        load_ink(write(tmp_path, '{"strokes": [[[NaN, 2]]]}'))


def test_directory_is_not_an_ink_file(tmp_path):
    with pytest.raises(InkError):
        load_ink(tmp_path)


def _half_then_enospc(real_write):
    """os.write that writes half of what it is given once, then finds the disk full."""
    calls = []

    def write(fd, data):
        calls.append(len(data))
        if len(calls) == 1 and len(data) > 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")
    return write


def _raise(code: int, text: str):
    def fail(*_args, **_kwargs):
        raise OSError(code, text)
    return fail


# Each step of a save after the temporary file exists, failing as the OS would.
SAVE_FAILURES = {
    "write": lambda real: _half_then_enospc(real.write),
    "fsync": lambda real: _raise(errno.EIO, "Input/output error"),
    "chmod": lambda real: _raise(errno.EPERM, "Operation not permitted"),
    "replace": lambda real: _raise(errno.EXDEV, "Invalid cross-device link"),
}


@pytest.mark.parametrize("step", list(SAVE_FAILURES))
def test_save_is_atomic(tmp_path, monkeypatch, step):
    """A save interrupted after its temporary file was created leaves the old file
    byte for byte, no temporary file, and raises the OSError."""
    import os

    path = tmp_path / "digit.json"
    save_ink(Ink.from_points([[[1, 2], [3, 4]]]), path)
    before = path.read_bytes()
    seen = []  # the folder's files when the failure struck
    fail = SAVE_FAILURES[step](os)

    def failing(*args, **kwargs):
        seen.append(sorted(p.name for p in tmp_path.iterdir()))
        return fail(*args, **kwargs)

    monkeypatch.setattr(os, step, failing)
    big = Ink.from_points([[[i, i] for i in range(5000)]])
    with pytest.raises(OSError) as info:
        save_ink(big, path)
    monkeypatch.undo()
    assert info.value.strerror
    assert len(seen[0]) == 2, "the failure must come after the temporary file was created"
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digit.json"]


def test_save_on_a_full_disk(tmp_path):
    """A real full disk: a 64 kB tmpfs (needs root and mount; skipped otherwise)."""
    import os
    import subprocess

    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k",
                                            "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        path = mnt / "digit.json"
        save_ink(Ink.from_points([[[1, 2], [3, 4]]]), path)
        before = path.read_bytes()
        with pytest.raises(OSError) as info:
            save_ink(Ink.from_points([[[i, i + 0.5] for i in range(20_000)]]), path)
        assert info.value.errno == errno.ENOSPC
        assert path.read_bytes() == before
        assert [p.name for p in mnt.iterdir()] == ["digit.json"]
        assert os.statvfs(mnt).f_bfree > 0  # the partial temporary file was removed
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_read_only_target_is_refused(tmp_path):
    path = tmp_path / "digit.json"
    save_ink(Ink.from_points([[[1, 2], [3, 4]]]), path)
    before = path.read_bytes()
    path.chmod(0o444)
    try:
        with pytest.raises(PermissionError, match="read-only"):
            save_ink(Ink.from_points([[[9, 9]]]), path)
        assert path.read_bytes() == before
        assert [p.name for p in tmp_path.iterdir()] == ["digit.json"]
    finally:
        path.chmod(0o644)


def test_symlink_is_written_through(tmp_path):
    real = tmp_path / "real.json"
    save_ink(Ink.from_points([[[1, 2]]]), real)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    save_ink(Ink.from_points([[[5, 6], [7, 8]]]), link)
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert load_ink(real) == Ink.from_points([[[5, 6], [7, 8]]])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_temporary_name_is_not_shared(tmp_path):
    """Another program's (or an older version's) ``digit.json.tmp`` is left alone."""
    path = tmp_path / "digit.json"
    other = tmp_path / "digit.json.tmp"
    other.write_text("someone else's")
    save_ink(Ink.from_points([[[1, 2]]]), path)
    assert other.read_text() == "someone else's"
    assert load_ink(path) == Ink.from_points([[[1, 2]]])


def test_new_file_gets_normal_permissions(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        save_ink(Ink.from_points([[[1, 2]]]), tmp_path / "new.json")
    finally:
        os.umask(mask)
    assert (tmp_path / "new.json").stat().st_mode & 0o777 == 0o644


def test_save_overwrites(tmp_path):
    path = tmp_path / "digit.json"
    save_ink(Ink.from_points([[[1, 2], [3, 4]]]), path)
    save_ink(Ink.from_points([[[5, 6]]]), path)
    assert load_ink(path) == Ink.from_points([[[5, 6]]])
    assert [p.name for p in tmp_path.iterdir()] == ["digit.json"]


def test_saved_file_is_compact_json(tmp_path):
    path = tmp_path / "d.json"
    save_ink(Ink.from_points([[[1, 2]]]), path)
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == {"strokes": [[[1.0, 2.0]]]}
    assert " " not in text and "\n" not in text
