// Package messages is the wire contract streamgate shares with the Python
// FastAPI + FastStream services: the Kafka topic and header names, and the
// JSON bodies carried on them.
//
// # Bodies
//
// A request ([SampleReqMsg]) is published to [TopicIn]:
//
//	{"correlation_id":"abc","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"}}
//
// A response ([SampleResMsg]) is published to [TopicOut] and adds a status:
//
//	{"correlation_id":"abc","data":{"message":"pong from subscriber","timestamp":"2026-11-27T10:00:00Z"},"status":"Completed"}
//
// Field names are snake_case, as the pydantic models on the Python side
// spell them. Both sides must be able to read what the other writes, so
// decoding follows pydantic's defaults:
//
//   - unknown fields are ignored, so either side may add fields first;
//   - a missing "status" decodes as [StatusReceived];
//   - keys match exactly (encoding/json alone would match them
//     case-insensitively, which pydantic does not).
//
// # Validation
//
// [DecodeRequest] and [DecodeResponse] are the only supported way to read a
// body: plain [encoding/json.Unmarshal] into these types neither validates
// nor applies defaults. They reject
//
//   - bytes that are not JSON, with an error matching [ErrInvalidJSON];
//   - JSON that breaks the contract, with a [*ValidationError] naming the
//     field ("correlation_id", "data", "data.message", "data.timestamp",
//     "status") and the reason.
//
// The rules: correlation_id is a non-empty string of at most
// [MaxCorrelationIDLength] characters; data is an object whose message is a
// string and whose timestamp is RFC 3339 text (see [ParseTimestamp] for the
// Python forms that are also accepted); status, when present, is one of the
// [Status] constants. [ValidateCorrelationID] applies the correlation_id
// rule to an id from elsewhere, such as a record header.
//
// [EncodeRequest] and [EncodeResponse] apply the same rules before writing,
// so a service never publishes a body its peers would reject.
package messages
