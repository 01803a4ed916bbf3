"""The platform's workflow graph models, reduced to what the tool reads:
integer workflow ids, string node ids."""

from sqlalchemy import Column, ForeignKey, Integer, String

from database import Base


class Workflow(Base):
    __tablename__ = "workflows"
    id = Column(Integer, primary_key=True)
    slug = Column(String, nullable=True)


class WorkflowEdge(Base):
    __tablename__ = "workflow_edges"
    id = Column(Integer, primary_key=True)
    workflow_id = Column(Integer, ForeignKey("workflows.id"), nullable=False, index=True)
    source_node_id = Column(String, nullable=False)
    target_node_id = Column(String, nullable=False)
    edge_label = Column(String, nullable=False, default="")
