""""That's a …": correcting one character of the answer.

The character's top-k as quick choices, any of the mode's labels typed (checked as it is
typed, the reason shown inline), and "This isn't a <character>". Escape cancels.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hwr_qt.adapt import NOT_A_CHARACTER
from hwr_qt.models import noun
from hwr_qt.pipeline import Reading
from hwr_qt.ui.preview import ModelInputPreview


def spans(labels: Sequence[str]) -> str:
    """'0–9' or 'A–Z, a–z': the labels with consecutive runs as ranges."""
    chars = sorted(set(labels), key=lambda x: (len(x), x))
    out: list[str] = []
    i = 0
    while i < len(chars):
        j = i
        while (j + 1 < len(chars) and len(chars[j]) == len(chars[j + 1]) == 1
               and ord(chars[j + 1]) == ord(chars[j]) + 1):
            j += 1
        out.append(chars[i] if j - i < 2 else f"{chars[i]}–{chars[j]}")
        if 0 < j - i < 2:
            out.append(chars[j])
        i = j + 1
    return ", ".join(out)


class CorrectDialog(QDialog):
    """Choose what the character really is; ``chosen`` holds it once accepted (a label,
    or ``NOT_A_CHARACTER``)."""

    def __init__(self, reading: Reading, labels: Sequence[str], mode: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("correct-dialog")
        self.labels = tuple(labels)
        self.mode = mode
        self.chosen: str | None = None
        what = noun(mode)
        self.setWindowTitle(self.tr("Correct the {0}").format(what))

        preview = ModelInputPreview()
        preview.set_input(reading.model_input)
        heading = QLabel(self.tr("That's a …"))
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        heading.setFont(font)

        # The top-k, best first, as buttons with their probabilities under them.
        quick = QGridLayout()
        quick.setHorizontalSpacing(6)
        big = self.font()
        big.setPointSizeF(big.pointSizeF() * 1.6)
        big.setBold(True)
        self.quick_buttons: list[QPushButton] = []
        for col, p in enumerate(reading.top_k):
            b = QPushButton(p.label.replace("&", "&&"))
            b.setFont(big)
            b.setAutoDefault(False)  # Enter belongs to the line edit
            b.setMinimumSize(44, 44)
            b.setToolTip(self.tr("It's a {0} ({1:.1%} by the model)").format(
                p.label, p.probability))
            b.clicked.connect(lambda _=False, lab=p.label: self.choose(lab))
            pct = QLabel(f"{p.probability:.0%}")
            pct.setAlignment(Qt.AlignmentFlag.AlignCenter)
            pct.setEnabled(False)  # the palette's dimmed text
            quick.addWidget(b, 0, col)
            quick.addWidget(pct, 1, col)
            self.quick_buttons.append(b)

        self.edit = QLineEdit()
        self.edit.setMaxLength(max((len(x) for x in self.labels), default=1))
        self.edit.setPlaceholderText(self.tr("or type it: {0}").format(spans(self.labels)))
        self.edit.setAccessibleName(self.tr("The {0} it really is").format(what))
        self.edit.textEdited.connect(self._on_edited)
        self.edit.returnPressed.connect(self._on_return)
        self.error = QLabel()
        self.error.setObjectName("correct-error")
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setStyleSheet("color: #d03030")
        self.error.hide()

        self.not_button = QPushButton(self.tr("This isn't a {0}").format(what))
        self.not_button.setAutoDefault(False)
        self.not_button.clicked.connect(lambda: self.choose(NOT_A_CHARACTER))
        cancel = QPushButton(self.tr("Cancel"))
        cancel.setAutoDefault(False)
        cancel.clicked.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(preview, 0, Qt.AlignmentFlag.AlignTop)
        right = QVBoxLayout()
        right.addWidget(heading)
        right.addLayout(quick)
        right.addStretch(1)
        top.addLayout(right, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.not_button)
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.edit)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.edit.setFocus()

    def problem(self, text: str) -> str | None:
        """Why ``text`` is not a label this mode may be taught, or None."""
        what = noun(self.mode)
        if not text:
            return self.tr("Type a {0}, or choose one above").format(what)
        if text in self.labels or text == NOT_A_CHARACTER:
            return None
        return self.tr("“{0}” is not a {1} here: type one of {2}").format(
            text, what, spans(self.labels))

    def _on_edited(self, text: str) -> None:
        # Said as soon as it is typed, cleared as soon as it is fixed.
        reason = self.problem(text) if text else None
        self.error.setText(reason or "")
        self.error.setVisible(reason is not None)

    def _on_return(self) -> None:
        reason = self.problem(self.edit.text())
        if reason is not None:
            self.error.setText(reason)
            self.error.show()
            return
        self.choose(self.edit.text())

    def choose(self, label: str) -> None:
        self.chosen = label
        self.accept()
