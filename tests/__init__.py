"""Fieldhand tests (a package, so tests/emulator does not shadow the top-level emulator)."""
