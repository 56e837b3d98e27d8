package messages

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// fastPathCases are bodies and whether the fast path must handle them, so that
// it cannot silently become dead code, nor take what it was not written for.
var fastPathCases = []struct {
	name string
	body string
	fast bool
}{
	{"go request", `{"correlation_id":"6f1c2b9e-3d4a-4c1e-9b7a-2f8e5d6c7b1a","data":{"message":"ping","timestamp":"2024-05-01T12:00:00.123456Z"}}`, true},
	{"json.dumps spacing", `{"correlation_id": "abc", "data": {"message": "ping", "timestamp": "2024-05-01T12:00:00.123456"}}`, true},
	{"indent", "{\n  \"correlation_id\": \"abc\",\r\n\t\"data\": {\n    \"message\": \"ping\"\n  }\n}\n", true},
	{"status", `{"correlation_id":"abc","data":{"message":"pong","timestamp":"2026-11-27T10:00:00Z"},"status":"Completed"}`, true},
	{"data null", `{"correlation_id":"abc","data":null}`, true},
	{"no data", `{"correlation_id":"abc"}`, true},
	{"empty object", `{}`, true},
	{"empty data", `{"correlation_id":"abc","data":{}}`, true},
	{"unknown scalars", `{"correlation_id":"abc","retry":0,"ok":true,"no":false,"h":null,"x":-1.5e+3,"data":{"message":"m","source":"faststream","n":12}}`, true},
	{"wrong kinds", `{"correlation_id":1,"data":{"message":true,"timestamp":2},"status":false}`, true},
	{"data string", `{"correlation_id":"abc","data":"x"}`, true},
	{"duplicates", `{"correlation_id":"a","correlation_id":"b","data":{"message":"m"},"data":null,"data":{"timestamp":"t"}}`, true},
	{"non-ASCII", `{"correlation_id":"é","data":{"message":"café 🚀","timestamp":"t"}}`, true},
	{"BOM", "\xef\xbb\xbf{\"correlation_id\":\"abc\"}", true},
	{"DEL", "{\"correlation_id\":\"a\x7fb\"}", true},
	{"long strings", `{"correlation_id":"` + strings.Repeat("0123456789", 10) + `","data":{"message":"` + strings.Repeat("x", 1000) + `"}}`, true},

	{"escape", `{"correlation_id":"a\"b"}`, false},
	{"escaped name", `{"correlation\u005fid":"a"}`, false},
	{"unicode escape", `{"data":{"message":"caf\u00e9"}}`, false},
	{"nested array", `{"correlation_id":"abc","extra":[1,2]}`, false},
	{"nested object", `{"correlation_id":"abc","headers":{}}`, false},
	{"object in data", `{"data":{"message":{}}}`, false},
	{"array data", `{"data":[]}`, false},
	{"invalid UTF-8", "{\"correlation_id\":\"\xff\"}", false},
	{"surrogate in UTF-8", "{\"correlation_id\":\"\xed\xa0\x80\"}", false},
	{"control character", "{\"correlation_id\":\"a\tb\"}", false},
	{"leading zero", `{"n":01}`, false},
	{"bad number", `{"n":1.}`, false},
	{"bad literal", `{"n":nul}`, false},
	{"trailing data", `{"correlation_id":"abc"} {}`, false},
	{"trailing comma", `{"correlation_id":"abc",}`, false},
	{"truncated", `{"correlation_id":"abc","data":{"mess`, false},
	{"two BOMs", "\xef\xbb\xbf\xef\xbb\xbf{}", false},
	{"top-level null", `null`, false},
	{"top-level array", `[]`, false},
	{"empty", ``, false},
	{"vertical tab", "{\v}", false},
}

// fastOnlyTestdata lists the testdata bodies that must take the fast path
// (the others hold escapes).
var fastOnlyTestdata = map[string]bool{
	"request.json": true, "response.json": true, "request_json_dumps_naive.json": true,
	"request_model_dump_json.json": true, "request_str_datetime.json": true,
	"response_failed_utc_offset.json": true, "response_indent_offset.json": true,
	"response_no_status_extra_fields.json": true,
}

