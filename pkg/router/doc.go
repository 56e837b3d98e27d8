// Package router is the worker's handler router: the Go counterpart of FastStream's
// `@router.subscriber(topic)`. A service registers one typed Route per consumed topic;
// the router consumes them in one consumer group, decodes each record with the route's
// codec, calls the handler through the middleware chain (retries, timeout, error
// classes), encodes the reply and delivers it (or a dead letter) before the record's
// offset is committed.
//
// Within a partition records run concurrently under the route's Ordering (by key by
// default, Confluent Parallel Consumer's model): at most Route.Concurrency calls in
// flight, one at a time per key; the committed offset never passes the lowest
// unfinished record, so a crash never loses a record and may handle one twice
// (at-least-once; handlers should be idempotent, Message.Attempt says which try it is).
//
// docs/handlers.md shows how to write, register and operate a handler.
package router
