"""Run slow work (reading a big drawing, rendering or opening a huge file) off the GUI
thread, keeping only the latest request: a result that a newer request has overtaken is
dropped, so the window never shows an answer to a drawing that is gone."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal


class LatestOnly(QObject):
    """One worker thread; ``submit`` replaces any job not yet started.

    ``finished(token, result, error)`` arrives in the GUI thread (a queued signal); the
    receiver keeps it only if ``is_current(token)``. ``progress(token, fraction)`` may be
    emitted by a job through the ``report`` callable it is given.
    """

    finished = Signal(int, object, object)
    progress = Signal(int, float)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._cond = threading.Condition()
        self._job: tuple[int, Callable[[Callable[[float], bool]], Any]] | None = None
        self._token = 0
        self._running: int | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def busy(self) -> bool:
        """A job is queued or running whose result is still wanted."""
        with self._cond:
            return self._job is not None or self._running == self._token

    def is_current(self, token: int) -> bool:
        return token == self._token

    def submit(self, job: Callable[[Callable[[float], bool]], Any]) -> int:
        """Queue ``job(report)``; ``report(fraction)`` returns False once the job is
        stale or cancelled, so a long job can stop early."""
        with self._cond:
            self._token += 1
            self._job = (self._token, job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name,
                                                daemon=True)
                self._thread.start()
            self._cond.notify()
            return self._token

    def cancel(self) -> None:
        """Forget the pending job and make the running one's result stale."""
        with self._cond:
            self._token += 1
            self._job = None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._token += 1
            self._job = None
            self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._job is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                assert self._job is not None
                token, job = self._job
                self._job = None
                self._running = token

            def report(fraction: float, token: int = token) -> bool:
                if token != self._token or self._closed:
                    return False
                self._emit(self.progress, token, fraction)
                return True

            result, error = None, None
            try:
                result = job(report)
            except Exception as e:  # noqa: BLE001 - delivered to the GUI thread as a value
                error = e
            with self._cond:
                self._running = None
            self._emit(self.finished, token, result, error)

    def _emit(self, signal: Any, *args: object) -> None:
        if self._closed:
            return
        # The window may be gone at exit: a deleted C++ object raises RuntimeError.
        with contextlib.suppress(RuntimeError):
            signal.emit(*args)
