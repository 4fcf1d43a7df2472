"""The policy engine: pure calculations over frozen dataclasses, no database access."""
