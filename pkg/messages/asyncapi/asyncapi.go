// Package asyncapi describes the Kafka side of streamgate as an AsyncAPI 3.0 document,
// built from the contract in pkg/messages: topics, headers, message schemas and the
// request/reply operations. asyncapi.json beside this file is its committed output
// (regenerate with `go generate ./...` in pkg/messages, or `make docs`); a test fails
// when the two drift. The gateway serves the document.
package asyncapi

//go:generate go run ./gen asyncapi.json

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/streamgate/streamgate/pkg/messages"
)

// Version is the version of the document, which changes with the contract.
const Version = "1.0.0"

// Document returns the AsyncAPI document as indented JSON, keys sorted.
func Document() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "<in-topic>" reads better than "\u003cin-topic\u003e"
	enc.SetIndent("", "  ")
	if err := enc.Encode(document()); err != nil {
		return nil, fmt.Errorf("asyncapi: %w", err)
	}
	return buf.Bytes(), nil
}

type object = map[string]any

func ref(path string) object { return object{"$ref": path} }

func document() object {
	return object{
		"asyncapi": "3.0.0",
		"info": object{
			"title":   "streamgate",
			"version": Version,
			"description": "Kafka topics of the streamgate gateway and worker, shared with FastStream services. " +
				"Topic names are the defaults (KAFKA_IN_TOPIC, KAFKA_OUT_TOPIC, KAFKA_DLQ_TOPIC change them). " +
				"Bodies are read exactly as the Python pydantic models SampleReqMsg and SampleResMsg read them.",
		},
		"defaultContentType": messages.ContentTypeJSON,
		"channels": object{
			"requests": object{
				"address":     messages.TopicIn,
				"description": "Requests, keyed by correlation ID so one conversation stays on one partition.",
				"messages":    object{"SampleReqMsg": ref("#/components/messages/SampleReqMsg")},
			},
			"replies": object{
				"address":     messages.TopicOut,
				"description": "The worker's replies to requests without a reply_to header.",
				"messages":    object{"SampleResMsg": ref("#/components/messages/SampleResMsg")},
			},
			"replyTo": object{
				"address": nil,
				"description": "The topic a request's reply_to header names; the worker answers there, as a FastStream subscriber does. " +
					"The gateway's POST /v1/requests names <in-topic>.replies, which every gateway instance reads whole.",
				"messages": object{"SampleResMsg": ref("#/components/messages/SampleResMsg")},
			},
			"deadLetters": object{
				"address":     messages.TopicDeadLetter,
				"description": "Requests the worker could not answer, unchanged (key, value, headers), with dlq_* headers saying why.",
				"messages":    object{"DeadLetter": ref("#/components/messages/DeadLetter")},
			},
		},
		"operations": object{
			"publishRequest": object{
				"action":   "send",
				"title":    "gateway: publish a request",
				"summary":  "For every GET /v1/ping the gateway publishes a request and answers once the broker acknowledged it.",
				"channel":  ref("#/channels/requests"),
				"messages": []any{ref("#/channels/requests/messages/SampleReqMsg")},
			},
			"answerRequest": object{
				"action":   "receive",
				"title":    "worker: answer a request",
				"summary":  "The worker answers every request the models accept with a Completed SampleResMsg.",
				"channel":  ref("#/channels/requests"),
				"messages": []any{ref("#/channels/requests/messages/SampleReqMsg")},
				"reply": object{
					"address":  object{"location": "$message.header#/" + messages.HeaderReplyTo},
					"channel":  ref("#/channels/replyTo"),
					"messages": []any{ref("#/channels/replyTo/messages/SampleResMsg")},
				},
			},
			"publishReply": object{
				"action":   "send",
				"title":    "worker: publish a reply",
				"summary":  "Replies to requests without reply_to go to the out-topic.",
				"channel":  ref("#/channels/replies"),
				"messages": []any{ref("#/channels/replies/messages/SampleResMsg")},
			},
			"deadLetter": object{
				"action":   "send",
				"title":    "worker: set a malformed request aside",
				"channel":  ref("#/channels/deadLetters"),
				"messages": []any{ref("#/channels/deadLetters/messages/DeadLetter")},
			},
		},
		"components": object{
			"messages": object{
				"SampleReqMsg": message("SampleReqMsg", "A request.", requestHeaders(), "#/components/schemas/SampleReqMsg"),
				"SampleResMsg": message("SampleResMsg", "A reply; its correlation_id header echoes the request's.", replyHeaders(), "#/components/schemas/SampleResMsg"),
				"DeadLetter": object{
					"name":        "DeadLetter",
					"title":       "Dead letter",
					"summary":     "The original record; its value is the original bytes, which may not be JSON.",
					"contentType": "application/octet-stream",
					"headers":     deadLetterHeaders(),
					"payload":     object{"type": "string", "description": "the original record value, unchanged"},
				},
			},
			"schemas": schemas(),
		},
	}
}

