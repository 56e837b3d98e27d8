package router

import (
	"encoding/json"
	"fmt"
)

// Codec turns a body into bytes and back. A Decode error is permanent: the record is
// dead-lettered with reason "decode" and never retried.
type Codec[T any] interface {
	Encode(T) ([]byte, error)
	Decode([]byte) (T, error)
}

// JSON is the default codec: encoding/json.
func JSON[T any]() Codec[T] { return jsonCodec[T]{} }

type jsonCodec[T any] struct{}

func (jsonCodec[T]) Encode(v T) ([]byte, error) { return json.Marshal(v) }

func (jsonCodec[T]) Decode(b []byte) (T, error) {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("json: %w", err)
	}
	return v, nil
}

// CodecFuncs makes a Codec of two functions, such as pkg/messages' EncodeResponse and
// DecodeRequest.
func CodecFuncs[T any](encode func(T) ([]byte, error), decode func([]byte) (T, error)) Codec[T] {
	return funcCodec[T]{encode: encode, decode: decode}
}

type funcCodec[T any] struct {
	encode func(T) ([]byte, error)
	decode func([]byte) (T, error)
}

func (c funcCodec[T]) Encode(v T) ([]byte, error) {
	if c.encode == nil {
		return nil, fmt.Errorf("router: codec has no encoder")
	}
	return c.encode(v)
}

func (c funcCodec[T]) Decode(b []byte) (T, error) {
	if c.decode == nil {
		var zero T
		return zero, fmt.Errorf("router: codec has no decoder")
	}
	return c.decode(b)
}
