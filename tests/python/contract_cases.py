"""Writes pkg/messages/testdata/contract/cases.json: bodies, and whether the
original pydantic models accept each one the way a FastStream subscriber reads
it (faststream's own decode_message, then SampleReqMsg / SampleResMsg).

    python contract_cases.py          # rewrite the file
    python contract_cases.py --check  # exit 1 if the file is not what this writes

The Go decoders are tested against the file (pkg/messages/contract_test.go):
every accepted body decodes to the values pydantic produced, every rejected one
fails. The golden and Python-written bodies in pkg/messages/testdata are cases
too, so what Go writes is checked against pydantic as well.
"""

import base64
import json
import sys
from pathlib import Path
from types import SimpleNamespace

from importlib.metadata import version
import pydantic
from faststream.message import decode_message

from streamgate_models import SampleReqMsg, SampleResMsg

ROOT = Path(__file__).resolve().parents[2]
TESTDATA = ROOT / "pkg" / "messages" / "testdata"
OUT = TESTDATA / "contract" / "cases.json"

TS = "2026-11-27T10:00:00Z"
DATA = '{"message":"ping","timestamp":"%s"}' % TS


def env(cid='"abc"', data=DATA, extra=""):
    return ('{"correlation_id":%s,"data":%s%s}' % (cid, data, extra)).encode()


CASES = {
    # the shape every peer writes
    "minimal": b'{"correlation_id":"abc"}',
    "full": env(),
    # data: Optional[MessageContent] = None
    "data missing": b'{"correlation_id":"abc"}',
    "data null": env(data="null"),
    "data empty object": env(data="{}"),
    "data array": env(data="[]"),
    "data string": env(data='"ping"'),
    "data number": env(data="1"),
    # message: str
    "message missing": env(data='{"timestamp":"%s"}' % TS),
    "message null": env(data='{"message":null}'),
    "message empty": env(data='{"message":""}'),
    "message number": env(data='{"message":1}'),
    "message bool": env(data='{"message":true}'),
    "message object": env(data='{"message":{}}'),
    "message escapes": env(data=r'{"message":"caf\u00e9 \ud83d\ude80 \"q\" \\ \/ \n"}'),
    # timestamp: Optional[str] = None
    "timestamp missing": env(data='{"message":"ping"}'),
    "timestamp null": env(data='{"message":"ping","timestamp":null}'),
    "timestamp not RFC 3339": env(data='{"message":"ping","timestamp":"yesterday"}'),
    "timestamp empty": env(data='{"message":"ping","timestamp":""}'),
    "timestamp out of range": env(data='{"message":"ping","timestamp":"2026-02-30T10:00:00Z"}'),
    "timestamp python str()": env(data='{"message":"ping","timestamp":"2024-05-01 12:00:00"}'),
    "timestamp number": env(data='{"message":"ping","timestamp":1732700000}'),
    "timestamp bool": env(data='{"message":"ping","timestamp":false}'),
    # correlation_id: str
    "correlation_id missing": b'{"data":null}',
    "correlation_id null": env(cid="null"),
    "correlation_id empty": env(cid='""'),
    "correlation_id 128 chars": env(cid='"%s"' % ("a" * 128)),
    "correlation_id 129 chars": env(cid='"%s"' % ("a" * 129)),
    "correlation_id 4096 chars": env(cid='"%s"' % ("x" * 4096)),
    "correlation_id unicode": env(cid='"caf\u00e9-\U0001f680"'),
    "correlation_id control chars": env(cid=r'"a b\n\t\u0000"'),
    "correlation_id number": env(cid="123"),
    "correlation_id float": env(cid="1.5"),
    "correlation_id bool": env(cid="true"),
    "correlation_id array": env(cid='["abc"]'),
    "correlation_id object": env(cid='{"id":"abc"}'),
    # unknown fields are ignored, whatever they hold
    "unknown top-level fields": env(extra=',"extra":1,"nested":{"a":[1,2,{"b":null}]},"s":"x"'),
    "unknown data fields": env(data='{"message":"ping","timestamp":null,"priority":5}'),
    "unknown huge number": env(extra=',"n":1e400,"i":123456789012345678901234567890'),
    "unknown deep nesting": env(extra=',"deep":' + "[" * 100 + "]" * 100),
    # names match exactly
    "case: Correlation_id": b'{"Correlation_id":"abc"}',
    "case: CORRELATION_ID": b'{"CORRELATION_ID":"abc","correlation_id":"def"}',
    "case: Data": b'{"correlation_id":"abc","Data":{"message":1}}',
    "case: Message": env(data='{"Message":"ping"}'),
    "case: Timestamp": env(data='{"message":"ping","Timestamp":5}'),
    "case: Status": env(extra=',"Status":"Bogus"'),
    "escaped name": b'{"correlation\\u005fid":"abc"}',
    # duplicate names: the last one counts, earlier ones are not checked
    "duplicate correlation_id, last wrong": b'{"correlation_id":"a","correlation_id":1}',
    "duplicate correlation_id, first wrong": b'{"correlation_id":1,"correlation_id":"a"}',
    "duplicate data replaces": env(extra=',"data":{"message":"second"}'),
    "duplicate data, last null": env(extra=',"data":null'),
    "duplicate data, first wrong": b'{"correlation_id":"a","data":5,"data":{"message":"m"}}',
    "duplicate message": env(data='{"message":1,"message":"two"}'),
    "duplicate status": env(extra=',"status":"Bogus","status":"Failed"'),
    # status: MessageStatus = "Received"
    "status missing": env(),
    **{"status " + s: env(extra=',"status":"%s"' % s) for s in (
        "Received", "Processing", "Completed", "Failed", "Retrying", "Cancelled", "Partially")},
    "status lower case": env(extra=',"status":"completed"'),
    "status upper case": env(extra=',"status":"COMPLETED"'),
    "status unknown": env(extra=',"status":"Done"'),
    "status empty": env(extra=',"status":""'),
    "status null": env(extra=',"status":null'),
    "status number": env(extra=',"status":1'),
    # not a JSON object
    "empty body": b"",
    "whitespace only": b"  \n",
    "truncated": b'{"correlation_id":"abc"',
    "trailing data": b'{"correlation_id":"abc"} x',
    "two objects": b'{"correlation_id":"a"}{"correlation_id":"b"}',
    "top-level null": b"null",
    "top-level array": b'[{"correlation_id":"abc"}]',
    "top-level string": b'"abc"',
    "top-level number": b"5",
    "single quotes": b"{'correlation_id':'abc'}",
    "trailing comma": b'{"correlation_id":"abc",}',
    "surrounding whitespace": b' \n\t{"correlation_id":"abc"}\r\n ',
    # bytes that are not UTF-8
    "invalid UTF-8 in correlation_id": b'{"correlation_id":"a\xff"}',
    "invalid UTF-8 in message": b'{"correlation_id":"a","data":{"message":"caf\xe9"}}',
    "invalid UTF-8 in unknown field": b'{"correlation_id":"a","x":"\xff"}',
    "overlong UTF-8": b'{"correlation_id":"\xc0\xaf"}',
    "UTF-8 encoded surrogate": b'{"correlation_id":"\xed\xa0\x80"}',
    # what Python's json module reads but Go's JSON readers do not (see
    # deviations in contract_test.go)
    "NaN in unknown field": b'{"correlation_id":"a","x":NaN,"y":-Infinity}',
    "UTF-8 byte order mark": b'\xef\xbb\xbf{"correlation_id":"abc"}',
    "UTF-16 body": '{"correlation_id":"abc"}'.encode("utf-16"),
    "lone surrogate escape": b'{"correlation_id":"\\ud800"}',
}


