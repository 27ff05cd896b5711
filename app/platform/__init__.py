"""The IoT platform behind a small interface; only the adapters know URL shapes."""
