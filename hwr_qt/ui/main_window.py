"""The main window: canvas on the left, the answer, top-k bars and model input on the right."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from hwr_qt import __version__
from hwr_qt.adapt import NOT_A_CHARACTER, AdaptError
from hwr_qt.classifier import MODES, Classifier
from hwr_qt.imagefile import ImageFileError, image_ink, read_image
from hwr_qt.ink import Ink, InkError, LoadCancelled, load_ink, paused_gc, save_ink
from hwr_qt.models import MODE_TITLES, ModelSet, mode_available, noun, served
from hwr_qt.pipeline import (
    INK_SUFFIXES,
    NumberReading,
    Reading,
    check_readable,
    read_image_ink,
    read_number,
)
from hwr_qt.preprocess import EmptyInputError
from hwr_qt.profile import ProfileError
from hwr_qt.recognizer import ModelError, ModelOutputError, Recognizer
from hwr_qt.trajectory import TrajectoryModel
from hwr_qt.ui.background import LatestOnly
from hwr_qt.ui.canvas import InkCanvas, fit_to_canvas, render_image
from hwr_qt.ui.correct import CorrectDialog
from hwr_qt.ui.export import export_png, export_svg
from hwr_qt.ui.icons import icon, text_icon
from hwr_qt.ui.learning import Learning, flush_saves
from hwr_qt.ui.preview import ModelInputPreview
from hwr_qt.ui.settings import LIMITS, Settings
from hwr_qt.ui.topk import AnswerView, TopKBars

LIVE_INTERVAL_MS = 120  # recognition at most ~8x a second while the pen moves
# Read in the GUI thread only what surely takes less than a frame (a digit or two takes
# ~2 ms); anything bigger is read in the background and a newer drawing overtakes it.
INLINE_STROKES = 4
INLINE_POINTS = 2_000
INLINE_IMAGE_PIXELS = 2_000_000  # bigger photos are read in the background
BIG_FILE_BYTES = 512 * 1024  # opened in the background, with progress and Cancel
PROGRESS_STEPS = 1000
INK_FILTER = "Ink files (*.json *.ink);;All files (*)"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
OPEN_FILTER = ("Ink and images (*.json *.ink " + " ".join(f"*{s}" for s in IMAGE_SUFFIXES)
               + ");;Ink files (*.json *.ink);;Images (" +
               " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ");;All files (*)")
EXPORT_FILTER = "PNG image (*.png);;SVG drawing (*.svg)"
TINY_PX = 6.0  # a drawing smaller than this on screen is a tap, not a character
MODE_SHORTCUTS = {"digits": "Ctrl+1", "letters": "Ctrl+2", "all": "Ctrl+3"}
MODE_BUTTONS = {"digits": "0–9", "letters": "Aa", "all": "A1"}  # toolbar texts
PROFILE_FILTER = "Handwriting profiles (*.json.gz);;All files (*)"


def capitalised(message: str) -> str:
    """A lower-case one-line error as the start of a sentence (an empty one stays empty)."""
    return message[:1].upper() + message[1:]


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, model_path: Path | None = None,
                 profile_path: Path | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.models = ModelSet()
        # The user's handwriting profile (default: their app data folder). A damaged one
        # is set aside by the store: a message, never an exception.
        self.learning = Learning(profile_path, settings.learn)
        self.learning.signals.save_failed.connect(self._profile_not_saved)
        self._selected = 0  # the character whose top-k is shown
        self.profile_message: str | None = None  # the last problem with the profile
        self.mode = settings.mode
        self.recognizer: Recognizer | None = None  # the model of the current mode
        self.classifier: Classifier | None = None  # the recognizer read in the mode
        self.last_reading: Reading | None = None  # the selected (or only) character
        self.last_number: NumberReading | None = None
        self.file_path: Path | None = None  # the ink or image file shown, if any
        self._saved_ink = Ink()  # the ink as last opened/saved/started: "not modified"
        self.setAcceptDrops(True)

        self.canvas = InkCanvas()
        self.canvas.set_pen_width(settings.pen_width)
        self.answer = AnswerView()
        self.bars = TopKBars(settings.top_k)
        self.preview = ModelInputPreview()
        self._build_side_panel()
        self._build_actions()

        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(LIVE_INTERVAL_MS)
        self._live_timer.timeout.connect(self._recognise_live)
        self._reader = LatestOnly("hwr-qt read", self)
        self._reader.finished.connect(self._on_read)
        self._loader = LatestOnly("hwr-qt open", self)
        self._loader.progress.connect(self._on_load_progress)
        self._loader.finished.connect(self._on_loaded)
        self._progress: QProgressDialog | None = None
        self._opening_path = Path()
        self._problem_shown = False  # the status bar tells of a problem with reading
        self.canvas.strokeAdded.connect(self._on_stroke_added)
        self.canvas.strokeMoved.connect(self._on_stroke_moved)
        self.canvas.inkChanged.connect(self._on_ink_changed)
        self.answer.charSelected.connect(self.select_char)
        self.answer.correctRequested.connect(self.correct_char)
        self.correct_dialog: CorrectDialog | None = None

        geometry = settings.geometry
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(860, 600)
        self._apply_mode_wording()
        if model_path is not None:
            self.load_model(model_path, keep_mode=True)
        if self.learning.message:
            # Said once, after the model's own message (which it would otherwise hide).
            self._profile_problem(self.learning.message)
        self._update_actions()
        self._update_title()

    # --- layout -------------------------------------------------------------------
    def _build_side_panel(self) -> None:
        self.recognise_button = QPushButton(self.tr("&Recognise"))
        self.clear_button = QPushButton(self.tr("&Clear"))
        self.undo_button = QPushButton(self.tr("&Undo"))
        self.redo_button = QPushButton(self.tr("Re&do"))
        self.recognise_button.clicked.connect(self.recognise)
        self.clear_button.clicked.connect(self.canvas.clear)
        self.undo_button.clicked.connect(self.canvas.undo)
        self.redo_button.clicked.connect(self.canvas.redo)
        for b in (self.recognise_button, self.clear_button, self.undo_button, self.redo_button):
            # Reachable with Tab (the style draws the focus); the window-wide shortcuts
            # work wherever the focus is.
            b.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.top_k_spin = QSpinBox()
        self.top_k_spin.setRange(*LIMITS["top_k"])
        self.top_k_spin.setValue(self.settings.top_k)
        self.top_k_spin.valueChanged.connect(self.set_top_k)
        self.pen_spin = QSpinBox()
        self.pen_spin.setRange(*LIMITS["pen_width"])
        self.pen_spin.setSuffix(" px")
        self.pen_spin.setValue(self.settings.pen_width)
        self.pen_spin.valueChanged.connect(self.set_pen_width)
        form = QFormLayout()
        form.addRow(self.tr("Top-k:"), self.top_k_spin)
        form.addRow(self.tr("Pen width:"), self.pen_spin)

        buttons = QHBoxLayout()
        for b in (self.undo_button, self.redo_button, self.clear_button):
            buttons.addWidget(b)
        side = QVBoxLayout()
        side.addWidget(self.answer)
        side.addWidget(self.bars)
        side.addSpacing(8)
        self.preview_label = QLabel(self.tr("Model input:"))
        self.preview_label.hide()  # shown with the first answer
        self.preview.hide()
        side.addWidget(self.preview_label)
        side.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignHCenter)
        side.addStretch(1)
        side.addLayout(form)
        side.addWidget(self.recognise_button)
        side.addLayout(buttons)
        panel = QWidget()
        panel.setLayout(side)
        # In a scroll area: a taller answer (ten bars, a long number) scrolls within the
        # panel instead of raising the window's minimum size, so the window never grows
        # by itself and nothing is squeezed until it clips.
        scroll = QScrollArea()
        scroll.setWidget(panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFixedWidth(280)
        self.side_panel = scroll

        central = QWidget()
        row = QHBoxLayout(central)
        row.addWidget(self.canvas, 1)
        row.addWidget(scroll)
        self.setCentralWidget(central)
        self.statusBar()

    def _action(self, text: str, slot: Callable[..., Any], shortcuts: Sequence[Any] = (),
                icon_name: str | None = None) -> QAction:
        action = QAction(text, self)
        if icon_name:
            action.setIcon(icon(icon_name))
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        # Window-wide, so the shortcuts work whichever child has focus.
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        std = QKeySequence.StandardKey
        self.new_action = self._action(self.tr("&New"), self.new_drawing, [std.New],
                                       "document-new")
        self.open_action = self._action(self.tr("&Open…"), self.open_ink, [std.Open],
                                        "document-open")
        self.save_action = self._action(self.tr("&Save"), self.save, [std.Save],
                                        "document-save")
        self.save_as_action = self._action(self.tr("Save &As…"), self.save_ink,
                                           ["Ctrl+Shift+S"], "document-save-as")
        self.export_action = self._action(self.tr("&Export Picture…"), self.export_picture,
                                          ["Ctrl+E"], "document-export")
        self.model_action = self._action(self.tr("Load &Model…"), self.choose_model)
        self.quit_action = self._action(self.tr("&Quit"), self.close, ["Ctrl+Q"],
                                        "application-exit")
        self.undo_action = self._action(self.tr("&Undo"), self.canvas.undo, [std.Undo],
                                        "edit-undo")
        self.redo_action = self._action(self.tr("&Redo"), self.canvas.redo,
                                        ["Ctrl+Shift+Z", "Ctrl+Y"], "edit-redo")
        self.copy_action = self._action(self.tr("&Copy Answer"), self.copy_answer,
                                        [std.Copy], "edit-copy")
        self.clear_action = self._action(self.tr("&Clear"), self.canvas.clear,
                                         ["Esc", "Delete"], "edit-clear")
        self.recognise_action = self._action(self.tr("R&ecognise"), self.recognise,
                                             ["Return", "Enter"], "system-run")
        self.live_action = self._action(self.tr("&Live Recognition"), self._toggle_live)
        self.live_action.setCheckable(True)
        self.live_action.setChecked(self.settings.live)
        self.correct_action = self._action(self.tr("C&orrect Character…"),
                                           lambda: self.correct_char(), ["F2"])
        self.learn_action = self._action(self.tr("&Learn from My Corrections"),
                                         self.set_learning)
        self.learn_action.setCheckable(True)
        self.learn_action.setChecked(self.learning.enabled)
        self.forget_action = self._action(self.tr("&Forget My Handwriting…"),
                                          self.forget_handwriting)
        self.export_profile_action = self._action(self.tr("E&xport Profile…"),
                                                  self.export_profile)
        self.import_profile_action = self._action(self.tr("&Import Profile…"),
                                                  self.import_profile)
        self.mode_group = QActionGroup(self)
        self.mode_group.setExclusive(True)
        self.mode_actions: dict[str, QAction] = {}
        for mode in MODES:
            a = self._action(self.tr(f"&{MODE_TITLES[mode]}"),
                             lambda _=False, m=mode: self.set_mode(m), [MODE_SHORTCUTS[mode]])
            a.setCheckable(True)
            a.setIcon(text_icon(MODE_BUTTONS[mode]))
            self.mode_group.addAction(a)
            self.mode_actions[mode] = a
        self.shortcuts_action = self._action(self.tr("&Keyboard Shortcuts"),
                                             self.show_shortcuts, ["F1"],
                                             "help-keyboard-shortcuts")
        self.about_action = self._action(self.tr("&About hwr-qt"), self.show_about,
                                         icon_name="help-about")

        bar = self.menuBar()
        file_menu = bar.addMenu(self.tr("&File"))
        for a in (self.new_action, self.open_action):
            file_menu.addAction(a)
        self.recent_menu = file_menu.addMenu(self.tr("Open &Recent"))
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        for a in (self.save_action, self.save_as_action, self.export_action):
            file_menu.addAction(a)
        file_menu.addSeparator()
        file_menu.addAction(self.model_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu(self.tr("&Edit"))
        for a in (self.undo_action, self.redo_action, self.copy_action, self.clear_action):
            edit_menu.addAction(a)
        recog_menu = bar.addMenu(self.tr("&Recognition"))
        recog_menu.addAction(self.recognise_action)
        recog_menu.addAction(self.live_action)
        recog_menu.addSeparator()
        for a in (self.correct_action, self.learn_action, self.forget_action):
            recog_menu.addAction(a)
        recog_menu.addSeparator()
        recog_menu.addAction(self.export_profile_action)
        recog_menu.addAction(self.import_profile_action)
        mode_menu = bar.addMenu(self.tr("&Mode"))
        for a in self.mode_actions.values():
            mode_menu.addAction(a)
        help_menu = bar.addMenu(self.tr("&Help"))
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.about_action)

        self.toolbar = QToolBar(self.tr("Main"))
        self.toolbar.setObjectName("main-toolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        for group in ((self.new_action, self.open_action, self.save_action),
                      (self.undo_action, self.redo_action, self.clear_action),
                      (self.recognise_action, self.copy_action)):
            if self.toolbar.actions():
                self.toolbar.addSeparator()
            self.toolbar.addActions(list(group))
        self.toolbar.addSeparator()
        self.toolbar.addActions(list(self.mode_actions.values()))
        self.addToolBar(self.toolbar)
        for a in self.findChildren(QAction):
            # The shortcut in the tooltip too, as desktop toolbars do.
            keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys:
                a.setToolTip(f"{a.text().replace('&', '').rstrip('…')} ({keys})")

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(action, keys) for the Keyboard Shortcuts dialog, from the actions themselves."""
        rows = [(self.tr("Draw"), self.tr("left mouse button or a pen"))]
        for a in (self.new_action, self.open_action, self.save_action, self.save_as_action,
                  self.export_action, self.undo_action, self.redo_action, self.copy_action,
                  self.clear_action, self.recognise_action, self.correct_action,
                  *self.mode_actions.values(),
                  self.shortcuts_action, self.quit_action):
            keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText)
                             for k in a.shortcuts())
            rows.append((a.text().replace("&", "").rstrip("…"), keys))
        rows.append((self.tr("Move between buttons"), "Tab, Shift+Tab"))
        return rows

    def show_shortcuts(self) -> None:
        dialog = QDialog(self)
        dialog.setWindowTitle(self.tr("Keyboard Shortcuts"))
        table = "".join(f"<tr><td style='padding-right:18px'>{name}</td><td><b>{keys}</b></td>"
                        "</tr>" for name, keys in self.shortcut_rows())
        label = QLabel(f"<table>{table}</table>")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(label)
        layout.addWidget(buttons)
        self.shortcuts_dialog = dialog
        dialog.open()

    # --- model --------------------------------------------------------------------
    def load_model(self, path: Path, keep_mode: bool = False) -> bool:
        """Read with the model at ``path`` in the modes it serves (the bundled models read
        the others). In a mode it does not serve, switch to its first, unless
        ``keep_mode`` (the window opening in the mode it was left in) and a bundled model
        reads the current mode."""
        try:
            recognizer = self.models.load(path)
            self.models.chosen = path
            mode = self.mode
            if mode not in recognizer.info.modes:
                other = self._model_for(mode) if keep_mode else None
                if other is None:
                    mode = recognizer.info.modes[0]
                else:
                    recognizer = other
            self.recognizer, self.classifier = recognizer, self._adapted(
                served(recognizer, mode), mode)
        except ModelError as e:
            self.recognizer = self.classifier = None
            self.answer.show_hint(self.tr("No model loaded: recognition is off"))
            self.statusBar().showMessage(str(e))
            QMessageBox.critical(self, self.tr("Cannot load the model"),
                                 self.tr("{0}\n\nYou can keep drawing and saving ink; use "
                                         "File → Load Model… to choose another model.")
                                 .format(e))
            return False
        self.statusBar().showMessage(self.tr("Model: {0}").format(path.name), 5000)
        if mode != self.mode:
            self._set_mode_state(mode)
        self._path_model()  # loaded with the model, not at the first pen-up
        self._update_actions()
        self.recognise()
        return True

    # --- modes --------------------------------------------------------------------
    def _model_for(self, mode: str) -> Recognizer | None:
        try:
            return self.models.recognizer(mode)
        except ModelError:
            return None

    def set_mode(self, mode: str) -> bool:
        """Read in ``mode`` from now on (and re-read the drawing). A mode whose model is
        not installed is refused with a message; the current mode stays."""
        if mode not in MODES:
            return False
        try:
            recognizer = self.models.recognizer(mode)
            classifier = self._adapted(served(recognizer, mode), mode)
        except ModelError as e:
            self.mode_actions[self.mode].setChecked(True)
            self.statusBar().showMessage(str(e), 8000)
            self.mode_actions[mode].setToolTip(str(e))
            return False
        self.recognizer, self.classifier = recognizer, classifier
        self._set_mode_state(mode)
        self._path_model()  # loaded with the model, not at the first pen-up
        self.statusBar().showMessage(self.tr("Mode: {0}").format(MODE_TITLES[mode]), 3000)
        self._update_actions()
        self.recognise()
        return True

    def _adapted(self, classifier: Classifier, mode: str) -> Classifier:
        """The mode's classifier read through the user's profile."""
        def others() -> set[str]:
            ids = set()
            for m in MODES:
                if m != mode and (r := self._model_for(m)) is not None:
                    ids.add(r.info.model_id)
            return ids

        adapted, message = self.learning.wrap(classifier, others)
        if message:
            self._profile_problem(message)
        return adapted

    def _profile_not_saved(self, message: str) -> None:
        """A correction's background save failed: it is learned, but not on disk."""
        QMessageBox.warning(
            self, self.tr("Cannot save your handwriting"),
            self.tr("{0}.\nThe correction is used until you quit, but it is not on disk.")
            .format(capitalised(message)))

    def _profile_problem(self, message: str) -> None:
        self.profile_message = capitalised(message)
        self.statusBar().showMessage(self.profile_message, 20000)

    def _set_mode_state(self, mode: str) -> None:
        self.mode = mode
        self.settings.mode = mode
        self._apply_mode_wording()

    def _apply_mode_wording(self) -> None:
        """The mode's check mark, and the canvas hint and answer wording for it."""
        self.mode_actions[self.mode].setChecked(True)
        self.answer.mode = self.bars.mode = self.mode
        self.canvas.hint = {"digits": self.tr("Draw a digit"),
                            "letters": self.tr("Draw a letter or a word"),
                            "all": self.tr("Draw letters or digits")}[self.mode]
        self.canvas.update()
        for mode, a in self.mode_actions.items():
            if not (mode == self.mode or mode_available(mode) or self._chosen_serves(mode)):
                a.setEnabled(False)
                a.setToolTip(self.tr("{0} mode: its model ({1}) is not installed").format(
                    MODE_TITLES[mode], "chars.onnx"))
            else:
                a.setEnabled(True)
                a.setToolTip(self.tr("Read {0}s ({1})").format(
                    noun(mode), MODE_SHORTCUTS[mode]))

    def _chosen_serves(self, mode: str) -> bool:
        try:
            return self.models.chosen is not None and \
                mode in self.models.load(self.models.chosen).info.modes
        except ModelError:
            return False

    def choose_model(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, self.tr("Load Model"), self.settings.last_dir,
                                              "ONNX models (*.onnx);;All files (*)")
        if name:
            self.load_model(Path(name))

    # --- recognition --------------------------------------------------------------
    def recognise(self) -> None:
        if self.canvas.image is not None and self.canvas.ink.is_empty:
            self._show_image(self.canvas.image)
        else:
            self._show(self.canvas.ink)

    @property
    def reading_pending(self) -> bool:
        """A background reading is under way (its answer is not shown yet)."""
        return self._reader.busy

    def _show(self, ink: Ink) -> None:
        self._live_timer.stop()
        self._reader.cancel()  # whatever is still being read is stale now
        if ink.is_empty:
            self._clear_problem()
            self._clear_answer(self.tr("No model loaded: recognition is off")
                               if self.classifier is None else "")
            return
        if self.classifier is None:
            return
        x0, y0, x1, y1 = ink.bounds()
        if max(x1 - x0, y1 - y0) < TINY_PX:
            # A tap or a dot has no shape: any character read from it would be a guess.
            self._clear_answer(self.tr("Too small to read: draw a bigger {0}")
                               .format(noun(self.mode)))
            return
        try:
            check_readable(ink)
        except InkError as e:
            self._show_problem(capitalised(str(e)) + ".",
                               self.tr("Undo or clear to read again."))
            return
        classifier, k, path = self.classifier, self.bars.k, self._path_model()
        if len(ink.strokes) <= INLINE_STROKES and ink.point_count <= INLINE_POINTS:
            try:
                self._present(read_number(classifier, ink, k, path_model=path))
            except (EmptyInputError, InkError, ModelOutputError) as e:
                self._present_error(e)
            return
        self._reader.submit(lambda _report: read_number(classifier, ink, k, path_model=path))

    def _path_model(self) -> TrajectoryModel | None:
        """The path model for drawn ink; a damaged one is reported once, in the status
        bar, and the drawing is read by its image alone."""
        had_problem = self.models.path_model_problem is not None
        path = self.models.path_model(self.mode)
        if self.models.path_model_problem and not had_problem:
            self.statusBar().showMessage(
                self.tr("Reading by image alone: {0}").format(self.models.path_model_problem),
                8000)
        return path

    def _on_read(self, token: int, number: object, error: object) -> None:
        if not self._reader.is_current(token):
            return  # overtaken by a newer drawing
        if isinstance(error, EmptyInputError | InkError | ModelOutputError):
            self._present_error(error)
        elif isinstance(error, BaseException):
            raise error  # a bug: the excepthook reports it, the drawing stays
        elif isinstance(number, NumberReading):
            # An image's reading, if the image is still what the canvas shows.
            self._present(number, image=self.canvas.image is not None and
                          self.canvas.ink.is_empty)

    def _show_image(self, image: QImage) -> None:
        """An opened image, read as a number; its characters boxed on the canvas."""
        self._reader.cancel()
        if self.classifier is None:
            return
        classifier, k = self.classifier, self.bars.k
        if image.width() * image.height() > INLINE_IMAGE_PIXELS:
            # A big photo takes a second or two: read it in the background.
            self._reader.submit(lambda _report: read_image_ink(classifier, image_ink(image), k))
            self.statusBar().showMessage(self.tr("Reading the image…"), 3000)
            return
        try:
            number = read_image_ink(classifier, image_ink(image), k)
        except (EmptyInputError, ModelOutputError, ValueError) as e:
            self._clear_answer(str(e))
            return
        self._present(number, image=True)

    def _present(self, number: NumberReading, image: bool = False) -> None:
        if not number.chars:
            return
        self._clear_problem()
        self.last_number = number
        self.answer.show_number(number)
        self.bars.set_stale(False)
        boxes = [(QRectF(c.box.x0, c.box.y0, c.box.width, c.box.height), c.label)
                 for c in number.chars]
        self.canvas.set_boxes(boxes if len(number.chars) > 1 or image else [], image=image)
        self.select_char(0)
        self._update_actions()

    def _clear_answer(self, hint: str) -> None:
        self.last_reading = self.last_number = None
        self.answer.show_hint(hint)
        self.bars.clear()
        self.preview.set_input(None)
        self.preview.hide()  # no empty placeholders while there is nothing to show
        self.preview_label.hide()
        self._update_actions()

    def _present_error(self, e: Exception) -> None:
        if isinstance(e, ModelOutputError):
            # Never a wrong answer shown as if right, never a dialog on every pen-up.
            self._show_problem(self.tr("No answer: the model's output is invalid"),
                               f"({str(e).split(': ', 1)[-1]})")
        else:
            self.statusBar().showMessage(str(e), 5000)

    def _show_problem(self, headline: str, detail: str) -> None:
        self._clear_answer(f"{headline}\n{detail}")
        self.canvas.set_boxes([])
        self.statusBar().showMessage(f"{headline} {detail}", 8000)
        self._problem_shown = True

    def _clear_problem(self) -> None:
        if self._problem_shown:
            self.statusBar().clearMessage()
            self._problem_shown = False

    def select_char(self, index: int) -> None:
        """Show one character's top-k and model input (the first, or the one clicked)."""
        if self.last_number is None or not 0 <= index < len(self.last_number.chars):
            return
        reading = self.last_number.chars[index].reading
        self.last_reading = reading
        self._selected = index
        self.bars.set_predictions(reading.top_k, reading.reject, reading.rejected)
        self.preview.set_input(reading.model_input)
        self.preview.show()
        self.preview_label.show()
        if self.answer.char_buttons:
            for i, b in enumerate(self.answer.char_buttons):
                b.setChecked(i == index)

    def _on_stroke_added(self) -> None:
        # Nothing to read here: inkChanged follows and reads the drawing, once.
        self._live_timer.stop()

    def _on_stroke_moved(self) -> None:
        # No new live reading while one is still running in the background: a reading
        # of a very long stroke would otherwise keep the worker (and the GIL) busy.
        if self.live_action.isChecked() and not self._live_timer.isActive() \
                and not self._reader.busy:
            self._live_timer.start()

    def _recognise_live(self) -> None:
        self._show(self.canvas.current_stroke_ink())

    def _on_ink_changed(self) -> None:
        self._update_actions()
        self._update_title()
        if self.canvas.ink.is_empty or self.live_action.isChecked():
            self.recognise()
        elif self.last_number is not None:
            # Live recognition is off: the answer describes an older drawing. Say so
            # rather than show it as if it were current.
            self.answer.set_stale(True, self.tr("The drawing changed: press Enter to "
                                                "recognise it"))
            self.bars.set_stale(True)


    def _toggle_live(self, checked: bool) -> None:
        self.settings.live = checked
        if checked:
            self.recognise()

    def _update_actions(self) -> None:
        h = self.canvas.history
        self.undo_action.setEnabled(h.can_undo)
        self.undo_button.setEnabled(h.can_undo)
        self.redo_action.setEnabled(h.can_redo)
        self.redo_button.setEnabled(h.can_redo)
        has_ink = not self.canvas.ink.is_empty
        self.clear_button.setEnabled(has_ink or self.canvas.image is not None)
        self.save_action.setEnabled(has_ink)
        self.save_as_action.setEnabled(has_ink)
        self.export_action.setEnabled(has_ink)
        self.copy_action.setEnabled(self.last_number is not None)
        self.correct_action.setEnabled(self.last_number is not None)
        self.recognise_button.setEnabled(self.classifier is not None)

    # --- learning the user's handwriting -------------------------------------------
    def correct_char(self, index: int | None = None) -> None:
        """Ask what a character of the answer really is ("That's a …"); the selected one
        unless ``index``."""
        number = self.last_number
        if number is None or self.classifier is None:
            self.statusBar().showMessage(self.tr("Nothing to correct: draw or open "
                                                 "something first"), 5000)
            return
        if not self.learning.can_learn:
            self.statusBar().showMessage(self.tr("This model cannot learn from corrections "
                                                 "(it has no features output)"), 8000)
            return
        index = self._selected if index is None else index
        if not 0 <= index < len(number.chars):
            return
        if index != self._selected:
            self.select_char(index)
        if self.correct_dialog is not None:
            self.correct_dialog.close()
        dialog = CorrectDialog(number.chars[index].reading, self.classifier.info.labels,
                               self.mode, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._corrected(number, index, dialog.chosen))
        dialog.finished.connect(lambda _r: self._forget_dialog(dialog))
        # Under the answer, where the eye already is, right edges lined up (it covers the
        # bars, which it repeats, not the drawing), and on the screen.
        anchor = self.answer.mapToGlobal(self.answer.rect().bottomRight())
        dialog.adjustSize()
        x, y = anchor.x() - dialog.width(), anchor.y() + 4
        screen = self.screen().availableGeometry()
        dialog.move(max(screen.left(), min(x, screen.right() - dialog.width())),
                    max(screen.top(), min(y, screen.bottom() - dialog.height())))
        self.correct_dialog = dialog
        dialog.open()

    def _forget_dialog(self, dialog: CorrectDialog) -> None:
        if self.correct_dialog is dialog:
            self.correct_dialog = None

    def _corrected(self, number: NumberReading, index: int, label: str | None) -> None:
        """Store the correction (and save the profile), then read again."""
        if label is None:
            return
        char = number.chars[index]
        try:
            self.learning.learn(char, label)
        except (AdaptError, ProfileError) as e:
            QMessageBox.warning(self, self.tr("Cannot learn it"), str(e))
            return
        what = noun(self.mode)
        said = (self.tr("not a {0}").format(what) if label == NOT_A_CHARACTER
                else self.tr("a {0}").format(label))
        if not self.learning.enabled:
            self.statusBar().showMessage(self.tr("Kept: that's {0}. Learning from your "
                                                 "corrections is off (Recognition menu)")
                                         .format(said), 8000)
            return
        self.recognise()
        now = self.last_number
        message = self.tr("Learned: that's {0}").format(said)
        if now is not None and now is not number and len(now.chars) == len(number.chars):
            got = now.chars[index].label
            want = "?" if label == NOT_A_CHARACTER else label
            if got != want:
                message += self.tr(" (the model is still sure of “{0}”: show it a few more "
                                   "like this)").format(got)
            self.select_char(index)
        self.statusBar().showMessage(message, 8000)

    def set_learning(self, enabled: bool) -> None:
        """Recognition → Learn from My Corrections: off reads with the model alone."""
        self.settings.learn = enabled
        self.learning.set_enabled(enabled)
        self.statusBar().showMessage(
            self.tr("Reading with your handwriting ({0} corrections)").format(len(self.learning))
            if enabled else self.tr("Reading with the model alone"), 5000)
        self.recognise()

    def ask_forget(self) -> bool:
        """Forget or Cancel, asked in a window-modal message box."""
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("Forget my handwriting"),
                          self.tr("Forget the {0} characters you corrected?").format(
                              len(self.learning)), QMessageBox.StandardButton.Cancel, self)
        box.setInformativeText(self.tr("They are deleted from this computer and the app "
                                       "reads with the model alone. This cannot be undone "
                                       "(unless you exported them)."))
        forget = box.addButton(self.tr("Forget"), QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setObjectName("forget-prompt")
        box.exec()
        return box.clickedButton() is forget

    def forget_handwriting(self) -> None:
        if not len(self.learning):
            self.statusBar().showMessage(self.tr("Nothing to forget: you have not corrected "
                                                 "any characters"), 5000)
            return
        if not self.ask_forget():
            return
        error = self.learning.forget()
        if error:
            QMessageBox.warning(self, self.tr("Cannot forget"), error)
        else:
            self.statusBar().showMessage(self.tr("Forgot your handwriting"), 5000)
        self.recognise()

    def export_profile(self) -> None:
        start = Path(self.settings.last_dir) / "handwriting-profile.json.gz"
        name, _ = QFileDialog.getSaveFileName(self, self.tr("Export Profile"), str(start),
                                              PROFILE_FILTER)
        if name:
            path = Path(name)
            self.export_profile_file(path if path.name.endswith(".gz")
                                     else path.with_name(path.name + ".json.gz"))

    def export_profile_file(self, path: Path) -> bool:
        try:
            self.learning.export(path)
        except ProfileError as e:
            QMessageBox.warning(self, self.tr("Cannot export the profile"), str(e))
            return False
        self.settings.last_dir = str(path.parent)
        self.statusBar().showMessage(self.tr("Exported {0} corrections to {1}").format(
            len(self.learning), path.name), 5000)
        return True

    def import_profile(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, self.tr("Import Profile"),
                                              self.settings.last_dir, PROFILE_FILTER)
        if name:
            self.import_profile_file(Path(name))

    def import_profile_file(self, path: Path) -> bool:
        """Add a profile file's corrections to the user's (re-read for this model)."""
        try:
            added = self.learning.import_(path)
        except ProfileError as e:
            QMessageBox.warning(self, self.tr("Cannot import the profile"),
                                f"{path.name}: {e}")
            return False
        self.settings.last_dir = str(path.parent)
        if self.recognizer is not None and self.classifier is not None:
            self.classifier = self._adapted(served(self.recognizer, self.mode), self.mode)
        self.statusBar().showMessage(self.tr("Imported {0} corrections from {1}").format(
            added, path.name), 8000)
        self.recognise()
        return True

    # --- settings -----------------------------------------------------------------
    def set_top_k(self, k: int) -> None:
        self.bars.set_k(k)
        self.settings.top_k = self.bars.k
        if self.top_k_spin.value() != self.bars.k:
            self.top_k_spin.setValue(self.bars.k)
        self.recognise()

    def set_pen_width(self, width: int) -> None:
        self.canvas.set_pen_width(width)
        self.settings.pen_width = width

    # --- document: title, modified, unsaved changes ------------------------------
    @property
    def is_modified(self) -> bool:
        """Ink drawn (or changed) since it was last opened, saved or started."""
        now, saved = self.canvas.ink.strokes, self._saved_ink.strokes
        # Strokes are immutable and shared by every state of the history: the same
        # strokes (by identity) are the same drawing, whichever Ink object holds them.
        return len(now) != len(saved) or any(a is not b for a, b in zip(now, saved,
                                                                         strict=True))

    def _update_title(self) -> None:
        name = self.file_path.name if self.file_path else self.tr("Untitled")
        self.setWindowTitle(f"{name}[*] — hwr-qt")
        self.setWindowModified(self.is_modified)

    def _mark_saved(self, path: Path | None) -> None:
        self.file_path = path
        self._saved_ink = self.canvas.ink
        self._update_title()

    def maybe_discard(self) -> bool:
        """True when the current ink may be replaced: it is saved, or the user said to
        save it (and that worked) or to discard it."""
        if not self.is_modified or self.canvas.ink.is_empty:
            return True
        answer = self.ask_unsaved()
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return bool(answer == QMessageBox.StandardButton.Discard)

    def ask_unsaved(self) -> QMessageBox.StandardButton:
        """Save, Discard or Cancel, asked in a window-modal message box."""
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("Unsaved drawing"),
                          self.tr("Save the changes to {0}?").format(
                              self.file_path.name if self.file_path else self.tr("Untitled")),
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self)
        box.setInformativeText(self.tr("Your drawing will be lost if you don't save it."))
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        box.setObjectName("unsaved-prompt")
        return QMessageBox.StandardButton(box.exec())

    def new_drawing(self) -> None:
        if not self.maybe_discard():
            return
        self.canvas.clear()
        self._mark_saved(None)

    # --- files --------------------------------------------------------------------
    def open_ink(self) -> None:
        if not self.maybe_discard():
            return
        name, _ = QFileDialog.getOpenFileName(self, self.tr("Open"), self.settings.last_dir,
                                              OPEN_FILTER)
        if name:
            self.open_path(Path(name), ask=False)

    def open_path(self, path: Path, ask: bool = True) -> bool:
        """Open an ink or image file (from the menu, recent files, a drop or the command
        line), after asking about unsaved ink when ``ask``."""
        if ask and not self.maybe_discard():
            return False
        if path.is_dir():
            QMessageBox.warning(self, self.tr("Cannot open"),
                                self.tr("{0} is a folder").format(path.name))
            return False
        if path.suffix.lower() in INK_SUFFIXES:
            return self.open_ink_file(path)
        return self.open_image_file(path)

    def open_ink_file(self, path: Path) -> bool:
        """Open an ink file; a big one is read in the background with a progress dialog
        (Cancel keeps the drawing as it was). Returns False if it failed at once."""
        try:
            big = os.stat(path).st_size > BIG_FILE_BYTES
        except OSError:
            big = False  # load_ink says why
        if big:
            self._open_in_background(path)
            return True
        try:
            ink = load_ink(path)
        except InkError as e:
            self._cannot_open(path, e)
            return False
        self._opened(path, ink)
        return True

    def _opened(self, path: Path, ink: Ink, image: QImage | None = None) -> None:
        self.settings.last_dir = str(path.parent)
        self.canvas.set_ink(ink, fitted=image is not None, image=image)
        self._mark_saved(path)
        self.settings.add_recent_file(str(path))
        self.statusBar().showMessage(self.tr("Opened {0}").format(path.name), 5000)

    def _cannot_open(self, path: Path, e: Exception) -> None:
        QMessageBox.warning(self, self.tr("Cannot open ink"), f"{path.name}: {e}")
        self.settings.remove_recent_file(str(path))

    def open_image_file(self, path: Path) -> bool:
        """Show an image on the canvas with its characters boxed; the side panel shows
        what the model saw for the selected one."""
        try:
            image = read_image(path)
        except ImageFileError as e:
            QMessageBox.warning(self, self.tr("Cannot open image"), f"{path.name}: {e}")
            self.settings.remove_recent_file(str(path))
            return False
        self.settings.last_dir = str(path.parent)
        self.canvas.clear()
        self.canvas.set_image(image)
        self._mark_saved(path)
        self.settings.add_recent_file(str(path))
        self.recognise()
        self.statusBar().showMessage(self.tr("Opened {0}").format(path.name), 5000)
        return True

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files
        for i, name in enumerate(files):
            action = self.recent_menu.addAction(f"&{i + 1} {Path(name).name}")
            action.setToolTip(name)
            action.triggered.connect(lambda _=False, n=name: self.open_path(Path(n)))
        if not files:
            self.recent_menu.addAction(self.tr("No recent files")).setEnabled(False)

    @property
    def opening(self) -> bool:
        return self._progress is not None

    def _open_in_background(self, path: Path) -> None:
        canvas = self.canvas
        width, height = canvas.width(), canvas.height()
        size, dpr = canvas.pixel_size(), canvas.devicePixelRatioF()
        pen = canvas.pen_width
        colour, paper = canvas.ink_colour(), canvas.paper_colour()

        def job(report: Callable[[float], bool]) -> tuple[Path, Ink, QImage]:
            # Loading, fitting and painting take about a third of the time each.
            ink = load_ink(path, lambda f: report(f / 3))
            with paused_gc():
                fitted = fit_to_canvas(ink, width, height, 0.8,
                                       lambda f: report((1 + f) / 3))
            image = render_image(fitted.strokes, size, dpr, pen, colour,
                                 lambda f: report((2 + f) / 3), paper)
            return path, fitted, image

        dialog = QProgressDialog(self.tr("Opening {0}…").format(path.name), self.tr("Cancel"),
                                 0, PROGRESS_STEPS, self)
        dialog.setWindowTitle(self.tr("Opening ink"))
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self.cancel_open)
        self._progress, self._opening_path = dialog, path
        self._loader.submit(job)
        dialog.setValue(0)
        dialog.show()

    def cancel_open(self) -> None:
        """Stop opening a big file; the drawing stays as it was."""
        self._loader.cancel()
        self._close_progress()
        self.statusBar().showMessage(self.tr("Opening cancelled; the drawing is unchanged"),
                                     5000)

    def _close_progress(self) -> None:
        if self._progress is not None:
            dialog, self._progress = self._progress, None
            dialog.canceled.disconnect(self.cancel_open)
            dialog.close()
            dialog.deleteLater()

    def _on_load_progress(self, token: int, fraction: float) -> None:
        if self._progress is not None and self._loader.is_current(token):
            self._progress.setValue(round(fraction * PROGRESS_STEPS))

    def _on_loaded(self, token: int, result: object, error: object) -> None:
        if not self._loader.is_current(token) or isinstance(error, LoadCancelled):
            return
        self._close_progress()
        if isinstance(error, InkError | MemoryError):
            self._cannot_open(self._opening_path, error)
            return
        if isinstance(error, BaseException):
            raise error
        assert isinstance(result, tuple)
        path, ink, image = result
        self._opened(path, ink, image)

    def save(self) -> bool:
        """Save to the ink file it came from, or ask where (Save As)."""
        if self.file_path is not None and self.file_path.suffix.lower() in INK_SUFFIXES:
            return self.save_ink_file(self.file_path)
        return self.save_ink()

    def save_ink(self) -> bool:
        start = self.file_path if self.file_path and self.file_path.suffix.lower() in \
            INK_SUFFIXES else Path(self.settings.last_dir) / "digit.json"
        name, _ = QFileDialog.getSaveFileName(self, self.tr("Save Ink"), str(start),
                                              INK_FILTER)
        return bool(name) and self.save_ink_file(Path(name))

    def save_ink_file(self, path: Path) -> bool:
        try:
            save_ink(self.canvas.ink, path)
        except OSError as e:
            QMessageBox.warning(self, self.tr("Cannot save ink"),
                                f"{path.name}: {e.strerror or e}")
            return False
        self.settings.last_dir = str(path.parent)
        self._mark_saved(path)
        self.settings.add_recent_file(str(path))
        self.statusBar().showMessage(self.tr("Saved {0}").format(path.name), 5000)
        return True

    def export_picture(self) -> None:
        base = self.file_path.stem if self.file_path else "drawing"
        name, chosen = QFileDialog.getSaveFileName(
            self, self.tr("Export Picture"), str(Path(self.settings.last_dir) / f"{base}.png"),
            EXPORT_FILTER)
        if name:
            path = Path(name)
            if not path.suffix:
                path = path.with_suffix(".svg" if "svg" in chosen.lower() else ".png")
            self.export_picture_file(path)

    def export_picture_file(self, path: Path) -> bool:
        """PNG or SVG by the file's suffix."""
        try:
            if path.suffix.lower() == ".svg":
                export_svg(self.canvas.ink, path, self.canvas.pen_width)
            else:
                export_png(self.canvas.ink, path, self.canvas.pen_width)
        except (OSError, ValueError) as e:
            QMessageBox.warning(self, self.tr("Cannot export"), f"{path.name}: {e}")
            return False
        self.statusBar().showMessage(self.tr("Exported {0}").format(path.name), 5000)
        return True

    # --- clipboard, drag and drop -----------------------------------------------------
    def answer_text(self) -> str:
        return self.last_number.text if self.last_number is not None else ""

    def copy_answer(self) -> None:
        text = self.answer_text()
        if not text:
            self.statusBar().showMessage(self.tr("Nothing recognised to copy"), 3000)
            return
        QGuiApplication.clipboard().setText(text)
        self.statusBar().showMessage(self.tr("Copied “{0}”").format(text), 3000)

    @staticmethod
    def _dropped_file(event: QDragEnterEvent | QDropEvent) -> Path | None:
        """The one local ink or image file being dragged, else None."""
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if len(urls) != 1 or not urls[0].isLocalFile():
            return None
        path = Path(urls[0].toLocalFile())
        kinds = INK_SUFFIXES | set(IMAGE_SUFFIXES)
        return path if path.suffix.lower() in kinds else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if self._dropped_file(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        path = self._dropped_file(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        # After the drop returns: a modal question inside a drop handler blocks the
        # source application's drag on some desktops.
        QTimer.singleShot(0, lambda: self.open_path(path))

    # --- about / close ------------------------------------------------------------
    def about_text(self) -> str:
        lines = [f"<h3>hwr-qt {__version__}</h3>",
                 "<p>Handwritten character recognition: PySide6 + ONNX Runtime.</p>"]
        if self.recognizer is None:
            lines.append("<p>No model loaded.</p>")
            return "".join(lines)
        meta = dict(self.recognizer.metadata)
        card_path = self.recognizer.path.with_suffix(".json")
        try:
            card = json.loads(card_path.read_text())
            meta.update(card.get("metadata", {}))
            params = f"{card['parameters']:,} parameters"
            minutes = f"{card['training']['wall_time_s'] / 60:.0f} min"
        except (OSError, ValueError, KeyError, TypeError):
            params = minutes = ""

        def pct(key: str) -> str:
            try:
                return f"{float(meta[key]):.2%}"
            except (KeyError, ValueError):
                return "?"

        def text(value: object) -> str:
            # Metadata is the model file's to choose: shown as text, never as markup.
            return html.escape(str(value)[:200])

        rows = [
            (self.tr("Mode"), self.tr(MODE_TITLES[self.mode])),
            (self.tr("Model"), text(self.recognizer.path.name)
             + f" ({len(self.recognizer.labels)} labels)"),
            (self.tr("Network"), text(meta.get("architecture", "?"))
             + (f", {params}" if params else "")),
            (self.tr("Training"), minutes or "?"),
            (self.tr("MNIST test accuracy"), pct("test_accuracy")),
            # The calibrated model's error only: "before → after" read as if the
            # calibration had made things worse whenever the two were within noise.
            (self.tr("Calibration"), self.tr("temperature {0:.2f}, ECE {1}").format(
                self.recognizer.temperature, pct("ece_test_after"))),
            (self.tr("Preprocessing"), f"v{text(meta.get('preprocessing_version', '?'))}"),
            (self.tr("Exported"), text(str(meta.get("date", "?")).split("T")[0])),
        ]
        table = "".join(f"<tr><td style='padding-right:12px'><b>{k}</b></td>"
                        f"<td style='white-space:nowrap'>{v}</td></tr>" for k, v in rows)
        lines.append(f"<table>{table}</table>")
        lines.append("<p>" + self.tr("Everything runs on this computer: nothing you draw or "
                                     "open is sent anywhere.") + "</p>")
        return "".join(lines)

    def show_about(self) -> None:
        QMessageBox.about(self, self.tr("About hwr-qt"), self.about_text())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.maybe_discard():
            event.ignore()
            return
        for worker in (self._reader, self._loader):
            worker.close()
        flush_saves()  # the last correction's profile write, if still under way
        self.settings.geometry = self.saveGeometry()
        self.settings.sync()
        super().closeEvent(event)
