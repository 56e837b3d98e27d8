package messages_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/streamgate/streamgate/pkg/messages"
)

// addSeeds adds the golden and Python bodies to f's corpus, on top of the
// hand-picked seeds in testdata/fuzz.
func addSeeds(f *testing.F) {
	f.Helper()
	for _, body := range messages.TestdataBodies(f) {
		f.Add(body)
	}
}

// FuzzDecodeRequest checks that DecodeRequest never panics and that whatever
// it accepts survives a round trip: it encodes, decodes back to the same
// value, and encodes to the same bytes again.
func FuzzDecodeRequest(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := messages.DecodeRequest(body)
		if err != nil {
			return
		}
		b, err := messages.EncodeRequest(req)
		if err != nil {
			t.Fatalf("EncodeRequest rejects what DecodeRequest accepted (%+v): %v", req, err)
		}
		again, err := messages.DecodeRequest(b)
		if err != nil {
			t.Fatalf("DecodeRequest rejects its own encoding %s: %v", b, err)
		}
		if !reflect.DeepEqual(again, req) {
			t.Fatalf("round trip changed the request: %+v became %+v", req, again)
		}
		if b2, _ := messages.EncodeRequest(again); !bytes.Equal(b2, b) {
			t.Fatalf("encoding is not stable: %s then %s", b, b2)
		}
	})
}

// FuzzDecodeResponse is FuzzDecodeRequest for responses.
func FuzzDecodeResponse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := messages.DecodeResponse(body)
		if err != nil {
			return
		}
		if !res.Status.Valid() {
			t.Fatalf("DecodeResponse accepted invalid status %q", res.Status)
		}
		b, err := messages.EncodeResponse(res)
		if err != nil {
			t.Fatalf("EncodeResponse rejects what DecodeResponse accepted (%+v): %v", res, err)
		}
		again, err := messages.DecodeResponse(b)
		if err != nil {
			t.Fatalf("DecodeResponse rejects its own encoding %s: %v", b, err)
		}
		if !reflect.DeepEqual(again, res) {
			t.Fatalf("round trip changed the response: %+v became %+v", res, again)
		}
		if b2, _ := messages.EncodeResponse(again); !bytes.Equal(b2, b) {
			t.Fatalf("encoding is not stable: %s then %s", b, b2)
		}
	})
}
