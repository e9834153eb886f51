"""Drawn-ink benchmark: MNIST test digits turned into vector strokes, drawn the way people
draw on a screen, recognised by the app's pipeline and by the naive seed-style baseline.

Run ``python -m benchmarks.drawn_ink.run --help``. The generated data is never stored in
the repository: everything is rebuilt, seeded, from the MNIST test set.
"""
