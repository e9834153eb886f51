"""Follow the system's light or dark appearance.

Qt reports the desktop's colour scheme (Qt 6.5+). Where the platform gives Qt a matching
palette (Windows, macOS, KDE, GNOME with a platform theme) nothing needs doing; where it
says "dark" but leaves Qt's light palette in place (a bare X11/Wayland session), the
Fusion style gets a dark palette. Widgets draw with palette colours, the canvas too.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


def dark_palette() -> QPalette:
    p = QPalette()
    R, C = QPalette.ColorRole, QColor
    for role, colour in ((R.Window, C(45, 45, 48)), (R.WindowText, C(230, 230, 230)),
                         (R.Base, C(30, 30, 32)), (R.AlternateBase, C(45, 45, 48)),
                         (R.Text, C(235, 235, 235)), (R.Button, C(55, 55, 58)),
                         (R.ButtonText, C(230, 230, 230)), (R.Highlight, C(60, 130, 220)),
                         (R.HighlightedText, C(255, 255, 255)), (R.ToolTipBase, C(60, 60, 64)),
                         (R.ToolTipText, C(235, 235, 235)), (R.PlaceholderText, C(140, 140, 145)),
                         (R.Link, C(110, 170, 255)), (R.BrightText, C(255, 90, 90)),
                         (R.Light, C(75, 75, 78)), (R.Midlight, C(62, 62, 65)),
                         (R.Mid, C(40, 40, 42)), (R.Dark, C(25, 25, 27)),
                         (R.Shadow, C(0, 0, 0))):
        p.setColor(role, colour)
    disabled = QPalette.ColorGroup.Disabled
    for role in (R.WindowText, R.Text, R.ButtonText):
        p.setColor(disabled, role, C(120, 120, 125))
    return p


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def system_wants_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return bool(hints.colorScheme() == Qt.ColorScheme.Dark)


def apply_system_scheme(app: QApplication) -> None:
    """Dark palette when the system is dark but Qt's palette is not; and back."""
    if system_wants_dark() and not is_dark(app.palette()):
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    elif not system_wants_dark() and is_dark(app.palette()):
        app.setPalette(app.style().standardPalette())


def follow_system_scheme(app: QApplication) -> None:
    apply_system_scheme(app)
    QGuiApplication.styleHints().colorSchemeChanged.connect(
        lambda _scheme: apply_system_scheme(app))