def verdict(model, body):
    """What a FastStream subscriber whose body parameter is `model` makes of body."""
    msg = SimpleNamespace(body=body, content_type="application/json")
    try:
        value = model.model_validate(decode_message(msg))
    except (ValueError, RecursionError) as e:  # JSONDecodeError, UnicodeDecodeError, ValidationError
        first = e.errors()[0] if isinstance(e, pydantic.ValidationError) else None
        reason = (".".join(map(str, first["loc"])) + ": " + first["msg"]) if first else type(e).__name__
        return {"accepted": False, "error": reason}
    dumped = value.model_dump(mode="json")
    try:
        json.dumps(dumped, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate from a \\ud800 escape: Python's str holds it, UTF-8 cannot.
        return {"accepted": True, "value_not_utf8": True}
    return {"accepted": True, "value": dumped}


def case(name, body):
    c = {"name": name}
    try:
        c["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if "body" not in c or c["body"].encode("utf-8") != body:
        c["body_base64"] = base64.b64encode(body).decode()
        c.pop("body", None)
    c["request"] = verdict(SampleReqMsg, body)
    c["response"] = verdict(SampleResMsg, body)
    return c


def render():
    cases = [case(name, body) for name, body in CASES.items()]
    for path in sorted(TESTDATA.glob("golden/*.json")) + sorted(TESTDATA.glob("python/*.json")):
        cases.append(case("file " + path.relative_to(TESTDATA).as_posix(), path.read_bytes()))
    doc = {
        "generated_by": "tests/python/contract_cases.py",
        "faststream": version("faststream"),
        "pydantic": version("pydantic"),
        "cases": cases,
    }
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def main():
    text = render()
    if sys.argv[1:] == ["--check"]:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT.relative_to(ROOT)} is stale: run `make contract` and commit it", file=sys.stderr)
            sys.exit(1)
        print(f"{OUT.relative_to(ROOT)}: up to date")
        return
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
