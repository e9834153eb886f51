"""Entry point: ``hwr-qt [FILE]`` (GUI), ``hwr-qt recognize PATH...`` or ``hwr-qt learn
...`` (command line)."""

from __future__ import annotations

import sys

from hwr_qt.privacy import disable_telemetry

# Before anything can import onnxruntime (the bundle runs this file as its entry point).
disable_telemetry()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("recognize", "recognise"):
        from hwr_qt.cli import main as cli_main

        return cli_main(argv)
    if argv and argv[0] == "learn":  # issue 10: teach the handwriting profile
        from hwr_qt.learn_cli import main as learn_main

        return learn_main(argv)
    from hwr_qt.app import run_gui

    return run_gui(argv)


if __name__ == "__main__":
    sys.exit(main())
