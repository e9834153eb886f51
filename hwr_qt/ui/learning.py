"""The window's side of learning the user's handwriting: the profile, loaded once at
start-up (from the user's data folder unless a path is given), applied to each mode's
classifier, and saved atomically after every change: a correction's save runs on a
worker thread (gzip and the file take ~0.1-0.3 s at 1,000 examples, which the GUI thread
must not wait for), in order, the newest snapshot winning; loading a profile, the other
saves and quitting wait for the writes pending, so nothing is lost or overwritten.

Nothing here raises for a damaged or foreign profile: the messages are one line each,
for the status bar (``hwr_qt.profile`` sets a damaged file aside, ``hwr_qt.adapt``
re-embeds examples made with another model).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Collection
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from hwr_qt import profile as profile_store
from hwr_qt.adapt import NOT_A_CHARACTER, AdaptedClassifier, AdaptError
from hwr_qt.classifier import Classifier, ModeClassifier
from hwr_qt.pipeline import CharReading
from hwr_qt.profile import Profile, ProfileError

__all__ = ["NOT_A_CHARACTER", "AdaptError", "Learning", "ProfileError", "flush_saves"]


class _Writer:
    """One thread writing profile snapshots, in order; per file only the newest pending
    one is written. Not a daemon: a write under way finishes before Python exits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[Path, tuple[Callable[[], list[bytes]], Callable[[str], None]]] = {}
        self._thread: threading.Thread | None = None

    def submit(self, path: Path, encoded: Callable[[], list[bytes]],
               failed: Callable[[str], None]) -> None:
        """Write ``encoded()`` (called on the writer thread) to ``path``; ``failed``
        (on the writer thread) gets the message when that fails."""
        with self._lock:
            self._pending[path] = (encoded, failed)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="profile-save")
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._thread = None
                    return
                path = next(iter(self._pending))
                encoded, failed = self._pending.pop(path)
            try:
                profile_store.write_encoded(path, encoded())
            except ProfileError as e:
                # The window may be gone at exit: a deleted C++ object raises RuntimeError.
                with contextlib.suppress(RuntimeError):
                    failed(str(e))
            except Exception:  # noqa: BLE001 - a bug must not stop the later saves
                with contextlib.suppress(RuntimeError):
                    failed("the handwriting profile could not be saved (unexpected error)")

    def flush(self) -> None:
        """Wait until every pending write is done."""
        while True:
            with self._lock:
                thread = self._thread
            if thread is None:
                return
            thread.join()


_WRITER = _Writer()


def flush_saves() -> None:
    """Wait for the profile writes under way (before reading a profile file)."""
    _WRITER.flush()


class _Signals(QObject):
    save_failed = Signal(str)  # emitted on the writer thread, delivered on the GUI's


class Learning:
    """The user's profile and the adapted classifier of the current mode."""

    def __init__(self, path: Path | None = None, enabled: bool = True) -> None:
        self.path = path if path is not None else profile_store.default_profile_path()
        flush_saves()  # another window's correction may still be on its way to the file
        self.profile, self.message = Profile.load(self.path)  # message: say it once
        self.signals = _Signals()  # .save_failed(message): a background save failed
        self.enabled = enabled
        self.adapter: AdaptedClassifier | None = None  # the current model's

    def __len__(self) -> int:
        return len(self.profile)

    @property
    def can_learn(self) -> bool:
        return self.adapter is not None and self.adapter.can_learn

    def wrap(self, classifier: Classifier,
             other_models: Callable[[], Collection[str]] = frozenset) -> tuple[Classifier,
                                                                              str | None]:
        """(``classifier`` read through the profile, a message or None). Examples made
        with a model no longer in use are re-embedded (and the profile saved);
        ``other_models`` gives the ids of the other modes' models, whose examples stay
        theirs (called only when the profile has examples of another model)."""
        inner = classifier.inner if isinstance(classifier, ModeClassifier) else classifier
        adapter = AdaptedClassifier(inner, self.profile, enabled=self.enabled)
        self.adapter = adapter
        message = None
        if self.profile.set_aside(adapter.info.model_id):
            revision = self.profile.revision
            message = adapter.reembed_profile(other_models())
            if self.profile.revision != revision:
                message = self.save() or message
        if isinstance(classifier, ModeClassifier):
            return ModeClassifier(adapter, classifier.mode), message
        return adapter, message

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        if self.adapter is not None:
            self.adapter.enabled = enabled

    def learn(self, char: CharReading, label: str) -> None:
        """Store a correction and save it in the background (a failure comes as
        ``signals.save_failed``). AdaptError for the user."""
        if self.adapter is None:
            raise AdaptError("no model is loaded")
        self.adapter.learn(char.reading.model_input, char.ink, label)
        snapshot, profile = list(self.profile.examples), self.profile
        # Encoding too on the writer (the first save after start-up encodes every
        # example's ink; later ones only the new); save() waits for it, so the profile's
        # cache is never used by two threads at once.
        _WRITER.submit(self.path, lambda: profile.encoded(snapshot),
                       self.signals.save_failed.emit)

    def forget(self) -> str | None:
        """Clear every example, on disk too. A message when saving failed."""
        self.profile.clear()
        return self.save()

    def export(self, path: Path) -> None:
        flush_saves()
        self.profile.export(path)

    def import_(self, path: Path) -> int:
        """Add another profile file's examples (and save); how many were new."""
        added = self.profile.import_(path)
        error = self.save()
        if error:
            raise ProfileError(error)
        return added

    def save(self) -> str | None:
        """Save now (after the background writes pending); a message when it failed."""
        flush_saves()
        try:
            self.profile.save()
        except ProfileError as e:
            return str(e)
        return None
