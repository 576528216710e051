"""Developer tools run by `make lint` and the tests (not shipped with the bot)."""
