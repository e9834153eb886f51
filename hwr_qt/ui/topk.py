"""The answer: the predicted character shown large, and the top-k as labelled bars.

Wording follows the reading mode ("Not a digit", "Not a letter", "Not a character").
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hwr_qt.classifier import Prediction
from hwr_qt.models import noun
from hwr_qt.pipeline import REJECTED_LABEL, NumberReading

BAR_STEPS = 1000

NOT_DIGIT_LABEL = REJECTED_LABEL  # the older name


def not_a(mode: str) -> str:
    """The rejection's wording in ``mode``."""
    text = {"digits": "Not a digit", "letters": "Not a letter"}.get(mode, "Not a character")
    return QCoreApplication.translate("TopKBars", text)


class TopKBars(QWidget):
    """K rows of ``label | bar | percent``; rows beyond the answers are hidden, and the
    whole chart is hidden while there is nothing to show (no empty, form-like bars).

    When the ink was rejected, the first row is "?" (not a character of the mode) with
    its probability and the characters follow with theirs times (1 - that): the chart's
    top row is always the answer shown above it, never a confident digit beside "Not a
    digit".
    """

    def __init__(self, k: int = 3, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._rows: list[tuple[QLabel, QProgressBar, QLabel]] = []
        self._k = 0
        self.mode = "digits"
        self.set_k(k)

    @property
    def k(self) -> int:
        return self._k

    def set_k(self, k: int) -> None:
        k = max(1, min(int(k), 10))
        while len(self._rows) < k:
            r = len(self._rows)
            label, bar, pct = QLabel(), QProgressBar(), QLabel()
            label.setTextFormat(Qt.TextFormat.PlainText)  # labels come from model metadata
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setMinimumWidth(24)
            bar.setRange(0, BAR_STEPS)
            bar.setTextVisible(False)
            bar.setFixedHeight(16)
            pct.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            pct.setMinimumWidth(52)
            for c, w in enumerate((label, bar, pct)):
                self._grid.addWidget(w, r, c)
            self._rows.append((label, bar, pct))
        self._k = k
        for i, row in enumerate(self._rows):
            for w in row:
                w.setVisible(i < k)
        self.clear()

    def clear(self) -> None:
        for label, bar, pct in self._rows:
            label.setText("–")
            label.setToolTip("")
            bar.setValue(0)
            pct.setText("")
        self.setVisible(False)

    def set_predictions(self, predictions: list[Prediction],
                        reject: float | None = None, rejected: bool = False) -> None:
        self.clear()
        rows = list(predictions)
        if rejected and reject is not None:
            rows = [Prediction(REJECTED_LABEL, reject)] + [
                Prediction(p.label, p.probability * (1.0 - reject)) for p in rows]
        for (label, bar, pct), p in zip(self._rows[: self._k], rows, strict=False):
            label.setText(p.label)
            if p.label == REJECTED_LABEL:
                label.setToolTip(not_a(self.mode))
            bar.setValue(round(p.probability * BAR_STEPS))
            pct.setText(f"{p.probability:.1%}")
            bar.setAccessibleName(f"{p.label}: {p.probability:.1%}")
        self.setVisible(bool(rows))

    def set_stale(self, stale: bool) -> None:
        """Grey the chart out: it describes a drawing that has changed since."""
        self.setEnabled(not stale)

    def values(self) -> list[tuple[str, float]]:
        """(label, probability) of the visible, filled rows, for tests and accessibility."""
        out = []
        for label, bar, _ in self._rows[: self._k]:
            if label.text() != "–":
                out.append((label.text(), bar.value() / BAR_STEPS))
        return out


class _ClickableLabel(QLabel):
    clicked = Signal()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self.text():
            self.clicked.emit()
        super().mouseReleaseEvent(event)


class AnswerView(QWidget):
    """The big answer with its confidence, or a hint when there is nothing to read.

    Several characters show as a row of buttons; clicking one emits ``charSelected`` so
    the window can show that character's top-k, and ``correctRequested`` so it can ask
    what the character really is (the single answer, clicked, asks that too). A line
    under the answer says when it was read with the user's own examples.
    """

    charSelected = Signal(int)
    correctRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.answer = _ClickableLabel()
        self.answer.clicked.connect(lambda: self.correctRequested.emit(0))
        self.answer.setCursor(Qt.CursorShape.PointingHandCursor)
        self.answer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._font = self.answer.font()
        self._font.setPointSizeF(self._font.pointSizeF() * 4)
        self._font.setBold(True)
        self.answer.setFont(self._font)
        self.answer.setMinimumHeight(80)
        self.answer.setTextFormat(Qt.TextFormat.PlainText)  # labels come from the model
        self.mode = "digits"  # the reading mode, for the wording
        self.digits = QWidget()
        self._digits_row = QHBoxLayout(self.digits)
        self._digits_row.setContentsMargins(0, 0, 0, 0)
        self._digits_row.setSpacing(2)
        self.char_buttons: list[QToolButton] = []
        self.detail = QLabel()
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.mine = QLabel()  # "Read with your handwriting"
        self.mine.setObjectName("read-with-your-handwriting")
        self.mine.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.mine.setWordWrap(True)
        self.mine.setTextFormat(Qt.TextFormat.PlainText)
        font = self.mine.font()
        font.setItalic(True)
        self.mine.setFont(font)
        self.mine.setToolTip(self.tr("Read differently than the model alone would, because "
                                     "of characters you corrected (Recognition menu)"))
        self.mine.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.answer)
        layout.addWidget(self.digits)
        layout.addWidget(self.detail)
        layout.addWidget(self.mine)
        self.show_hint("")  # the canvas says "Draw a digit"; once is enough

    def _set_buttons(self, labels: list[str]) -> None:
        for b in self.char_buttons:
            # Out of the layout now: deleteLater alone leaves them laid out (and widening
            # the panel) until the event loop next runs.
            self._digits_row.removeWidget(b)
            b.hide()
            b.deleteLater()
        self.char_buttons = []
        font = self.answer.font()
        font.setPointSizeF(self._font.pointSizeF() * (0.8 if len(labels) <= 4 else 0.5))
        for i, text in enumerate(labels):
            b = QToolButton()
            b.setText(text.replace("&", "&&"))  # a label, not a mnemonic
            b.setFont(font)
            b.setCheckable(True)
            b.setAutoRaise(True)
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # reachable with Tab, focus shown
            b.setToolTip(self.tr("Its top-k, and correct it (F2)"))
            b.clicked.connect(lambda _=False, i=i: self._clicked(i))
            self._digits_row.addWidget(b)
            self.char_buttons.append(b)
        self.digits.setVisible(bool(labels))
        self.answer.setVisible(not labels)

    def _clicked(self, index: int) -> None:
        self.select(index)
        self.correctRequested.emit(index)

    def select(self, index: int) -> None:
        for i, b in enumerate(self.char_buttons):
            b.setChecked(i == index)
        self.charSelected.emit(index)

    def show_hint(self, text: str) -> None:
        self.set_stale(False)
        self._set_buttons([])
        self.answer.setText("")
        self.answer.setToolTip("")
        self.detail.setText(text)
        self.mine.hide()

    def set_stale(self, stale: bool, hint: str = "") -> None:
        """Grey the answer out and say why (live recognition off, the drawing changed)."""
        self.answer.setEnabled(not stale)
        self.digits.setEnabled(not stale)
        self.mine.setEnabled(not stale)
        if stale:
            self.detail.setText(hint)

    def show_number(self, number: NumberReading) -> None:
        self.set_stale(False)
        chars = number.chars
        self._show_mine(number)
        self.answer.setToolTip(self.tr("Wrong? Click to correct it (F2)"))
        if len(chars) == 1:
            self._set_buttons([])
            reading = chars[0].reading
            self.answer.setText(reading.label)
            self.detail.setText(not_a(self.mode) if reading.rejected else
                                self.tr("{0:.1%} confident").format(reading.confidence))
            return
        self._set_buttons([c.label for c in chars])
        for b, c in zip(self.char_buttons, chars, strict=True):
            if c.reading.from_profile:
                b.setToolTip(self.tr("Read with your handwriting; click to correct it (F2)"))
        self.answer.setText(number.text)
        if number.rejected:
            self.detail.setText(self.tr("{0} characters; \"?\" is not a {1}")
                                .format(len(chars), noun(self.mode)))
        else:
            nouns = noun(self.mode) + "s"
            self.detail.setText(self.tr("{0} {2}, {1:.1%} confident (all {2} right)")
                                .format(len(chars), number.confidence, nouns))

    def _show_mine(self, number: NumberReading) -> None:
        mine = sum(c.reading.from_profile for c in number.chars)
        if not mine:
            self.mine.hide()
            return
        if len(number.chars) == 1:
            self.mine.setText(self.tr("✍ Read with your handwriting"))
        else:
            what = noun(self.mode) + ("s" if mine > 1 else "")
            self.mine.setText(self.tr("✍ Read with your handwriting ({0} {1})")
                              .format(mine, what))
        self.mine.show()
