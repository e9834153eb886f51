"""Real-pen benchmark: pen-drawn digits, numbers and letters from writers the model never
saw, read exactly as the GUI and ``hwr-qt recognize`` read a drawing.

Run ``python -m benchmarks.pen --help``. The data stays in ``$HWR_PEN_DIR``; only the code
that reads and composes it is here.
"""
