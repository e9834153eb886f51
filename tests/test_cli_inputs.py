"""`hwr-qt recognize` with folders, standard input, the alias, and numbers in images."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage, QPainter

from hwr_qt import cli

REPO = Path(__file__).resolve().parent.parent
ONE = {"strokes": [[[0, 0], [0, 100]]]}
SEVEN = {"strokes": [[[0, 0], [60, 0], [20, 100]]]}


def run(capfd, *args: str, command: str = "recognize") -> tuple[int, list[str], list[str]]:
    rc = cli.main([command, *args])
    out, err = capfd.readouterr()
    return rc, out.splitlines(), err.splitlines()


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def digits_photo(path: Path, text: str, *, shadow: bool = True) -> Path:
    """Digits in a font on tinted paper, lit unevenly, with a shadow along the left edge."""
    w, h = 80 * len(text) + 60, 150
    img = QImage(w, h, QImage.Format.Format_RGB32)
    for x in range(w):
        light = 0.55 if shadow and x < 25 else 1.0 - 0.35 * x / w
        img.setPixelColor(x, 0, QColor(int(240 * light), int(230 * light), int(205 * light)))
    for y in range(1, h):
        for x in range(w):
            img.setPixelColor(x, y, img.pixelColor(x, 0))
    p = QPainter(img)
    font = p.font()
    font.setPixelSize(100)
    p.setFont(font)
    p.setPen(QColor(40, 40, 60))
    for i, ch in enumerate(text):
        p.drawText(QPointF(40 + 80 * i, 115), ch)
    p.end()
    assert img.save(str(path))
    return path


def test_folder_is_read_sorted_and_recursive_on_request(capfd, tmp_path):
    write(tmp_path / "b.json", SEVEN)
    write(tmp_path / "a.ink", ONE)
    (tmp_path / "notes.txt").write_text("not a drawing")
    write(tmp_path / ".hidden.json", ONE)
    write(tmp_path / "sub" / "c.json", ONE)
    rc, out, err = run(capfd, str(tmp_path))
    assert rc == 0 and err == []
    assert [line.split(": ")[0] for line in out] == [str(tmp_path / "a.ink"),
                                                      str(tmp_path / "b.json")]
    assert [line.split(": ")[1][0] for line in out] == ["1", "7"]
    rc, out, _ = run(capfd, str(tmp_path), "--recursive", "--json")
    assert rc == 0
    assert [json.loads(line)["file"] for line in out] == [
        str(tmp_path / "a.ink"), str(tmp_path / "b.json"), str(tmp_path / "sub" / "c.json")]


def test_empty_folder_and_missing_file_say_so_once(capfd, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    good = write(tmp_path / "one.json", ONE)
    rc, out, err = run(capfd, str(empty), str(tmp_path / "nope.png"), str(good))
    assert rc == 1 and len(out) == 1  # the good file is still read
    assert err == [f"hwr-qt: {empty}: is a folder with no ink or image files "
                   "(--recursive reads its subfolders)",
                   f"hwr-qt: {tmp_path / 'nope.png'}: no such file"]


def test_stdin_ink(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "hwr_qt", "recognize", "-", "--json"],
                          input=json.dumps(SEVEN), capture_output=True, text=True, cwd=REPO,
                          timeout=120, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["text"] == "7" and json.loads(proc.stdout)["file"] == "-"
    bad = subprocess.run([sys.executable, "-m", "hwr_qt", "recognize", "-"], input="{oops",
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.splitlines() == ["hwr-qt: -: not an ink file: invalid JSON "
                                       "(Expecting property name enclosed in double quotes, "
                                       "line 1)"]


def test_stdin_only_once(capfd):
    rc, out, err = run(capfd, "-", "-")
    assert rc == 2 and out == [] and len(err) == 1 and "once" in err[0]


@pytest.mark.parametrize("command", ["recognize", "recognise"])
def test_alias_in_both_entry_points(capfd, tmp_path, command):
    good = write(tmp_path / "one.json", ONE)
    rc, out, _ = run(capfd, str(good), command=command)
    assert rc == 0 and out[0].startswith(f"{good}: 1 ")
    proc = subprocess.run([sys.executable, "-m", "hwr_qt", command, str(good)],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith(f"{good}: 1 "), proc.stderr


def test_help_describes_numbers_folders_and_stdin(capfd):
    rc, out, _ = run(capfd, "--help")
    text = "\n".join(out)
    assert rc == 0
    for words in ("number", "FOLDER", "--recursive", "standard input", "photos"):
        assert words in text


def test_number_in_a_photo_has_real_boxes(qapp, capfd, tmp_path):
    photo = digits_photo(tmp_path / "photo.png", "407")
    rc, out, err = run(capfd, str(photo), "--json")
    assert rc == 0, err
    obj = json.loads(out[0])
    assert obj["text"] == "407"
    boxes = [d["box"] for d in obj["digits"]]
    assert all(x1 - x0 > 15 and y1 - y0 > 50 for x0, y0, x1, y1 in boxes)
    assert all(a[2] <= b[0] + 2 for a, b in zip(boxes, boxes[1:], strict=False))
    assert 30 <= boxes[0][0] <= 50 and boxes[-1][2] <= 80 * 3 + 60  # in the image's pixels


def test_shadow_is_not_read_as_ink(qapp, capfd, tmp_path):
    """A dark band along one edge (a hand's shadow) is lighting, not a "1"."""
    photo = digits_photo(tmp_path / "photo.png", "2")
    rc, out, _ = run(capfd, str(photo), "--json")
    assert rc == 0 and json.loads(out[0])["text"] == "2"
