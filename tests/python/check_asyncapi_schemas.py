"""Checks that the JSON Schemas of an AsyncAPI document describe the contract exactly:
every body of pkg/messages/testdata/contract/cases.json that is JSON is accepted by the
SampleReqMsg and SampleResMsg schemas (jsonschema, Draft 7 as AsyncAPI's Schema Object
is) exactly when the pydantic models accept it.

    python check_asyncapi_schemas.py ASYNCAPI_FILE
"""

import base64
import json
import sys
from pathlib import Path

import jsonschema

CASES = Path(__file__).resolve().parents[2] / "pkg/messages/testdata/contract/cases.json"


def main():
    doc = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    cases = json.loads(CASES.read_text(encoding="utf-8"))["cases"]
    checked, wrong = 0, []
    for model in ("SampleReqMsg", "SampleResMsg"):
        # The document itself is the root, so its #/components/... references resolve.
        schema = {**doc, "$ref": "#/components/schemas/" + model}
        validator = jsonschema.Draft7Validator(schema)
        for case in cases:
            body = case["body"].encode() if "body" in case else base64.b64decode(case["body_base64"])
            try:
                instance = json.loads(body)
            except ValueError:
                continue  # not JSON: no schema applies
            verdict = case["request" if model == "SampleReqMsg" else "response"]
            if "value_not_utf8" in verdict:
                continue  # a lone surrogate: not text a schema validator sees as JSON does
            valid = validator.is_valid(instance)
            checked += 1
            if valid != verdict["accepted"]:
                wrong.append(f"{model} {case['name']}: schema says {valid}, pydantic {verdict['accepted']}")
    print("\n".join(wrong) or f"{checked} verdicts: the AsyncAPI schemas agree with pydantic on every one")
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
