"""A standalone emulator of Haltian's Thingsee Open Services REST API, for tests and sandboxes.

It follows shared/platform/thingsee-open-services.md and imports nothing from the Flask app.
"""
