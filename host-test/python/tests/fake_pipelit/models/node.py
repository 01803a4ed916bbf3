"""The platform's `models.node`, reduced to what the tool reads: the edges
of the workflow graph (string node ids, a label per edge). The platform
defines `WorkflowEdge` here, not in `models.workflow`."""

from sqlalchemy import Column, ForeignKey, Integer, String

from database import Base


class WorkflowEdge(Base):
    __tablename__ = "workflow_edges"
    id = Column(Integer, primary_key=True)
    workflow_id = Column(Integer, ForeignKey("workflows.id"), nullable=False, index=True)
    source_node_id = Column(String, nullable=False)
    target_node_id = Column(String, nullable=False)
    edge_label = Column(String, nullable=False, default="")
