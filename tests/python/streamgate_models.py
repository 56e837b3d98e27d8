"""The wire contract as the Python original defines it (shared/seed/).

Copied from the FastAPI + FastStream boilerplate's guide; the only change is
spelling the generic base class the Python 3.11 way (Generic[T] rather than
PEP 695's class MsgBaseModel[T]). MessageStatus is the enum whose values
travel on the wire.
"""

from enum import Enum
from typing import Generic, Optional, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class MessageStatus(str, Enum):
    RECEIVED = "Received"
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    FAILED = "Failed"
    RETRYING = "Retrying"
    CANCELLED = "Cancelled"
    PARTIALLY = "Partially"


class MsgBaseModel(BaseModel, Generic[T]):
    correlation_id: str
    data: Optional[T] = None


class MessageContent(BaseModel):
    message: str
    timestamp: Optional[str] = None


class SampleReqMsg(MsgBaseModel[MessageContent]):
    data: Optional[MessageContent] = None


class SampleResMsg(MsgBaseModel[MessageContent]):
    data: Optional[MessageContent] = None
    status: MessageStatus = Field(default=MessageStatus.RECEIVED)
