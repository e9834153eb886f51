"""Persistent settings (QSettings, INI format everywhere) with validation.

Every read is checked and clamped: a corrupt or hand-edited file gives defaults, never a
crash.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

from hwr_qt.classifier import MODES

DEFAULTS = {"pen_width": 14, "top_k": 3, "live": True, "learn": True}
DEFAULT_MODE = "digits"
LIMITS = {"pen_width": (4, 40), "top_k": (1, 10)}
MAX_RECENT = 8


class Settings:
    def __init__(self, path: str | None = None) -> None:
        if path:
            self._qs = QSettings(path, QSettings.Format.IniFormat)
        else:
            self._qs = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                                 "hwr-qt", "hwr-qt")

    @property
    def file_name(self) -> str:
        return self._qs.fileName()

    def _int(self, key: str) -> int:
        lo, hi = LIMITS[key]
        try:
            value = int(str(self._qs.value(key, DEFAULTS[key])))
        except (TypeError, ValueError):
            return DEFAULTS[key]
        return value if lo <= value <= hi else DEFAULTS[key]

    @property
    def pen_width(self) -> int:
        return self._int("pen_width")

    @pen_width.setter
    def pen_width(self, value: int) -> None:
        self._qs.setValue("pen_width", int(value))

    @property
    def top_k(self) -> int:
        return self._int("top_k")

    @top_k.setter
    def top_k(self, value: int) -> None:
        self._qs.setValue("top_k", int(value))

    def _bool(self, key: str) -> bool:
        value = self._qs.value(key, DEFAULTS[key])
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() not in {"false", "0", "no", "off"}

    @property
    def live(self) -> bool:
        return self._bool("live")

    @live.setter
    def live(self, value: bool) -> None:
        self._qs.setValue("live", bool(value))

    @property
    def learn(self) -> bool:
        """Recognition → Learn from My Corrections (on unless the user turned it off)."""
        return self._bool("learn")

    @learn.setter
    def learn(self, value: bool) -> None:
        self._qs.setValue("learn", bool(value))

    @property
    def mode(self) -> str:
        """The reading mode (digits, letters, all); anything else reads as digits."""
        value = self._qs.value("mode", DEFAULT_MODE)
        return value if isinstance(value, str) and value in MODES else DEFAULT_MODE

    @mode.setter
    def mode(self, value: str) -> None:
        self._qs.setValue("mode", value if value in MODES else DEFAULT_MODE)

    @property
    def geometry(self) -> QByteArray | None:
        value = self._qs.value("geometry")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._qs.setValue("geometry", value)

    @property
    def last_dir(self) -> str:
        value = self._qs.value("last_dir", "")
        return value if isinstance(value, str) else ""

    @last_dir.setter
    def last_dir(self, value: str) -> None:
        self._qs.setValue("last_dir", value)

    @property
    def recent_files(self) -> list[str]:
        """Most recent first, at most MAX_RECENT, only strings (a damaged entry is dropped)."""
        value = self._qs.value("recent_files", [])
        if isinstance(value, str):  # QSettings gives a lone entry as a plain string
            value = [value]
        if not isinstance(value, list):
            return []
        return [v for v in value if isinstance(v, str) and v][:MAX_RECENT]

    def add_recent_file(self, path: str) -> None:
        files = [path] + [f for f in self.recent_files if f != path]
        self._qs.setValue("recent_files", files[:MAX_RECENT])

    def remove_recent_file(self, path: str) -> None:
        self._qs.setValue("recent_files", [f for f in self.recent_files if f != path])

    def sync(self) -> None:
        self._qs.sync()
