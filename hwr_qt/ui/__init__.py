"""Qt widgets. They display and forward input; recognition lives outside (``pipeline``)."""
