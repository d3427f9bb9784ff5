"""Wiring: settings, database, app factory, CLI and the organisation-file loader."""
