"""A real FastStream peer of the Go services, for tests/e2e/python_test.go and exactlyonce_test.go.

    python faststream_peer.py request --brokers B --topic T --reply-topic R --cases FILE --timeout S
        Publishes every body in FILE (a JSON list of {"name", "body_base64"}) to T the way
        FastStream's request/reply pattern does on Kafka: with a reply_to header naming R and
        a correlation_id header of its own. A FastStream subscriber on R, typed with the
        original SampleResMsg model, collects the replies and matches them to the requests
        by that header. Prints {"answered": {name: reply}, "missing": [name...]}.

    python faststream_peer.py subscribe --brokers B --in-topic I --out-topic O --ids A,B --timeout S
        Reads I and O from the start with FastStream subscribers typed with SampleReqMsg and
        SampleResMsg, until every id has been seen on both. Prints {"requests": {id: body},
        "replies": {id: body}, "missing": [...]}.

    python faststream_peer.py count --brokers B --topic T --partitions N --isolation L --timeout S
        Reads T from the start with a FastStream subscriber whose aiokafka consumer has
        isolation_level L (read_committed or read_uncommitted), until it has seen the end
        marker (header e2e=e2e-end-of-topic) the test wrote last to each of the N
        partitions. Prints {"counts": {key: replies with that key}, "missing_markers": n}.

FastStream's own KafkaBroker.request() refuses to run on a real broker ("Kafka doesn't
support `request` method without test client", faststream 0.5-0.7), so `request` is the
reply_to pattern it leaves to applications; a FastStream subscriber answers such a
request the same way the worker does.

Exits 1 when something is missing when the timeout ends.
"""

import argparse
import asyncio
import base64
import json
import logging
import sys
import uuid

from faststream.kafka import KafkaBroker, KafkaMessage

from streamgate_models import SampleReqMsg, SampleResMsg

# FastStream logs to stdout by default; stdout is for the result.
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
LOG = logging.getLogger("faststream_peer")


async def wait(done, timeout):
    """Waits for done, at most timeout seconds; what is missing then is reported."""
    try:
        await asyncio.wait_for(done.wait(), timeout)
    except asyncio.TimeoutError:
        pass


async def request(args):
    with open(args.cases, encoding="utf-8") as f:
        cases = json.load(f)
    broker = KafkaBroker(args.brokers, logger=LOG)
    pending = {}  # correlation_id header -> case name
    answered = {}
    done = asyncio.Event()

    @broker.subscriber(args.reply_topic, group_id="peer-" + uuid.uuid4().hex, auto_offset_reset="earliest")
    async def on_reply(body: SampleResMsg, msg: KafkaMessage):
        name = pending.pop(msg.correlation_id, None)
        if name is None:
            return
        answered[name] = {"body": body.model_dump(mode="json"), "correlation_id": msg.correlation_id}
        if not pending:
            done.set()

    await broker.start()
    try:
        for case in cases:
            correlation_id = str(uuid.uuid4())
            pending[correlation_id] = case["name"]
            await broker.publish(
                base64.b64decode(case["body_base64"]),
                args.topic,
                headers={"content-type": "application/json"},
                correlation_id=correlation_id,
                reply_to=args.reply_topic,
            )
        await wait(done, args.timeout)
    finally:
        await broker.stop()
    missing = sorted(pending.values())
    print(json.dumps({"answered": answered, "missing": missing}))
    return 1 if missing else 0


async def subscribe(args):
    want = set(args.ids.split(","))
    broker = KafkaBroker(args.brokers, logger=LOG)
    seen = {"requests": {}, "replies": {}}
    done = asyncio.Event()
    group = "peer-" + uuid.uuid4().hex

    def record(kind, body, msg):
        if body.correlation_id in want:
            seen[kind][body.correlation_id] = {
                "body": body.model_dump(mode="json"),
                "headers": {k: v for k, v in msg.headers.items()},
                "key": msg.raw_message.key.decode() if msg.raw_message.key is not None else None,
            }
        if all(len(seen[k]) == len(want) for k in seen):
            done.set()

    @broker.subscriber(args.in_topic, group_id=group + "-in", auto_offset_reset="earliest")
    async def on_request(body: SampleReqMsg, msg: KafkaMessage):
        record("requests", body, msg)

    @broker.subscriber(args.out_topic, group_id=group + "-out", auto_offset_reset="earliest")
    async def on_reply(body: SampleResMsg, msg: KafkaMessage):
        record("replies", body, msg)

    await broker.start()
    try:
        await wait(done, args.timeout)
    finally:
        await broker.stop()
    missing = sorted(f"{k}:{i}" for k in seen for i in want - seen[k].keys())
    print(json.dumps({**seen, "missing": missing}))
    return 1 if missing else 0


async def count(args):
    broker = KafkaBroker(args.brokers, logger=LOG)
    counts = {}
    ended = set()
    done = asyncio.Event()

    @broker.subscriber(args.topic, group_id="peer-" + uuid.uuid4().hex, auto_offset_reset="earliest",
                       isolation_level=args.isolation)
    async def on_record(msg: KafkaMessage):
        raw = msg.raw_message
        if dict(raw.headers or []).get("e2e") == b"e2e-end-of-topic":
            ended.add(raw.partition)
            if len(ended) == args.partitions:
                done.set()
            return
        key = raw.key.decode() if raw.key is not None else ""
        counts[key] = counts.get(key, 0) + 1

    await broker.start()
    try:
        await wait(done, args.timeout)
    finally:
        await broker.stop()
    missing = args.partitions - len(ended)
    print(json.dumps({"counts": counts, "missing_markers": missing}))
    return 1 if missing else 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("request")
    r.add_argument("--topic", required=True)
    r.add_argument("--reply-topic", required=True)
    r.add_argument("--cases", required=True)
    s = sub.add_parser("subscribe")
    s.add_argument("--in-topic", required=True)
    s.add_argument("--out-topic", required=True)
    s.add_argument("--ids", required=True)
    c = sub.add_parser("count")
    c.add_argument("--topic", required=True)
    c.add_argument("--partitions", type=int, required=True)
    c.add_argument("--isolation", choices=["read_committed", "read_uncommitted"], required=True)
    for x in (r, s, c):
        x.add_argument("--brokers", required=True)
        x.add_argument("--timeout", type=float, default=60)
    args = p.parse_args()
    commands = {"request": request, "subscribe": subscribe, "count": count}
    sys.exit(asyncio.run(commands[args.command](args)))


if __name__ == "__main__":
    main()
