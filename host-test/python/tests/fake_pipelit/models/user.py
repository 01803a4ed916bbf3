"""The platform's user model, reduced to what the tool reads."""

from sqlalchemy import Boolean, Column, Integer, String

from database import Base


class UserProfile(Base):
    __tablename__ = "user_profiles"
    id = Column(Integer, primary_key=True)
    username = Column(String, unique=True, nullable=False, index=True)
    #: Set on the users the platform creates for its agent nodes.
    is_agent = Column(Boolean, nullable=False, default=False)
    totp_secret = Column(String, nullable=True)
