"""Entry point: ``hwr-qt`` (GUI) or ``hwr-qt recognize FILE...`` (command line)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("recognize", "recognise"):
        from hwr_qt.cli import main as cli_main

        return cli_main(argv)
    from hwr_qt.app import run_gui

    return run_gui(argv)


if __name__ == "__main__":
    sys.exit(main())
