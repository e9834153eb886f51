"""Label sets from model metadata, reading modes (digits, letters, everything), words of
separate letters and their case: with small template models (``fakemodels``)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")

from fakemodels import CHARS, SAME_SHAPE, chars_model, letter, template_model, word

from hwr_qt import cli, models
from hwr_qt.case import decide_case
from hwr_qt.classifier import ModeClassifier, ModelInfo, for_mode, ranked
from hwr_qt.ink import Ink, Point, Stroke
from hwr_qt.pipeline import Reading, _score, read_number
from hwr_qt.recognizer import ModelError, Recognizer
from hwr_qt.segment import Box, group_strokes


@pytest.fixture(scope="module")
def chars_path(tmp_path_factory) -> Path:
    return chars_model(tmp_path_factory.mktemp("models") / "chars.onnx")


@pytest.fixture(scope="module")
def chars(chars_path) -> Recognizer:
    return Recognizer(chars_path)


def save_ink(path: Path, ink: Ink) -> Path:
    path.write_text(json.dumps({"strokes": [[[p.x, p.y] for p in s.points]
                                            for s in ink.strokes]}))
    return path


# --- the label set is the model's ---------------------------------------------------------
def test_three_labels_from_metadata_read_end_to_end(tmp_path):
    rec = Recognizer(template_model(tmp_path / "three.onnx", labels=["H", "o", "x"]))
    assert rec.info.labels == ("H", "o", "x") and rec.info.modes == ("letters",)
    scores = rec.classify(np.zeros((2, 28, 28), np.float32))
    assert scores.probabilities.shape == (2, 3) and scores.reject is not None
    # No mask for a model that serves one mode: its three labels are all it reads.
    assert for_mode(rec, "letters") is rec
    number = read_number(rec, word(("H", 100, 0), ("o", 50, 50), ("x", 50, 50)))
    assert number.text == "Hox"
    assert {p.label for p in number.chars[0].reading.top_k} == {"H", "o", "x"}


def test_sixty_two_labels_with_reject_and_features(chars):
    info = chars.info
    assert info.labels == tuple(CHARS) and info.modes == ("letters", "all")
    assert info.reject_output == "reject" and info.features_output == "features"
    assert info.feature_size == 8 and ("c", "C") in info.same_shape
    s = chars.classify(np.zeros((3, 28, 28), np.float32))
    assert s.probabilities.shape == (3, 62) and s.reject.shape == (3,)
    assert s.features.shape == (3, 8)


def _with_meta(tmp_path: Path, **meta: str) -> Path:
    return template_model(tmp_path / "m.onnx", labels=["H", "o", "x"], metadata=meta)


@pytest.mark.parametrize(("meta", "says"), [
    ({"labels": "H,o,x"}, "'labels' metadata"),
    ({"labels": json.dumps(["H", "o", "o"])}, "'labels' metadata"),
    ({"labels": json.dumps(["H", "", "x"])}, "'labels' metadata"),
    ({"labels": json.dumps(["H", "o"])}, "names 2 labels for 3 outputs"),
    ({"labels": json.dumps({"H": 0})}, "'labels' metadata"),
    ({"modes": json.dumps(["words"])}, "'modes' metadata"),
    ({"modes": json.dumps(["digits"])}, "claims digits mode but has no labels"),
    ({"same_shape": json.dumps([["o", "Q"]])}, "'same_shape' metadata"),
    ({"reject_output": "nope"}, "reject output 'nope'"),
    ({"features_output": "feats"}, "features output 'feats'"),
])
def test_bad_description_is_a_clear_model_error(tmp_path, capfd, meta, says):
    path = _with_meta(tmp_path, **meta)
    with pytest.raises(ModelError, match="incompatible model m.onnx") as e:
        Recognizer(path)
    assert says in str(e.value) and "\n" not in str(e.value)
    # The CLI: one line, exit 2, whatever the mode.
    ink = save_ink(tmp_path / "h.json", word(("H", 100, 0)))
    assert cli.main(["recognize", "--mode", "letters", "--model", str(path), str(ink)]) == 2
    err = capfd.readouterr().err.splitlines()
    assert len(err) == 1 and says in err[0]


def test_ten_outputs_without_labels_are_digits_other_counts_need_labels(tmp_path):
    import onnx

    path = template_model(tmp_path / "five.onnx", labels=list("Hoxil"))
    model = onnx.load(str(path))
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, {"preprocessing_version": "1"})
    onnx.save(model, str(path))
    with pytest.raises(ModelError, match="5 outputs but no 'labels' metadata"):
        Recognizer(path)


def test_model_id_from_metadata_else_file_hash(tmp_path, chars_path, chars):
    assert chars.info.model_id == hashlib.sha256(chars_path.read_bytes()).hexdigest()[:16]
    named = Recognizer(_with_meta(tmp_path, model_id="chars-2024-06"))
    assert named.info.model_id == "chars-2024-06"


# --- modes ---------------------------------------------------------------------------------
def test_mode_masks_restrict_and_renormalise(chars):
    x = np.random.default_rng(0).random((4, 28, 28)).astype(np.float32)
    full = chars.classify(x).probabilities
    for mode, expected in (("letters", CHARS[10:]), ("all", CHARS), ("digits", CHARS[:10])):
        c = for_mode(chars, mode)
        assert c.info.labels == tuple(expected)
        p = c.classify(x).probabilities
        assert p.shape == (4, len(expected))
        np.testing.assert_allclose(p.sum(axis=1), 1, atol=1e-5)
        cols = [CHARS.index(lab) for lab in expected]
        ratio = p / full[:, cols]  # the same proportions as before the mask
        np.testing.assert_allclose(ratio, np.broadcast_to(ratio[:, :1], ratio.shape),
                                   rtol=1e-4)
    assert isinstance(for_mode(chars, "letters"), ModeClassifier)
    assert for_mode(chars, "letters").info.same_shape == tuple(map(tuple, SAME_SHAPE))
    with pytest.raises(ValueError, match="unknown mode"):
        for_mode(chars, "words")


def test_modes_pick_their_model(monkeypatch, tmp_path, chars_path, model_path):
    monkeypatch.setitem(models.MODEL_FILES, "letters", str(chars_path))
    monkeypatch.setitem(models.MODEL_FILES, "all", str(chars_path))
    monkeypatch.setattr(models, "resource_path", Path)
    monkeypatch.setitem(models.MODEL_FILES, "digits", str(model_path))
    found = models.ModelSet()
    assert found.recognizer("digits").path == model_path
    assert found.classifier("letters").info.labels == tuple(CHARS[10:])
    assert len(found.classifier("all").info.labels) == 62
    assert found.recognizer("letters") is found.recognizer("all")  # loaded once


def test_missing_letters_model_is_unavailable_with_a_message(monkeypatch, tmp_path, capfd):
    monkeypatch.setitem(models.MODEL_FILES, "letters", "models/no-such-chars.onnx")
    assert not models.mode_available("letters")
    with pytest.raises(models.ModeUnavailable, match="Letters mode is not available"):
        models.ModelSet().classifier("letters")
    ink = save_ink(tmp_path / "h.json", word(("H", 100, 0)))
    assert cli.main(["recognize", "--mode", "letters", str(ink)]) == 2
    err = capfd.readouterr().err.splitlines()
    assert err == ["hwr-qt: error: Letters mode is not available: its model "
                   "(no-such-chars.onnx) is not installed"]


def test_digits_model_does_not_read_letters(capfd, tmp_path, model_path):
    ink = save_ink(tmp_path / "h.json", word(("H", 100, 0)))
    rc = cli.main(["recognize", "--mode", "letters", "--model", str(model_path), str(ink)])
    err = capfd.readouterr().err
    assert rc == 2 and "does not read letters mode" in err


# --- CLI --mode ----------------------------------------------------------------------------
def test_cli_letters_on_ink_and_image(capfd, tmp_path, chars_path):
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QColor, QImage, QPainter, QPen

    ink = save_ink(tmp_path / "hox.json", word(("H", 100, 0), ("o", 50, 50), ("x", 50, 50)))
    cli._ensure_qt_app()
    img = QImage(400, 200, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    painter = QPainter(img)
    painter.setPen(QPen(QColor("black"), 8, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    for s in letter("H", 60, 40, 84, 120):
        for a, b in zip(s.points, s.points[1:], strict=False):
            painter.drawLine(QPointF(a.x, a.y), QPointF(b.x, b.y))
    painter.end()
    png = tmp_path / "h.png"
    assert img.save(str(png))
    rc = cli.main(["recognize", "--mode", "letters", "--json", "--model", str(chars_path),
                   str(ink), str(png)])
    out, err = capfd.readouterr()
    assert rc == 0 and err == ""
    word_row, image_row = (json.loads(line) for line in out.splitlines())
    assert word_row["text"] == "Hox" and word_row["mode"] == "letters"
    assert [c["label"] for c in word_row["characters"]] == ["H", "o", "x"]
    assert "digits" not in word_row  # the old key only in digits mode
    assert image_row["text"] == "H"
    rc = cli.main(["recognize", "--mode", "letters", "--model", str(chars_path), str(ink)])
    line = capfd.readouterr().out.strip()
    assert rc == 0 and line.startswith(f"{ink}: Hox (") and "characters: H " in line


def test_cli_all_mode_reads_letters_and_digits(capfd, tmp_path, chars_path):
    ink = save_ink(tmp_path / "h4.json", word(("H", 100, 0), ("4", 100, 0)))
    for mode, text in (("all", "H4"), ("letters", "Ht")):  # letters has no 4: its t
        assert cli.main(["recognize", "--mode", mode, "--json", "--model", str(chars_path),
                         str(ink)]) == 0
        assert json.loads(capfd.readouterr().out)["text"] == text


def test_cli_help_names_the_modes(capfd):
    assert cli.main(["recognize", "--help"]) == 0
    out = capfd.readouterr().out
    assert "--mode {digits,letters,all}" in out and "hwr-qt recognize --mode letters" in out


# --- words: dots, bars, widths ------------------------------------------------------------
def test_word_with_dot_and_bar_reads(chars):
    ink = word(("H", 100, 0), ("i", 60, 40), ("t", 90, 10))
    number = read_number(chars, ink, mode="letters")
    assert number.text == "Hit"
    assert [len(c.ink.strokes) for c in number.chars] == [3, 2, 2]


def test_a_long_t_bar_joins_its_letter_not_the_next(chars):
    # A t whose bar reaches over the next letter's left half (a hasty "tl").
    t = [Stroke(tuple(Point(20, y) for y in range(0, 101, 5))),
         Stroke(tuple(Point(x, 30) for x in range(0, 71, 5)))]
    ell = [Stroke(tuple(Point(62, y) for y in range(0, 101, 5)))]
    ink = Ink(tuple(t + ell))
    assert [len(g.strokes) for g in group_strokes(ink, letters=True)] == [2, 1]
    # Digits mode is unchanged: boxes that overlap belong together there.
    assert [len(g.strokes) for g in group_strokes(ink)] == [3]


def test_the_wide_prior_does_not_punish_an_m_but_does_an_l():
    def reading(label: str) -> Reading:
        from hwr_qt.classifier import Prediction

        return Reading(np.zeros((28, 28), np.float32), np.ones(1, np.float32),
                       [Prediction(label, 0.9)])

    wide, narrow = Box(0, 0, 220, 100), Box(0, 0, 140, 100)
    m = _score([reading("m")], [wide], letters=True)
    n = _score([reading("n")], [wide], letters=True)
    assert m == pytest.approx(np.log(0.9)) and n < m - 1  # only the m may be that wide
    assert _score([reading("m")], [wide]) == n  # digits: one prior for all
    o = _score([reading("o")], [narrow], letters=True)
    assert o == pytest.approx(np.log(0.9))  # an o may be that wide, an l may not
    assert _score([reading("l")], [narrow], letters=True) < o - 1


# --- case ----------------------------------------------------------------------------------
def test_ranked_shows_both_cases_of_a_lone_letter():
    info = ModelInfo(labels=("c", "C", "e", "o", "a"), same_shape=(("c", "C"),))
    probs = np.array([0.5, 0.05, 0.25, 0.15, 0.05], np.float32)
    assert [p.label for p in ranked(probs, info, 3)] == ["c", "e", "C"]
    assert [p.label for p in ranked(probs, info, 5)] == ["c", "e", "o", "C", "a"]
    assert [p.label for p in ranked(probs, info, 1)] == ["c"]
    plain = ModelInfo(labels=info.labels)
    assert [p.label for p in ranked(probs, plain, 3)] == ["c", "e", "o"]


def test_decide_case_by_height_in_the_word():
    groups = [["c", "C"], ["o", "O"], ["I", "l"], ["p", "P"]]
    cap, low = Box(0, 0, 60, 100), Box(0, 35, 50, 100)  # cap height vs x-height, baseline 100
    assert decide_case(["a", "C"], [low, low], groups) == ["a", "c"]
    assert decide_case(["a", "c"], [low, cap], groups) == ["a", "C"]
    assert decide_case(["H", "o", "c"], [cap, low, cap], groups) == ["H", "o", "C"]
    assert decide_case(["O", "C"], [cap, low], groups) == ["O", "c"]  # a step in height
    assert decide_case(["O", "C"], [cap, cap], groups) == ["O", "C"]  # no telling: as read
    assert decide_case(["I", "a"], [cap, low], groups) == ["l", "a"]  # I/l: the neighbours'
    assert decide_case(["l", "T"], [cap, cap], groups) == ["I", "T"]
    # A lower-case p hangs below the baseline: its top is at the x-height.
    assert decide_case(["a", "P", "e"], [low, Box(0, 35, 50, 140), low], groups) == \
        ["a", "p", "e"]
    assert decide_case(["c"], [low], groups) == ["c"]  # a lone letter: as read
    # Real words: letters ending above the estimated baseline reach "negative" heights;
    # they tell nothing, and must not break the reading (math domain error before).
    raised = Box(0, 0, 50, 30)
    assert decide_case(["a", "c", "O"], [raised, raised, low], groups) == ["a", "c", "O"]
    assert decide_case(["o", "C"], [Box(0, 120, 50, 130), low], groups) == ["o", "C"]


def test_case_in_a_word_moves_the_chosen_label_to_the_top(chars):
    number = read_number(chars, word(("H", 100, 0), ("o", 50, 50), ("x", 50, 50)),
                         mode="letters")
    assert number.text == "Hox"
    o = number.chars[1].reading
    assert [p.label for p in o.top_k[:2]] == ["o", "O"]
    shout = read_number(chars, word(("H", 100, 0), ("O", 100, 0), ("X", 100, 0)),
                        mode="letters")
    assert shout.text == "HOX"
