package messages

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// EncodeRequest validates m and encodes it as a request body. A
// [*ValidationError] means m would be rejected by its readers and nothing
// was encoded.
func EncodeRequest(m SampleReqMsg) ([]byte, error) {
	return encode(m)
}

// EncodeResponse validates m and encodes it as a response body. A
// [*ValidationError] means m would be rejected by its readers and nothing
// was encoded.
func EncodeResponse(m SampleResMsg) ([]byte, error) {
	return encode(m)
}

func encode[T interface{ Validate() error }](v T) ([]byte, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// These bodies never reach a browser; keep "<", ">" and "&" readable
	// for people tailing topics, as Python's json module writes them.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("messages: encode %T: %w", v, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
