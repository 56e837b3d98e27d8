package messages

import (
	"fmt"

	"github.com/go-json-experiment/json"
)

// EncodeRequest validates m and encodes it as a request body. A
// [*ValidationError] means m cannot be sent and nothing was encoded.
func EncodeRequest(m SampleReqMsg) ([]byte, error) {
	return encode(m)
}

// EncodeResponse validates m and encodes it as a response body. A
// [*ValidationError] means m would be rejected by its readers and nothing
// was encoded.
func EncodeResponse(m SampleResMsg) ([]byte, error) {
	return encode(m)
}

// encode writes v compactly, a nil pointer as null (as pydantic's
// model_dump_json does) and "<", ">" and "&" unescaped, as Python's json
// module writes them, for people tailing topics.
func encode[T interface{ Validate() error }](v T) ([]byte, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("messages: encode %T: %w", v, err)
	}
	return b, nil
}
