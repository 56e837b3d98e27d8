package messages

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// DecodeRequest decodes a request body as the Python SampleReqMsg model reads
// it. The error matches [ErrInvalidJSON] if b is not JSON and is a
// [*ValidationError] if the model would reject it.
func DecodeRequest(b []byte) (SampleReqMsg, error) {
	w, err := readBody(b)
	if err != nil {
		return SampleReqMsg{}, err
	}
	return w.envelope()
}

// DecodeResponse decodes a response body as the Python SampleResMsg model
// reads it; a missing status decodes as [DefaultStatus]. The error matches
// [ErrInvalidJSON] if b is not JSON and is a [*ValidationError] if the model
// would reject it.
func DecodeResponse(b []byte) (SampleResMsg, error) {
	w, err := readBody(b)
	if err != nil {
		return SampleResMsg{}, err
	}
	return w.response()
}

// response applies the rules of a response's fields.
func (w *wireBody) response() (SampleResMsg, error) {
	env, err := w.envelope()
	if err != nil {
		return SampleResMsg{}, err
	}
	status := DefaultStatus
	switch w.status.kind {
	case absent:
	case '"':
		if status = Status(w.status.text); !status.Valid() {
			return SampleResMsg{}, validateStatus(status)
		}
	default:
		return SampleResMsg{}, invalid("status", "must be one of "+statusList()+", got "+kindName(w.status.kind))
	}
	return SampleResMsg{Envelope: env, Status: status}, nil
}

// readBody reads b with the fast path, or with unmarshal when the fast path
// does not handle b.
func readBody(b []byte) (wireBody, error) {
	var w wireBody
	if fastUnmarshal(b, &w) {
		return w, nil
	}
	return unmarshalBody(b)
}

// unmarshalBody is unmarshal into a body of its own, which escapes to the heap
// (readObject takes it as an interface): the fast path's body stays on the stack.
func unmarshalBody(b []byte) (wireBody, error) {
	var w wireBody
	err := unmarshal(b, &w)
	return w, err
}

// The library's defaults are the contract's: names match exactly, invalid
// UTF-8 is an error and unknown members are skipped. Duplicate names are let
// through because Python's json module keeps the last one, as wireBody does.
var decodeOptions = jsontext.AllowDuplicateNames(true)

// utf8BOM is ignored before a body, as Python's json.loads ignores it
// (RFC 8259 allows either).
var utf8BOM = []byte("\xef\xbb\xbf")

// unmarshal reads b into w; its only errors are about the JSON itself, as the
// model's rules apply afterwards. It drives a pooled decoder itself, as
// json.Unmarshal would (one value, then nothing but whitespace), without
// json.Unmarshal's reflection, a tenth of the worker's per-record CPU.
func unmarshal(b []byte, w *wireBody) error {
	d := decoders.Get().(*pooledDecoder)
	d.buf = *bytes.NewBuffer(bytes.TrimPrefix(b, utf8BOM))
	d.dec.Reset(&d.buf, decodeOptions)
	err := w.UnmarshalJSONFrom(&d.dec)
	if err == nil {
		err = endOfInput(&d.dec)
	}
	d.buf = bytes.Buffer{}
	d.dec.Reset(&d.buf) // lets go of b
	decoders.Put(d)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidJSON, err)
	}
	return nil
}

// pooledDecoder is a decoder reading straight from its buffer (jsontext does not
// copy a bytes.Buffer's bytes).
type pooledDecoder struct {
	buf bytes.Buffer
	dec jsontext.Decoder
}

var decoders = sync.Pool{New: func() any { return new(pooledDecoder) }}

// errTrailingData is the error for a second value after the body.
var errTrailingData = errors.New("invalid data after top-level value")

// endOfInput checks that nothing but whitespace follows the value dec read.
func endOfInput(dec *jsontext.Decoder) error {
	switch _, err := dec.ReadToken(); err {
	case io.EOF:
		return nil
	case nil:
		return errTrailingData
	default:
		return err
	}
}

// absent is the kind of a member that did not occur.
const absent jsontext.Kind = 0

// member is what the last occurrence of an object member held: its kind, and
// its text when it is a string. Only the last one counts, whatever the earlier
// ones held, as with pydantic behind Python's json module.
type member struct {
	kind jsontext.Kind
	text string
}

