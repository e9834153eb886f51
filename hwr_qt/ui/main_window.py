"""The main window: canvas on the left, the answer, top-k bars and model input on the right."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QColor, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hwr_qt import __version__
from hwr_qt.ink import Ink, InkError, LoadCancelled, load_ink, paused_gc, save_ink
from hwr_qt.pipeline import NumberReading, Reading, check_readable, read_number
from hwr_qt.preprocess import EmptyInputError
from hwr_qt.recognizer import ModelError, ModelOutputError, Recognizer
from hwr_qt.ui.background import LatestOnly
from hwr_qt.ui.canvas import INK_COLOUR, InkCanvas, fit_to_canvas, render_image
from hwr_qt.ui.preview import ModelInputPreview
from hwr_qt.ui.settings import LIMITS, Settings
from hwr_qt.ui.topk import AnswerView, TopKBars

LIVE_INTERVAL_MS = 120  # recognition at most ~8x a second while the pen moves
# Read in the GUI thread only what surely takes less than a frame (a digit or two takes
# ~2 ms); anything bigger is read in the background and a newer drawing overtakes it.
INLINE_STROKES = 4
INLINE_POINTS = 2_000
BIG_FILE_BYTES = 512 * 1024  # opened in the background, with progress and Cancel
PROGRESS_STEPS = 1000
INK_FILTER = "Ink files (*.json *.ink);;All files (*)"


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, model_path: Path | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.recognizer: Recognizer | None = None
        self.last_reading: Reading | None = None  # the selected (or only) character
        self.last_number: NumberReading | None = None
        self.setWindowTitle("hwr-qt")

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

        geometry = settings.geometry
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(780, 520)
        if model_path is not None:
            self.load_model(model_path)
        self._update_actions()

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
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the canvas shortcuts

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
        side.addWidget(QLabel(self.tr("Model input:")))
        side.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignHCenter)
        side.addStretch(1)
        side.addLayout(form)
        side.addWidget(self.recognise_button)
        side.addLayout(buttons)
        panel = QWidget()
        panel.setLayout(side)
        panel.setFixedWidth(260)

        central = QWidget()
        row = QHBoxLayout(central)
        row.addWidget(self.canvas, 1)
        row.addWidget(panel)
        self.setCentralWidget(central)
        self.statusBar()

    def _action(self, text: str, slot, shortcuts=()) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        # Window-wide, so the shortcuts work whichever child has focus.
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        std = QKeySequence.StandardKey
        self.open_action = self._action(self.tr("&Open Ink…"), self.open_ink, [std.Open])
        self.save_action = self._action(self.tr("&Save Ink As…"), self.save_ink, [std.Save])
        self.model_action = self._action(self.tr("Load &Model…"), self.choose_model)
        self.quit_action = self._action(self.tr("&Quit"), self.close, ["Ctrl+Q"])
        self.undo_action = self._action(self.tr("&Undo"), self.canvas.undo, [std.Undo])
        self.redo_action = self._action(self.tr("&Redo"), self.canvas.redo,
                                        ["Ctrl+Shift+Z", "Ctrl+Y"])
        self.clear_action = self._action(self.tr("&Clear"), self.canvas.clear,
                                         ["Esc", "Delete"])
        self.recognise_action = self._action(self.tr("R&ecognise"), self.recognise,
                                             ["Return", "Enter"])
        self.live_action = self._action(self.tr("&Live Recognition"), self._toggle_live)
        self.live_action.setCheckable(True)
        self.live_action.setChecked(self.settings.live)
        self.about_action = self._action(self.tr("&About hwr-qt"), self.show_about)

        bar = self.menuBar()
        file_menu = bar.addMenu(self.tr("&File"))
        for a in (self.open_action, self.save_action, self.model_action):
            file_menu.addAction(a)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu(self.tr("&Edit"))
        for a in (self.undo_action, self.redo_action, self.clear_action):
            edit_menu.addAction(a)
        recog_menu = bar.addMenu(self.tr("&Recognition"))
        recog_menu.addAction(self.recognise_action)
        recog_menu.addAction(self.live_action)
        bar.addMenu(self.tr("&Help")).addAction(self.about_action)

    # --- model --------------------------------------------------------------------
    def load_model(self, path: Path) -> bool:
        try:
            self.recognizer = Recognizer(path)
        except ModelError as e:
            self.recognizer = None
            self.answer.show_hint(self.tr("No model loaded: recognition is off"))
            self.statusBar().showMessage(str(e))
            QMessageBox.critical(self, self.tr("Cannot load the model"),
                                 self.tr("{0}\n\nYou can keep drawing and saving ink; use "
                                         "File → Load Model… to choose another model.")
                                 .format(e))
            return False
        self.statusBar().showMessage(self.tr("Model: {0}").format(path.name), 5000)
        self._update_actions()
        self.recognise()
        return True

    def choose_model(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, self.tr("Load Model"), self.settings.last_dir,
                                              "ONNX models (*.onnx);;All files (*)")
        if name:
            self.load_model(Path(name))

    # --- recognition --------------------------------------------------------------
    def recognise(self) -> None:
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
            self.last_reading = self.last_number = None
            self.answer.show_hint(self.tr("Draw a digit") if self.recognizer else
                                  self.tr("No model loaded: recognition is off"))
            self.bars.clear()
            self.preview.set_input(None)
            return
        if self.recognizer is None:
            return
        try:
            check_readable(ink)
        except InkError as e:
            self._show_problem(str(e)[0].upper() + str(e)[1:] + ".",
                               self.tr("Undo or clear to read again."))
            return
        recognizer, k = self.recognizer, self.bars.k
        if len(ink.strokes) <= INLINE_STROKES and ink.point_count <= INLINE_POINTS:
            try:
                self._present(read_number(recognizer, ink, k))
            except (EmptyInputError, InkError, ModelOutputError) as e:
                self._present_error(e)
            return
        self._reader.submit(lambda _report: read_number(recognizer, ink, k))

    def _on_read(self, token: int, number: object, error: object) -> None:
        if not self._reader.is_current(token):
            return  # overtaken by a newer drawing
        if isinstance(error, EmptyInputError | InkError | ModelOutputError):
            self._present_error(error)
        elif isinstance(error, BaseException):
            raise error  # a bug: the excepthook reports it, the drawing stays
        elif isinstance(number, NumberReading):
            self._present(number)

    def _present(self, number: NumberReading) -> None:
        if not number.chars:
            return
        self._clear_problem()
        self.last_number = number
        self.answer.show_number(number)
        self.canvas.set_boxes([(QRectF(c.box.x0, c.box.y0, c.box.width, c.box.height),
                                c.label) for c in number.chars] if len(number.chars) > 1
                              else [])
        self.select_char(0)

    def _present_error(self, e: Exception) -> None:
        if isinstance(e, ModelOutputError):
            # Never a wrong answer shown as if right, never a dialog on every pen-up.
            self._show_problem(self.tr("No answer: the model's output is invalid"),
                               f"({str(e).split(': ', 1)[-1]})")
        else:
            self.statusBar().showMessage(str(e), 5000)

    def _show_problem(self, headline: str, detail: str) -> None:
        self.last_reading = self.last_number = None
        self.answer.show_hint(f"{headline}\n{detail}")
        self.bars.clear()
        self.preview.set_input(None)
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
        self.bars.set_predictions(reading.top_k)
        self.preview.set_input(reading.model_input)
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
        if self.canvas.ink.is_empty or self.live_action.isChecked():
            self.recognise()

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
        self.clear_button.setEnabled(has_ink)
        self.save_action.setEnabled(has_ink)
        self.recognise_button.setEnabled(self.recognizer is not None)

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

    # --- files --------------------------------------------------------------------
    def open_ink(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, self.tr("Open Ink"), self.settings.last_dir,
                                              INK_FILTER)
        if name:
            self.open_ink_file(Path(name))

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
        self.settings.last_dir = str(path.parent)
        self.canvas.set_ink(ink)
        self.statusBar().showMessage(self.tr("Opened {0}").format(path.name), 5000)
        return True

    def _cannot_open(self, path: Path, e: Exception) -> None:
        QMessageBox.warning(self, self.tr("Cannot open ink"), f"{path.name}: {e}")

    @property
    def opening(self) -> bool:
        return self._progress is not None

    def _open_in_background(self, path: Path) -> None:
        canvas = self.canvas
        width, height = canvas.width(), canvas.height()
        size, dpr = canvas.pixel_size(), canvas.devicePixelRatioF()
        pen = canvas.pen_width

        def job(report):
            # Loading, fitting and painting take about a third of the time each.
            ink = load_ink(path, lambda f: report(f / 3))
            with paused_gc():
                fitted = fit_to_canvas(ink, width, height, 0.8,
                                       lambda f: report((1 + f) / 3))
            image = render_image(fitted.strokes, size, dpr, pen, QColor(INK_COLOUR),
                                 lambda f: report((2 + f) / 3))
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
        self.settings.last_dir = str(path.parent)
        self.canvas.set_ink(ink, fitted=True, image=image)
        self.statusBar().showMessage(self.tr("Opened {0}").format(path.name), 5000)

    def save_ink(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, self.tr("Save Ink"),
                                              str(Path(self.settings.last_dir) / "digit.json"),
                                              INK_FILTER)
        if name:
            self.save_ink_file(Path(name))

    def save_ink_file(self, path: Path) -> bool:
        try:
            save_ink(self.canvas.ink, path)
        except OSError as e:
            QMessageBox.warning(self, self.tr("Cannot save ink"),
                                f"{path.name}: {e.strerror or e}")
            return False
        self.settings.last_dir = str(path.parent)
        self.statusBar().showMessage(self.tr("Saved {0}").format(path.name), 5000)
        return True

    # --- about / close ------------------------------------------------------------
    def about_text(self) -> str:
        lines = [f"<h3>hwr-qt {__version__}</h3>",
                 "<p>Handwritten digit recognition: PySide6 + ONNX Runtime.</p>"]
        if self.recognizer is None:
            lines.append("<p>No model loaded.</p>")
            return "".join(lines)
        meta = dict(self.recognizer.metadata)
        card_path = self.recognizer.path.with_suffix(".json")
        try:
            card = json.loads(card_path.read_text())
            meta.update(card.get("metadata", {}))
            params = f"{card['parameters']:,} parameters, "
            minutes = f"trained in {card['training']['wall_time_s'] / 60:.0f} min"
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

        lines.append(
            f"<p><b>Model:</b> {text(self.recognizer.path.name)} "
            f"({text(meta.get('architecture', '?'))}; "
            f"{text(params)}{text(minutes)})<br><b>MNIST test accuracy:</b> "
            f"{pct('test_accuracy')}"
            f"<br><b>Calibration:</b> temperature {self.recognizer.temperature:.2f}, "
            f"ECE {pct('ece_test_before')} → {pct('ece_test_after')}"
            f"<br><b>Preprocessing:</b> v{text(meta.get('preprocessing_version', '?'))}"
            f"<br><b>Exported:</b> {text(meta.get('date', '?'))}</p>")
        return "".join(lines)

    def show_about(self) -> None:
        QMessageBox.about(self, self.tr("About hwr-qt"), self.about_text())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        for worker in (self._reader, self._loader):
            worker.close()
        self.settings.geometry = self.saveGeometry()
        self.settings.sync()
        super().closeEvent(event)
