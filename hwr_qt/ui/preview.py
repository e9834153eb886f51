"""A small view of the 28x28 image the model actually saw."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget


class ModelInputPreview(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._array: np.ndarray | None = None
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setFixedSize(QSize(28 * 4 + 2, 28 * 4 + 2))
        self.setToolTip(self.tr("What the model saw: 28x28, white ink on black, like MNIST"))

    def set_input(self, array: np.ndarray | None) -> None:
        if array is None:
            self._image, self._array = None, None
        else:
            data = np.ascontiguousarray(np.clip(array, 0, 1) * 255, dtype=np.uint8)
            self._array = data
            # QImage borrows the buffer: keep `data` alive and copy to detach.
            self._image = QImage(data.data, data.shape[1], data.shape[0], data.shape[1],
                                 QImage.Format.Format_Grayscale8).copy()
        self.update()

    @property
    def shown(self) -> np.ndarray | None:
        return self._array

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0))
        if self._image is not None:
            # Nearest-neighbour (no smooth transform) so the real pixels are visible.
            painter.drawImage(QRect(1, 1, self.width() - 2, self.height() - 2), self._image)
        painter.setPen(QColor(120, 120, 120))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        if self._image is None:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "28×28")
        painter.end()
