"""Alembic environment: runs with the URL the gateway passes in (see gateway.store.migrate)."""

from alembic import context
from sqlalchemy import create_engine, pool

import gateway.flow.models  # noqa: F401  (registers its tables)
import gateway.store.models_alerts  # noqa: F401
import gateway.store.models_api  # noqa: F401
import gateway.store.models_delivery  # noqa: F401
import gateway.store.models_onboarding  # noqa: F401
import gateway.store.models_outbound  # noqa: F401
import gateway.store.models_transport  # noqa: F401
import gateway.store.models_users  # noqa: F401
from gateway.store.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
