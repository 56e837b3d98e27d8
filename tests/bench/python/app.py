"""The Python original, rebuilt from its integration guide (shared/seed) as the
benchmark's reference: FastAPI serves GET /v1/ping and publishes a SampleReqMsg to the
in-topic with FastStream; a FastStream subscriber in the same app answers each request
with a SampleResMsg on the out-topic. Run under uvicorn, as the original ships:

    PYTHONPATH=../../python FASTSTREAM_PROVIDER=127.0.0.1:9092 uvicorn app:app --workers 2

Settings: FASTSTREAM_PROVIDER, FASTSTREAM_ENABLE, APP_VERSION, KAFKA_IN_TOPIC,
KAFKA_OUT_TOPIC, KAFKA_GROUP_ID (the guide names no group; with several uvicorn workers
one group keeps each request to one reply), LOG_LEVEL.
"""

import contextlib
import contextvars
import datetime
import functools
import json
import logging
import os
import sys
import uuid

from fastapi import FastAPI, HTTPException, Request
from faststream.kafka import KafkaBroker, KafkaRouter
from pydantic import BaseModel

# The original's models, shared with the other Python peers (tests/python on PYTHONPATH).
from streamgate_models import MessageContent, MessageStatus, SampleReqMsg, SampleResMsg

PROVIDER = os.environ.get("FASTSTREAM_PROVIDER", "localhost:9092").removeprefix("kafka://")
ENABLED = os.environ.get("FASTSTREAM_ENABLE", "true").lower() == "true"
APP_VERSION = os.environ.get("APP_VERSION", "0.1.0")
IN_TOPIC = os.environ.get("KAFKA_IN_TOPIC", "in-topic")
OUT_TOPIC = os.environ.get("KAFKA_OUT_TOPIC", "out-topic")
GROUP_ID = os.environ.get("KAFKA_GROUP_ID", "faststream-subscriber")

correlation_id_ctx_var: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")


class JSONFormatter(logging.Formatter):
    """One JSON object per line, with the correlation ID, as the original logs."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "timestamp": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc).isoformat(),
            "correlation_id": correlation_id_ctx_var.get(),
            "level": record.levelname,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        return json.dumps(line)


handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(JSONFormatter())
logger = logging.getLogger("app")
logger.addHandler(handler)
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
logger.propagate = False


def log_faststream(func):
    """Logs every record a subscriber takes, with its topic and correlation ID."""

    @functools.wraps(func)
    async def wrapper(body: SampleReqMsg, *args, **kwargs):
        correlation_id_ctx_var.set(body.correlation_id)
        logger.info("Received message", extra={"fields": {"topic": IN_TOPIC, "operation": "subscribe", "status": "Received"}})
        return await func(body, *args, **kwargs)

    return wrapper


router = KafkaRouter()


@router.subscriber(IN_TOPIC, group_id=GROUP_ID, auto_offset_reset="earliest")
@router.publisher(OUT_TOPIC)
@log_faststream
async def task_handler(body: SampleReqMsg) -> SampleResMsg:
    logger.info("Logging from in-topic when receiving message", extra={"fields": {"topic": IN_TOPIC, "operation": "subscribe"}})
    return SampleResMsg(
        correlation_id=body.correlation_id,
        data=MessageContent(message="pong from subscriber", timestamp="2024-03-19T10:00:01Z"),
        status=MessageStatus.COMPLETED,
    )


broker = KafkaBroker(PROVIDER)
broker.include_router(router)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):
    if ENABLED:
        await broker.start()
    app.state.broker = broker
    yield
    if ENABLED:
        await broker.stop()


app = FastAPI(lifespan=lifespan)


@app.middleware("http")
async def correlation_id_middleware(request: Request, call_next):
    """Takes X-Correlation-ID or makes a UUID, and echoes it."""
    correlation_id = request.headers.get("X-Correlation-ID") or str(uuid.uuid4())
    correlation_id_ctx_var.set(correlation_id)
    response = await call_next(request)
    response.headers["X-Correlation-ID"] = correlation_id
    return response


async def publish_message(request: Request, message: BaseModel, topic: str) -> None:
    if not ENABLED:
        return
    await request.app.state.broker.publish(message, topic=topic, correlation_id=correlation_id_ctx_var.get())
    logger.info("Published message", extra={"fields": {"topic": topic, "operation": "publish", "status": "Received"}})


@app.get("/v1/ping")
async def ping(request: Request):
    correlation_id = correlation_id_ctx_var.get()
    message = SampleReqMsg(
        correlation_id=correlation_id,
        data=MessageContent(message="Send for in-topic", timestamp="2024-03-19T10:00:01Z"),
    )
    try:
        await publish_message(request, message, IN_TOPIC)
    except Exception as e:
        logger.error(f"Failed to publish message: {str(e)}")
        raise HTTPException(status_code=500, detail="Failed to process message")
    return {"version": APP_VERSION, "message": "pong"}
