"""Nothing leaves the machine: switch off ONNX Runtime's telemetry before it loads.

onnxruntime (1.2x+) writes a device id and an event database under
``~/.cache/Microsoft/DeveloperTools/.onnxruntime`` when it is imported, and its 1DS
telemetry can post events to Microsoft. ``ORT_DISABLE_TELEMETRY=1`` turns both off, but
only if it is set before the library is loaded, so the package sets it on import (every
entry point, the CLI, the GUI and the bundle, imports ``hwr_qt`` before onnxruntime).
"""

from __future__ import annotations

import os

TELEMETRY_ENV = "ORT_DISABLE_TELEMETRY"


def disable_telemetry() -> None:
    """Set the switch for this process and its children, overriding any opt-in."""
    os.environ[TELEMETRY_ENV] = "1"

