"""Stands in for the platform's `database` module in the tests and the
benchmark: its `SessionLocal` over an in-memory SQLite database (one
connection shared by every session, as the platform's tests do)."""

from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.pool import StaticPool

engine = create_engine(
    "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
)
SessionLocal = sessionmaker(bind=engine, autoflush=False)


class Base(DeclarativeBase):
    pass
