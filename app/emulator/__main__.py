"""Allow `python -m app.emulator`."""

from .cli import main

raise SystemExit(main())
