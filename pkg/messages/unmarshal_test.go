package messages

import (
	"bytes"
	"testing"

	"github.com/go-json-experiment/json"
)

// unmarshal accepts and reads what json.Unmarshal would, and rejects what it rejects.
func assertUnmarshalAsLibrary(t *testing.T, body []byte) {
	t.Helper()
	var got, want wireBody
	err := unmarshal(body, &got)
	wantErr := json.Unmarshal(bytes.TrimPrefix(body, utf8BOM), &want, decodeOptions)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("unmarshal(%q): error %v, json.Unmarshal: %v", body, err, wantErr)
	}
	if err == nil && got != want {
		t.Fatalf("unmarshal(%q) = %+v, json.Unmarshal gives %+v", body, got, want)
	}
}

var unmarshalEdges = []string{
	"", " ", "\xef\xbb\xbf", "{}", "{} ", " {}\n", "{} {}", "{}x", "{}}", "[]", "null", "1", `"s"`,
	`{"correlation_id":"a"} [1]`, `{"correlation_id":"a",}`, `{"correlation_id":"a\xff"}`,
	`{"correlation_id":"a","correlation_id":"b"}`, `{"data":{"message":"m","message":1},"data":null}`,
	`{"data":{"message":"m","timestamp":"t","x":[1,{"y":2}]},"status":"Completed"}`, `{"a":`, `{"data":{"message":"\u00e9\n"}}`,
}

func TestUnmarshalAsLibrary(t *testing.T) {
	for _, s := range unmarshalEdges {
		assertUnmarshalAsLibrary(t, []byte(s))
	}
	for _, body := range testdataBodies(t) {
		assertUnmarshalAsLibrary(t, body)
	}
}

func FuzzUnmarshalAsLibrary(f *testing.F) {
	for _, s := range unmarshalEdges {
		f.Add([]byte(s))
	}
	f.Fuzz(assertUnmarshalAsLibrary)
}
