"""Migration 0004 (identity rules) on SQLite: down to 0003 and up again."""

from __future__ import annotations

from switchboard.db import make_engine, migrate


def test_migration_0004_goes_down_and_up_again(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """On SQLite (batch mode): the identity rules' columns and table come and go cleanly."""
    from alembic import command
    from sqlalchemy import inspect

    from switchboard.db import _alembic_config

    engine = make_engine(f"sqlite:///{tmp_path}/m.db")
    migrate(engine)
    cfg = _alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    assert "identity_failure" not in inspect(engine).get_table_names()
    assert "national_id_confirmed_hash" not in [c["name"] for c in
                                                inspect(engine).get_columns("member")]
    migrate(engine)
    assert "identity_failure" in inspect(engine).get_table_names()
    engine.dispose()
