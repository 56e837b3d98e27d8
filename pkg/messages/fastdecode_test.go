package messages

import (
	"maps"
	"strings"
	"testing"
)

// TestDecodeFastPathTaken checks that the bodies the services actually
// exchange take the fast path, so that neither the benchmarks nor
// FuzzDecodeMatchesReference quietly measure or test the general path only,
// and that what it returns is what the general path returns.
func TestDecodeFastPathTaken(t *testing.T) {
	bodies := map[string][]byte{
		"escaped keys":        []byte(`{"correlation\u005fid":"abc","d\u0061ta":{"m\u0065ssage":"ping","timestamp":"2026-11-27T10:00:00Z"}}`),
		"duplicate data":      []byte(`{"correlation_id":"abc","data":{"message":"ping"},"data":{"message":"pong","timestamp":"2026-11-27T10:00:00Z"}}`),
		"surrogates":          []byte(`{"correlation_id":"abc","data":{"message":"\ud83d\ude80 \ud83d \udc00\ud800 \ud800\\u0041","timestamp":"2026-11-27T10:00:00Z"}}`),
		"unknown values":      []byte(`{"x":[1,-0.5e+3,0,-0,1E9,true,false,null,{"a":[]},[],{},"s\"\u1234"],"correlation_id":"abc","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"}}`),
		"longest id in runes": []byte(`{"correlation_id":"` + strings.Repeat("é", MaxCorrelationIDLength) + `","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"}}`),
	}
	maps.Copy(bodies, testdataBodies(t))
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			if strings.Contains(name, "request") || !strings.Contains(name, "testdata") {
				env, _, ok := decodeFast(body, false)
				if !ok {
					t.Fatalf("decodeFast(%s) took the general path", body)
				}
				fields, err := decodeObject(body)
				if err != nil {
					t.Fatal(err)
				}
				if want, err := decodeEnvelope(fields); err != nil || env != want {
					t.Errorf("decodeFast = %+v, general path %+v, %v", env, want, err)
				}
			}
			if !strings.Contains(name, "request") {
				env, status, ok := decodeFast(body, true)
				if !ok {
					t.Fatalf("decodeFast(%s, withStatus) took the general path", body)
				}
				want, err := DecodeResponse(body)
				if err != nil || env != want.Envelope || status != want.Status {
					t.Errorf("decodeFast = %+v, %q, DecodeResponse %+v, %v", env, status, want, err)
				}
			}
		})
	}
}

// TestDecodeFastPathDeclines checks a few bodies the fast path must leave to
// the general path.
func TestDecodeFastPathDeclines(t *testing.T) {
	deep := `{"x":` + strings.Repeat("[", maxFastDepth) + strings.Repeat("]", maxFastDepth) +
		`,"correlation_id":"abc","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"}}`
	for _, body := range []string{
		deep,
		`{"correlation_id":"abc","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"}} x`,
		`{"correlation_id":"abc","data":{"message":"ping","timestamp":"2026-02-30T10:00:00Z"}}`,
		`{"correlation_id":"","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"}}`,
		`{"correlation_id":"abc","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"},"status":"Done"}`,
	} {
		if _, _, ok := decodeFast([]byte(body), true); ok {
			t.Errorf("decodeFast(%s) = ok, want the general path", body)
		}
	}
	// One level shallower is still fast.
	shallow := strings.Replace(deep, "[", "", 1)
	shallow = strings.Replace(shallow, "]", "", 1)
	if _, _, ok := decodeFast([]byte(shallow), true); !ok {
		t.Errorf("decodeFast of %d nested arrays took the general path", maxFastDepth-1)
	}
}
