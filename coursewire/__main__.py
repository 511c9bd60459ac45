"""`python -m coursewire` is the `coursewire` command (coursewire/cli.py)."""

import sys

from coursewire.cli import main

sys.exit(main())
