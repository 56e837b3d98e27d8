package gatewaykit

import "github.com/streamgate/streamgate/pkg/router"

// Codec turns a message into a record's body and back. It is pkg/router's, so one
// codec value serves a flow's gateway and its worker.
type Codec[T any] = router.Codec[T]

// JSON is the plain encoding/json codec, for messages without a stricter contract.
func JSON[T any]() Codec[T] { return router.JSON[T]() }

// CodecFuncs makes a Codec of an encode and a decode function, such as pkg/messages'
// pydantic-exact EncodeRequest and DecodeRequest.
func CodecFuncs[T any](encode func(T) ([]byte, error), decode func([]byte) (T, error)) Codec[T] {
	return router.CodecFuncs(encode, decode)
}
