"""``python -m codegen [--check]``: regenerate the Pydantic models, or fail when they are stale."""

import sys

from codegen.generate import main

sys.exit(main(sys.argv[1:]))
