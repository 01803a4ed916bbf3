"""The platform's `models.workflow`, reduced to what the tool reads: the
workflow and its slug, by integer id. Its edges are in `models.node`, as
on the platform."""

from sqlalchemy import Column, Integer, String

from database import Base


class Workflow(Base):
    __tablename__ = "workflows"
    id = Column(Integer, primary_key=True)
    slug = Column(String, nullable=True)

