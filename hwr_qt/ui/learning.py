"""The window's side of learning the user's handwriting: the profile, loaded once at
start-up (from the user's data folder unless a path is given), applied to each mode's
classifier, and saved atomically after every change.

Nothing here raises for a damaged or foreign profile: the messages are one line each,
for the status bar (``hwr_qt.profile`` sets a damaged file aside, ``hwr_qt.adapt``
re-embeds examples made with another model).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

from hwr_qt import profile as profile_store
from hwr_qt.adapt import NOT_A_CHARACTER, AdaptedClassifier, AdaptError
from hwr_qt.classifier import Classifier, ModeClassifier
from hwr_qt.pipeline import CharReading
from hwr_qt.profile import Profile, ProfileError

__all__ = ["NOT_A_CHARACTER", "AdaptError", "Learning", "ProfileError"]


class Learning:
    """The user's profile and the adapted classifier of the current mode."""

    def __init__(self, path: Path | None = None, enabled: bool = True) -> None:
        self.path = path if path is not None else profile_store.default_profile_path()
        self.profile, self.message = Profile.load(self.path)  # message: say it once
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
        """Store a correction and save. AdaptError or ProfileError, for the user."""
        if self.adapter is None:
            raise AdaptError("no model is loaded")
        self.adapter.learn(char.reading.model_input, char.ink, label)
        error = self.save()
        if error:
            raise ProfileError(error)

    def forget(self) -> str | None:
        """Clear every example, on disk too. A message when saving failed."""
        self.profile.clear()
        return self.save()

    def export(self, path: Path) -> None:
        self.profile.export(path)

    def import_(self, path: Path) -> int:
        """Add another profile file's examples (and save); how many were new."""
        added = self.profile.import_(path)
        error = self.save()
        if error:
            raise ProfileError(error)
        return added

    def save(self) -> str | None:
        try:
            self.profile.save()
        except ProfileError as e:
            return str(e)
        return None
