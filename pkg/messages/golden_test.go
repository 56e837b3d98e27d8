package messages_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/streamgate/streamgate/pkg/messages"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the encoder's output")

// fixedTime is the instant every golden body is stamped with.
var fixedTime = time.Date(2026, time.November, 27, 10, 0, 0, 0, time.UTC)

// TestGolden pins the exact bytes the encoders write. A diff here is a wire
// change that the Python services will see: regenerate with
//
//	go test -run TestGolden -update
//
// only when that change is intended.
func TestGolden(t *testing.T) {
	tests := []struct {
		file   string
		encode func() ([]byte, error)
		// check decodes the golden bytes and compares them with the value
		// they were encoded from, proving the file reads back.
		check func(t *testing.T, b []byte)
	}{
		{
			file: "request.json",
			encode: func() ([]byte, error) {
				return messages.EncodeRequest(messages.NewRequest("abc", "ping", fixedTime))
			},
			check: func(t *testing.T, b []byte) {
				got, err := messages.DecodeRequest(b)
				if err != nil {
					t.Fatalf("DecodeRequest: %v", err)
				}
				if want := messages.NewRequest("abc", "ping", fixedTime); !reflect.DeepEqual(got, want) {
					t.Errorf("DecodeRequest = %+v, want %+v", got, want)
				}
			},
		},
		{
			file: "response.json",
			encode: func() ([]byte, error) {
				return messages.EncodeResponse(messages.NewResponse("abc", "pong from subscriber", messages.StatusCompleted, fixedTime))
			},
			check: func(t *testing.T, b []byte) {
				got, err := messages.DecodeResponse(b)
				if err != nil {
					t.Fatalf("DecodeResponse: %v", err)
				}
				if want := messages.NewResponse("abc", "pong from subscriber", messages.StatusCompleted, fixedTime); !reflect.DeepEqual(got, want) {
					t.Errorf("DecodeResponse = %+v, want %+v", got, want)
				}
			},
		},
		{
			// Fractional seconds in a non-UTC zone: stored in UTC, trailing
			// zeros trimmed; "<&>" left unescaped; non-ASCII left as UTF-8.
			file: "response_text.json",
			encode: func() ([]byte, error) {
				now := time.Date(2026, time.November, 27, 11, 0, 0, 120_000_000, time.FixedZone("CET", 3600))
				return messages.EncodeResponse(messages.NewResponse("req-<1>&2", `café "quoted" 🚀`, messages.StatusPartially, now))
			},
			check: func(t *testing.T, b []byte) {
				got, err := messages.DecodeResponse(b)
				if err != nil {
					t.Fatalf("DecodeResponse: %v", err)
				}
				if got.Data.Message != `café "quoted" 🚀` || *got.Data.Timestamp != "2026-11-27T10:00:00.12Z" {
					t.Errorf("DecodeResponse = %+v", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := tt.encode()
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			path := filepath.Join("testdata", "golden", tt.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("encoded body differs from %s\n got: %s\nwant: %s", path, got, want)
			}
			tt.check(t, want)
		})
	}
}