func message(name, summary string, headers object, schema string) object {
	return object{
		"name":          name,
		"title":         name,
		"summary":       summary,
		"contentType":   messages.ContentTypeJSON,
		"headers":       headers,
		"payload":       ref(schema),
		"correlationId": object{"location": "$message.header#/" + messages.HeaderCorrelationID},
	}
}

func str(description string) object {
	return object{"type": "string", "description": description}
}

func replyHeaders() object {
	return object{
		"type": "object",
		"properties": object{
			messages.HeaderCorrelationID: str("the request's correlation_id header (FastStream matches replies on it), else the body's correlation_id"),
			messages.HeaderContentType:   object{"type": "string", "const": messages.ContentTypeJSON},
		},
	}
}

func requestHeaders() object {
	h := replyHeaders()
	props := h["properties"].(object)
	props[messages.HeaderCorrelationID] = str("the body's correlation_id when the gateway publishes; FastStream sets an ID of its own")
	props[messages.HeaderReplyTo] = str("optional: the topic to answer on, as FastStream's publish(..., reply_to=...) sets it")
	return h
}

func deadLetterHeaders() object {
	return object{
		"type":        "object",
		"description": "The original record's headers, plus:",
		"required": []string{messages.HeaderDLQError, messages.HeaderDLQOriginalTopic,
			messages.HeaderDLQOriginalPartition, messages.HeaderDLQOriginalOffset},
		"properties": object{
			messages.HeaderDLQError:             str("why the worker gave up on the record"),
			messages.HeaderDLQOriginalTopic:     str("the topic it was consumed from"),
			messages.HeaderDLQOriginalPartition: object{"type": "string", "pattern": "^[0-9]+$", "description": "its partition, in decimal"},
			messages.HeaderDLQOriginalOffset:    object{"type": "string", "pattern": "^[0-9]+$", "description": "its offset, in decimal"},
		},
	}
}

// schemas are the JSON Schemas of the bodies, as the pydantic models define them:
// unknown properties are allowed and ignored, optional fields may be null.
func schemas() object {
	statuses := make([]string, 0, len(messages.Statuses()))
	for _, s := range messages.Statuses() {
		statuses = append(statuses, string(s))
	}
	data := object{
		"anyOf":       []any{ref("#/components/schemas/MessageContent"), object{"type": "null"}},
		"default":     nil,
		"description": "absent or null in a body is the same: no content",
	}
	return object{
		"MessageContent": object{
			"type":     "object",
			"required": []string{"message"},
			"properties": object{
				"message": object{"type": "string"},
				"timestamp": object{
					"anyOf":       []any{object{"type": "string"}, object{"type": "null"}},
					"default":     nil,
					"description": "any text; streamgate writes RFC 3339 in UTC",
				},
			},
		},
		"SampleReqMsg": object{
			"type":     "object",
			"required": []string{"correlation_id"},
			"properties": object{
				"correlation_id": object{"type": "string", "description": "any string, the empty one included"},
				"data":           data,
			},
		},
		"SampleResMsg": object{
			"type":     "object",
			"required": []string{"correlation_id"},
			"properties": object{
				"correlation_id": object{"type": "string", "description": "the request's correlation_id"},
				"data":           data,
				"status":         object{"type": "string", "enum": statuses, "default": string(messages.DefaultStatus)},
			},
		},
	}
}
