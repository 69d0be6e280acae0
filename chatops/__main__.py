"""`python -m chatops` runs the chatops command."""

import sys

from chatops.entrypoints.cli import main

sys.exit(main())
