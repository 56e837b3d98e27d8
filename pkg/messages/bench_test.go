package messages_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamgate/streamgate/pkg/messages"
)

// benchBody is a body to decode in a benchmark, and whether it is valid.
type benchBody struct {
	name  string
	body  []byte
	valid bool
}

// readBench reads a body from testdata for a benchmark.
func readBench(b *testing.B, dir, file string) []byte {
	b.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", dir, file))
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// largeBody is a valid request whose message is 4 KiB of text.
func largeBody() []byte {
	return []byte(`{"correlation_id":"6f1c2b9e-3d4a-4c1e-9b7a-2f8e5d6c7b1a","data":{"message":"` +
		strings.Repeat("lorem ipsum ", 4096/12) + `","timestamp":"2026-11-27T10:00:00.123456Z"}}`)
}

// BenchmarkDecodeRequest measures DecodeRequest on the bodies the worker
// sees: what Go and the Python services write, and one it rejects.
func BenchmarkDecodeRequest(b *testing.B) {
	bodies := []benchBody{
		{"go", readBench(b, "golden", "request.json"), true},
		{"python_naive", readBench(b, "python", "request_json_dumps_naive.json"), true},
		{"python_escaped", readBench(b, "python", "request_ensure_ascii.json"), true},
		{"large_message", largeBody(), true},
		{"bad_type", []byte(`{"correlation_id":"abc","data":{"message":"ping","timestamp":1764237600}}`), false},
	}
	for _, bb := range bodies {
		b.Run(bb.name, func(b *testing.B) {
			if _, err := messages.DecodeRequest(bb.body); (err == nil) != bb.valid {
				b.Fatalf("DecodeRequest: err = %v, want valid = %v", err, bb.valid)
			}
			b.SetBytes(int64(len(bb.body)))
			b.ReportAllocs()
			for b.Loop() {
				_, _ = messages.DecodeRequest(bb.body)
			}
		})
	}
}

// BenchmarkDecodeResponse is BenchmarkDecodeRequest for responses.
func BenchmarkDecodeResponse(b *testing.B) {
	bodies := []benchBody{
		{"go", readBench(b, "golden", "response.json"), true},
		{"python_indent", readBench(b, "python", "response_indent_offset.json"), true},
		{"python_extra_fields", readBench(b, "python", "response_no_status_extra_fields.json"), true},
		{"bad_status", []byte(`{"correlation_id":"abc","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"},"status":"Done"}`), false},
	}
	for _, bb := range bodies {
		b.Run(bb.name, func(b *testing.B) {
			if _, err := messages.DecodeResponse(bb.body); (err == nil) != bb.valid {
				b.Fatalf("DecodeResponse: err = %v, want valid = %v", err, bb.valid)
			}
			b.SetBytes(int64(len(bb.body)))
			b.ReportAllocs()
			for b.Loop() {
				_, _ = messages.DecodeResponse(bb.body)
			}
		})
	}
}

// BenchmarkParseTimestamp measures ParseTimestamp on the common forms.
func BenchmarkParseTimestamp(b *testing.B) {
	for _, tt := range []struct{ name, ts string }{
		{"utc", "2026-11-27T10:00:00Z"},
		{"naive", "2024-05-01T12:00:00.123456"},
		{"offset", "2024-05-01T14:00:00.123456+02:00"},
	} {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := messages.ParseTimestamp(tt.ts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
