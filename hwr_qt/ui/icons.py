"""Toolbar and menu icons: the desktop theme's, else one that ships with Qt.

Freedesktop icon names come from the user's theme (so the app looks native on Linux);
where there is no theme (Windows, macOS, a bare desktop) Qt's own built-in standard
icons stand in, so no button is ever blank.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QStyle

SP = QStyle.StandardPixmap
FALLBACK = {
    "document-new": SP.SP_FileIcon,
    "document-open": SP.SP_DialogOpenButton,
    "document-save": SP.SP_DialogSaveButton,
    "document-save-as": SP.SP_DialogSaveButton,
    "edit-undo": SP.SP_ArrowBack,
    "edit-redo": SP.SP_ArrowForward,
    "edit-clear": SP.SP_DialogResetButton,
    "edit-copy": SP.SP_FileDialogDetailedView,
    "system-run": SP.SP_MediaPlay,
    "document-export": SP.SP_DialogSaveButton,
    "help-keyboard-shortcuts": SP.SP_MessageBoxQuestion,
    "help-about": SP.SP_MessageBoxInformation,
    "application-exit": SP.SP_DialogCloseButton,
}


def icon(name: str) -> QIcon:
    themed = QIcon.fromTheme(name)
    if not themed.isNull():
        return themed
    style = QApplication.style()
    return style.standardIcon(FALLBACK.get(name, SP.SP_FileIcon))


def text_icon(text: str, size: int = 32) -> QIcon:
    """An icon that is a short text ("0–9", "Aa"): the reading modes have no theme icon,
    and a toolbar button must never be blank. Drawn in the palette's text colour."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    font = QFont(QApplication.font())
    font.setBold(True)
    font.setPixelSize(int(size * (0.55 if len(text) <= 2 else 0.42)))
    painter.setFont(font)
    painter.setPen(QApplication.palette().windowText().color())
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return QIcon(pixmap)
