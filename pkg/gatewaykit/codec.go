package gatewaykit

import (
	"encoding/json"
	"fmt"
)

// Codec turns a message into a record's body and back. It has the shape of
// pkg/router's Codec, so one value serves a flow's gateway and worker alike.
type Codec[T any] interface {
	Encode(T) ([]byte, error)
	Decode([]byte) (T, error)
}

// JSON is the plain encoding/json codec, for messages without a stricter contract.
func JSON[T any]() Codec[T] { return jsonCodec[T]{} }

type jsonCodec[T any] struct{}

func (jsonCodec[T]) Encode(v T) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("gatewaykit: encode JSON: %w", err)
	}
	return b, nil
}

func (jsonCodec[T]) Decode(b []byte) (T, error) {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("gatewaykit: decode JSON: %w", err)
	}
	return v, nil
}

// CodecFuncs makes a Codec of an encode and a decode function, such as pkg/messages'
// pydantic-exact EncodeRequest and DecodeResponse.
func CodecFuncs[T any](encode func(T) ([]byte, error), decode func([]byte) (T, error)) Codec[T] {
	return funcCodec[T]{encode: encode, decode: decode}
}

type funcCodec[T any] struct {
	encode func(T) ([]byte, error)
	decode func([]byte) (T, error)
}

func (c funcCodec[T]) Encode(v T) ([]byte, error) { return c.encode(v) }
func (c funcCodec[T]) Decode(b []byte) (T, error) { return c.decode(b) }