func TestFastPathTaken(t *testing.T) {
	for _, tt := range fastPathCases {
		t.Run(tt.name, func(t *testing.T) {
			var w wireBody
			if got := fastUnmarshal([]byte(tt.body), &w); got != tt.fast {
				t.Errorf("fastUnmarshal(%q) handled = %v, want %v", tt.body, got, tt.fast)
			}
			assertFastMatchesReference(t, []byte(tt.body))
		})
	}
	for file, body := range testdataBodies(t) {
		var w wireBody
		if got, want := fastUnmarshal(body, &w), fastOnlyTestdata[filepath.Base(file)]; got != want {
			t.Errorf("fastUnmarshal(%s) handled = %v, want %v", file, got, want)
		}
		assertFastMatchesReference(t, body)
	}
}

// FuzzFastDecodeMatchesReference holds the fast path to the reference decoder
// (unmarshal): whatever body the fast path handles, the reference reads the
// same, and the decoders' results do not depend on which one read the body.
func FuzzFastDecodeMatchesReference(f *testing.F) {
	for _, body := range testdataBodies(f) {
		f.Add(body)
	}
	for _, body := range corpusSeeds(f, "FuzzDecodeRequest", "FuzzDecodeResponse") {
		f.Add(body)
	}
	for _, s := range unmarshalEdges {
		f.Add([]byte(s))
	}
	for _, tt := range fastPathCases {
		f.Add([]byte(tt.body))
	}
	f.Fuzz(assertFastMatchesReference)
}

func assertFastMatchesReference(t *testing.T, body []byte) {
	t.Helper()
	var fast, ref wireBody
	handled := fastUnmarshal(body, &fast)
	refErr := unmarshal(body, &ref)
	switch {
	case handled && refErr != nil:
		t.Fatalf("fast path handled %q, which the reference rejects: %v", body, refErr)
	case handled && fast != ref:
		t.Fatalf("fast path read %q as %+v, the reference as %+v", body, fast, ref)
	case !handled && fast != (wireBody{}):
		t.Fatalf("fast path gave up on %q but wrote %+v", body, fast)
	}

	req, err := DecodeRequest(body)
	wantReq, wantErr := referenceRequest(body)
	assertSameResult(t, "DecodeRequest", body, req, err, wantReq, wantErr)
	res, err := DecodeResponse(body)
	wantRes, wantErr := referenceResponse(body)
	assertSameResult(t, "DecodeResponse", body, res, err, wantRes, wantErr)
}

func assertSameResult(t *testing.T, name string, body []byte, got any, err error, want any, wantErr error) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s(%q) = %+v, the reference gives %+v", name, body, got, want)
	}
	if errString(err) != errString(wantErr) || errors.Is(err, ErrInvalidJSON) != errors.Is(wantErr, ErrInvalidJSON) {
		t.Fatalf("%s(%q) error = %v, the reference gives %v", name, body, err, wantErr)
	}
	var ve, wantVE *ValidationError
	if errors.As(err, &ve) != errors.As(wantErr, &wantVE) || (ve != nil && *ve != *wantVE) {
		t.Fatalf("%s(%q) error = %#v, the reference gives %#v", name, body, err, wantErr)
	}
}

// referenceRequest is DecodeRequest without the fast path.
func referenceRequest(b []byte) (SampleReqMsg, error) {
	var w wireBody
	if err := unmarshal(b, &w); err != nil {
		return SampleReqMsg{}, err
	}
	return w.envelope()
}

// referenceResponse is DecodeResponse without the fast path.
func referenceResponse(b []byte) (SampleResMsg, error) {
	var w wireBody
	if err := unmarshal(b, &w); err != nil {
		return SampleResMsg{}, err
	}
	return w.response()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// corpusSeeds reads the []byte inputs of the named fuzz targets' seed corpora
// under testdata/fuzz.
func corpusSeeds(tb testing.TB, targets ...string) [][]byte {
	tb.Helper()
	var seeds [][]byte
	for _, target := range targets {
		files, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
		if err != nil {
			tb.Fatal(err)
		}
		for _, file := range files {
			raw, err := os.ReadFile(file)
			if err != nil {
				tb.Fatal(err)
			}
			header, arg, _ := strings.Cut(strings.TrimSpace(string(raw)), "\n")
			quoted, ok := strings.CutPrefix(arg, "[]byte(")
			quoted, ok2 := strings.CutSuffix(quoted, ")")
			s, err := strconv.Unquote(quoted)
			if header != "go test fuzz v1" || !ok || !ok2 || err != nil {
				tb.Fatalf("%s: not a one-[]byte corpus file", file)
			}
			seeds = append(seeds, []byte(s))
		}
	}
	return seeds
}