// wireBody is a body as read, before the model's rules are applied.
type wireBody struct {
	notObject     jsontext.Kind // the body's kind when it is not an object
	correlationID member
	status        member
	data          member
	content       wireContent // when data.kind is '{'
}

type wireContent struct {
	message, timestamp member
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom: one pass over the tokens,
// reading the members the models know and skipping the rest.
func (w *wireBody) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	if k := dec.PeekKind(); k != '{' {
		w.notObject = k
		return dec.SkipValue()
	}
	return readObject(dec, w)
}

func (w *wireBody) readMember(dec *jsontext.Decoder, name []byte) (err error) {
	switch string(name) {
	case "correlation_id":
		w.correlationID, err = readValue(dec)
	case "status":
		w.status, err = readValue(dec)
	case "data":
		if dec.PeekKind() != '{' {
			w.data, err = readValue(dec)
			return err
		}
		// A later "data" replaces an earlier one whole.
		w.data, w.content = member{kind: '{'}, wireContent{}
		err = readObject(dec, &w.content)
	default:
		err = dec.SkipValue()
	}
	return err
}

func (c *wireContent) readMember(dec *jsontext.Decoder, name []byte) (err error) {
	switch string(name) {
	case "message":
		c.message, err = readValue(dec)
	case "timestamp":
		c.timestamp, err = readValue(dec)
	default:
		err = dec.SkipValue()
	}
	return err
}

// memberReader reads (or skips) the value of the object member name.
type memberReader interface {
	readMember(dec *jsontext.Decoder, name []byte) error
}

// readObject reads the object dec is at, handing each member to r.
func readObject(dec *jsontext.Decoder, r memberReader) error {
	if _, err := dec.ReadToken(); err != nil { // '{'
		return err
	}
	for dec.PeekKind() == '"' {
		name, err := readName(dec)
		if err != nil {
			return err
		}
		if err := r.readMember(dec, name); err != nil {
			return err
		}
	}
	_, err := dec.ReadToken() // '}', or the syntax error
	return err
}

// readName reads an object member's name, unescaped; it is valid until dec reads
// on. Only a name with escapes, which no peer writes for the known ones, is copied.
func readName(dec *jsontext.Decoder) ([]byte, error) {
	raw, err := dec.ReadValue()
	if err != nil {
		return nil, err
	}
	if name := raw[1 : len(raw)-1]; bytes.IndexByte(name, '\\') < 0 {
		return name, nil
	}
	return jsontext.AppendUnquote(nil, raw)
}

// readValue reads one value: its text if it is a string, else only its kind.
func readValue(dec *jsontext.Decoder) (member, error) {
	k := dec.PeekKind()
	if k != '"' {
		return member{kind: k}, dec.SkipValue()
	}
	tok, err := dec.ReadToken()
	if err != nil {
		return member{}, err
	}
	return member{kind: k, text: tok.String()}, nil
}

// envelope applies the rules of the fields requests and responses share.
func (w *wireBody) envelope() (SampleReqMsg, error) {
	if w.notObject != absent {
		return SampleReqMsg{}, invalid("", "must be a JSON object, got "+kindName(w.notObject))
	}
	var env SampleReqMsg
	var err error
	if env.CorrelationID, err = requiredString(w.correlationID, "correlation_id"); err != nil {
		return SampleReqMsg{}, err
	}
	switch w.data.kind {
	case absent, 'n':
		return env, nil
	case '{':
	default:
		return SampleReqMsg{}, invalid("data", "must be an object or null, got "+kindName(w.data.kind))
	}
	message, err := requiredString(w.content.message, "data.message")
	if err != nil {
		return SampleReqMsg{}, err
	}
	switch ts := w.content.timestamp; ts.kind {
	case absent, 'n':
		env.Data = &MessageContent{Message: message}
	case '"':
		env.Data = contentWithTimestamp(message, ts.text)
	default:
		return SampleReqMsg{}, invalid("data.timestamp", "must be a string or null, got "+kindName(ts.kind))
	}
	return env, nil
}

func requiredString(m member, path string) (string, error) {
	switch m.kind {
	case '"':
		return m.text, nil
	case absent:
		return "", invalid(path, "is required")
	}
	return "", invalid(path, "must be a string, got "+kindName(m.kind))
}

// kindName names a JSON value's kind for an error message.
func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "null"
}
