"""Hostile inputs through ``hwr-qt recognize``: ``python benchmarks/bench_hostile.py [--src DIR]``.

Generates each hostile input of issue 12 in a temporary folder, runs the CLI on it in a
fresh process and prints what a user sees: the exit code, the first lines of output, the
wall time and the peak memory (RSS, from wait4). A run is killed past ``--timeout`` seconds
or ``--max-rss`` MB. ``--src DIR --python PY`` runs the code in DIR instead (e.g. an
export of an older commit, to compare before and after; PY must not have this checkout
installed in editable mode, whose import hook would win over PYTHONPATH).
Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import hostile  # noqa: E402

GOOD = {"strokes": [[[0, 0], [0, 100]]]}
TWO = {"strokes": [[[0, 0], [0, 100]], [[80, 0], [80, 100]]]}


def rss_of(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_case(argv: list[bytes | str], env: dict, timeout: float, max_rss: int,
             no_dac: bool = False, env_extra: dict | None = None) -> dict:
    if no_dac and os.geteuid() == 0:
        # Root reads mode-000 files; without these capabilities it is refused like a user.
        argv = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *argv]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env={**env, **(env_extra or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    killed: list[str] = []

    def watchdog() -> None:
        while proc.poll() is None:
            if time.perf_counter() - start > timeout:
                killed.append(f"killed after {timeout:.0f} s")
                proc.kill()
            elif rss_of(proc.pid) > max_rss:
                killed.append(f"killed at {max_rss / 2**20:.0f} MB RSS")
                proc.kill()
            time.sleep(0.05)

    t = threading.Thread(target=watchdog, daemon=True)
    t.start()
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    t.join()
    return {"rc": proc.returncode, "wall_s": round(wall, 2),
            "peak_mb": round(usage.ru_maxrss / 1024), "killed": killed[0] if killed else "",
            "stdout": out.decode("utf-8", "replace").splitlines(),
            "stderr": err.decode("utf-8", "replace").splitlines()}


def cases(d: Path, svgz_mb: int) -> dict[str, tuple[list, dict]]:
    """name -> (arguments after ``python``, options)."""
    def ink(name: str, data: dict) -> str:
        p = d / name
        p.write_text(json.dumps(data))
        return str(p)

    good, two = ink("good.json", GOOD), ink("two.json", TWO)
    cli = ["-m", "hwr_qt", "recognize"]
    bad_name = os.fsencode(str(d)) + b"/caf\xe9.json"
    Path(os.fsdecode(bad_name)).write_text(json.dumps(GOOD))
    unreadable = d / "unreadable.png"
    unreadable.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    os.chmod(unreadable, 0o000)
    svg_text = d / "text.svg"
    svg_text.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
                        '<text x="10" y="60" font-size="50">7</text></svg>')
    models = {k: str(hostile.onnx_model(d / f"{k}.onnx", k))
              for k in ("batch1", "nan", "logits")}
    t0 = time.perf_counter()
    svgz = hostile.svgz_bomb(d / "bomb.svgz", svgz_mb)
    print(f"(svgz bomb: {svgz.stat().st_size / 2**20:.2f} MB on disk, {svgz_mb} MB inflated,"
          f" made in {time.perf_counter() - t0:.0f} s)")
    return {
        # PYTHONIOENCODING=utf-8: stdout strict as in a desktop's en_US.UTF-8 locale.
        "non-UTF-8 file name, then a good file": (
            [*cli, bad_name, good], {"env_extra": {"PYTHONIOENCODING": "utf-8"}}),
        "SVG <use> bomb (2 KB)": ([*cli, str(hostile.svg_use_bomb(d / "bomb.svg")), good], {}),
        f"svgz bomb ({svgz.stat().st_size // 1024} kB)": ([*cli, str(svgz), good], {}),
        "fixed-batch-1 model, two-digit ink": (
            [*cli, "--model", models["batch1"], good, two], {}),
        "NaN model": ([*cli, "--model", models["nan"], good], {}),
        "NaN model --json": ([*cli, "--json", "--model", models["nan"], good], {}),
        "logits model": ([*cli, "--model", models["logits"], good], {}),
        "unreadable file (mode 000)": ([*cli, str(unreadable), good], {"no_dac": True}),
        "/dev/zero": ([*cli, "/dev/zero", good], {}),
        "PNG with a bad CRC": ([*cli, str(hostile.png_bad_crc(d / "badcrc.png")), good], {}),
        "'recognise' alias": (["-m", "hwr_qt", "recognise", good], {}),
        "read_file(SVG with text), no QGuiApplication": (
            ["-c", "import sys; from hwr_qt.pipeline import read_file; "
             "from hwr_qt.recognizer import Recognizer; "
             "from hwr_qt.resources import default_model_path; "
             "print(read_file(Recognizer(default_model_path()), sys.argv[1]).text)",
             str(svg_text)], {}),
        "1M-point ink file": ([*cli, str(hostile.big_ink(d / "big.json"))], {}),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=ROOT, help="the hwr_qt source tree to run")
    ap.add_argument("--python", default=sys.executable, help="the interpreter to run it")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--max-rss", type=float, default=4096, help="MB")
    ap.add_argument("--svgz-mb", type=int, default=360, help="inflated size of the svgz bomb")
    ap.add_argument("--only", help="run only the cases whose name contains this text")
    args = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(args.src.resolve()))
    for k in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        env.pop(k, None)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with tempfile.TemporaryDirectory(prefix="hwr-hostile-") as tmp:
        todo: dict[str, tuple[list, dict]] = cases(Path(tmp), args.svgz_mb)
        for name, (argv, opts) in todo.items():
            if args.only and args.only not in name:
                continue
            r = run_case([args.python, *argv], env, args.timeout,
                         int(args.max_rss * 2**20), **opts)
            show: Callable[[list[str]], str] = lambda lines: " | ".join(  # noqa: E731
                line[:150] for line in lines[-3:])
            print(f"\n## {name}\n   exit {r['rc']}  {r['wall_s']} s  peak {r['peak_mb']} MB"
                  f"{'  ' + r['killed'] if r['killed'] else ''}"
                  f"\n   stdout ({len(r['stdout'])} lines): {show(r['stdout'])}"
                  f"\n   stderr ({len(r['stderr'])} lines): {show(r['stderr'])}", flush=True)


if __name__ == "__main__":
    main()
