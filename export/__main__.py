import sys

from export.onnx_export import main

sys.exit(main())
