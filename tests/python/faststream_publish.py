"""Publish one request to Kafka with a real FastStream publisher that traces.

FastStream's own KafkaTelemetryMiddleware starts a producer span and writes its W3C
traceparent into the record's headers, as a traced Python service would. The Go
end-to-end test drives this script and checks that the worker continues that trace.

    python faststream_publish.py BROKERS TOPIC CORRELATION_ID

prints one JSON line: {"trace_id": ..., "spans": {name: span_id}} of FastStream's
spans (it makes a "create" and a "publish" span, in one trace).
"""

import asyncio
import datetime
import json
import sys

from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


async def main(brokers: str, topic: str, correlation_id: str) -> None:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    broker = KafkaBroker(brokers, middlewares=[KafkaTelemetryMiddleware(tracer_provider=provider)])
    body = {
        "correlation_id": correlation_id,
        "data": {
            "message": "Send for in-topic",
            "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        },
    }
    async with broker:
        await broker.publish(
            body,
            topic=topic,
            key=correlation_id.encode(),
            headers={"correlation_id": correlation_id},
            correlation_id=correlation_id,
        )
    provider.shutdown()
    finished = spans.get_finished_spans()
    traces = {s.get_span_context().trace_id for s in finished}
    if len(traces) != 1:
        sys.exit(f"want FastStream's spans in one trace, got {[(s.name, s.context) for s in finished]}")
    print(json.dumps({
        "trace_id": f"{traces.pop():032x}",
        "spans": {s.name: f"{s.get_span_context().span_id:016x}" for s in finished},
    }))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    asyncio.run(main(*sys.argv[1:]))
