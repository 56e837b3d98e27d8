package messages

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzDecodeMatchesReference checks that DecodeRequest and DecodeResponse
// behave exactly as the decoders in reference_test.go, the code they
// replaced, for any body: the same value, or the same error down to its
// text and what errors.Is and errors.As find in it.
func FuzzDecodeMatchesReference(f *testing.F) {
	addReferenceSeeds(f)
	f.Fuzz(matchesReference)
}

// FuzzDecodePartsMatchReference is FuzzDecodeMatchesReference for bodies
// built from fuzzed parts around a valid skeleton, so that far more of
// them are valid and take the fast path to the end: the raw text of the
// strings (escapes and all), the name of the last key, and raw JSON
// inserted among the fields.
func FuzzDecodePartsMatchReference(f *testing.F) {
	f.Add("abc", "ping", "2026-11-27T10:00:00Z", "status", "Completed", "")
	f.Add(`a\u00e9\"b`, `\ud83d\ude80 \ud800\n`, "2024-05-01 12:00:00.123456+05:30", `st\u0061tus`, `Comp\u006ceted`, `"x":[1,{"y":null}],`)
	f.Add("6f1c2b9e-3d4a-4c1e-9b7a-2f8e5d6c7b1a", "", "2024-05-01T12:00:00.123456", "Status", "Bogus", `"data":1,`)
	f.Add("id", "caf\u00e9", "2024-02-29t23:59:59.999999999z", "status", "Failed", `"correlation_id":"x","status":null,`)
	f.Fuzz(func(t *testing.T, id, message, timestamp, key, status, extra string) {
		body := `{"correlation_id":"` + id + `",` + extra + `"data":{"message":"` + message +
			`","timestamp":"` + timestamp + `"},"` + key + `":"` + status + `"}`
		matchesReference(t, []byte(body))
	})
}

// matchesReference fails t unless both decoders treat body as the
// reference decoders do.
func matchesReference(t *testing.T, body []byte) {
	req, err := DecodeRequest(body)
	wantReq, wantErr := referenceDecodeRequest(body)
	if req != wantReq {
		t.Errorf("DecodeRequest(%q) = %+v, reference %+v", body, req, wantReq)
	}
	compareErrors(t, "DecodeRequest", body, err, wantErr)

	res, err := DecodeResponse(body)
	wantRes, wantErr := referenceDecodeResponse(body)
	if res != wantRes {
		t.Errorf("DecodeResponse(%q) = %+v, reference %+v", body, res, wantRes)
	}
	compareErrors(t, "DecodeResponse", body, err, wantErr)
}

// FuzzTimestampMatchesReference checks ParseTimestamp, and the validity
// check decoding uses, against the regexp-based original.
func FuzzTimestampMatchesReference(f *testing.F) {
	for _, s := range timestampSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTimestamp(s)
		want, wantErr := referenceParseTimestamp(s)
		if !got.Equal(want) || got.String() != want.String() {
			t.Errorf("ParseTimestamp(%q) = %v, reference %v", s, got, want)
		}
		compareErrors(t, "ParseTimestamp", []byte(s), err, wantErr)
		if valid := validTimestamp(s); valid != (wantErr == nil) {
			t.Errorf("validTimestamp(%q) = %v, reference error %v", s, valid, wantErr)
		}
	})
}

// compareErrors fails t unless got and want are the same error as far as a
// caller can tell.
func compareErrors(t *testing.T, name string, in []byte, got, want error) {
	t.Helper()
	if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
		t.Errorf("%s(%q): error %v, reference %v", name, in, got, want)
		return
	}
	if got == nil {
		return
	}
	if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) {
		t.Errorf("%s(%q): error type %T, reference %T", name, in, got, want)
	}
	if errors.Is(got, ErrInvalidJSON) != errors.Is(want, ErrInvalidJSON) {
		t.Errorf("%s(%q): errors.Is(%v, ErrInvalidJSON) differs from the reference's %v", name, in, got, want)
	}
	gotVE, gotOK := errors.AsType[*ValidationError](got)
	wantVE, wantOK := errors.AsType[*ValidationError](want)
	if gotOK != wantOK || gotOK && *gotVE != *wantVE {
		t.Errorf("%s(%q): ValidationError %+v, reference %+v", name, in, gotVE, wantVE)
	}
	gotSE, gotOK := errors.AsType[*json.SyntaxError](got)
	wantSE, wantOK := errors.AsType[*json.SyntaxError](want)
	if gotOK != wantOK || gotOK && gotSE.Offset != wantSE.Offset {
		t.Errorf("%s(%q): SyntaxError %+v, reference %+v", name, in, gotSE, wantSE)
	}
}

// addReferenceSeeds seeds f with every body the other decode tests use:
// the corpora of FuzzDecodeRequest and FuzzDecodeResponse, the golden and
// Python bodies, and bodies aimed at the fast path's corners.
func addReferenceSeeds(f *testing.F) {
	f.Helper()
	for _, dir := range []string{"fuzz/FuzzDecodeRequest", "fuzz/FuzzDecodeResponse"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			f.Add(readCorpusEntry(f, file))
		}
	}
	for _, body := range testdataBodies(f) {
		f.Add(body)
	}
	for _, body := range cornerBodies {
		f.Add([]byte(body))
	}
}

// readCorpusEntry reads a corpus file of a fuzz target taking one []byte.
func readCorpusEntry(f *testing.F, file string) []byte {
	f.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		f.Fatal(err)
	}
	header, value, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	quoted, ok := strings.CutPrefix(value, "[]byte(")
	if header != "go test fuzz v1" || !ok || !strings.HasSuffix(quoted, ")") {
		f.Fatalf("%s: not a corpus entry of one []byte", file)
	}
	s, err := strconv.Unquote(strings.TrimSuffix(quoted, ")"))
	if err != nil {
		f.Fatalf("%s: %v", file, err)
	}
	return []byte(s)
}

// validBody is a valid request to build corner cases from.
const validBody = `{"correlation_id":"abc","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"}}`

// cornerBodies are bodies at the edges of what the fast path handles.
var cornerBodies = []string{
	validBody,
	` ` + validBody + "\r\n\t",
	validBody + `x`,
	"\ufeff" + validBody,
	`{"correlation_id":"abc","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"},"status":"Completed"}`,
	`{"correlation_id":"abc","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"},"status":"Comp\u006ceted"}`,
	`{"correlation_id":"abc","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"},"status":"Done","status":"Failed"}`,
	`{"correlation_id":"abc","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"},"status":"Failed","status":"Done"}`,
	// Escaped keys still name the fields.
	`{"correlation\u005fid":"abc","d\u0061ta":{"m\u0065ssage":"ping","timestamp":"2026-11-27T10:00:00Z"}}`,
	`{"Correlation_id":"abc","correlation_id":"def","data":{"Message":"x","message":"ping","timestamp":"2026-11-27T10:00:00Z"}}`,
	// Duplicate data objects: the last one wins whole.
	`{"correlation_id":"abc","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"},"data":{"message":"pong"}}`,
	`{"correlation_id":"abc","data":{"message":"ping"},"data":{"message":"pong","timestamp":"2026-11-27T10:00:00Z"}}`,
	`{"correlation_id":"abc","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"},"data":null}`,
	`{"correlation_id":"abc","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"},"data":"x"}`,
	// Escapes and surrogates in values.
	`{"correlation_id":"a\"b\\c\/d\b\f\n\r\t","data":{"message":"\ud83d\ude80 \ud83d \ude80 \udc00\ud800 \ud800\ud800\udc00 \ud800\\u0041","timestamp":"2026-11-27T10:00:00Z"}}`,
	`{"correlation_id":"\u0000","data":{"message":"\u00e9\u20ac","timestamp":"2026\u002d11-27T10:00:00Z"}}`,
	`{"correlation_id":"abc","data":{"message":"\x","timestamp":"2026-11-27T10:00:00Z"}}`,
	`{"correlation_id":"abc","data":{"message":"\u12","timestamp":"2026-11-27T10:00:00Z"}}`,
	"{\"correlation_id\":\"abc\",\"data\":{\"message\":\"a\tb\",\"timestamp\":\"2026-11-27T10:00:00Z\"}}",
	"{\"correlation_id\":\"abc\",\"data\":{\"message\":\"a\x7fb\",\"timestamp\":\"2026-11-27T10:00:00Z\"}}",
	// Unknown values of every kind, valid and not.
	`{"x":[1,-0.5e+3,0,-0,1E9,true,false,null,{"a":[]},[],{},"s"],` + validBody[1:],
	`{"x":01,` + validBody[1:],
	`{"x":-,` + validBody[1:],
	`{"x":1.,` + validBody[1:],
	`{"x":.5,` + validBody[1:],
	`{"x":1e,` + validBody[1:],
	`{"x":tru,` + validBody[1:],
	`{"x":nul,` + validBody[1:],
	`{"x":[1,],` + validBody[1:],
	`{"x":{"a":1,},` + validBody[1:],
	`{"x":{"a"},` + validBody[1:],
	`{"x":[` + strings.Repeat("[", 70) + strings.Repeat("]", 71) + `,` + validBody[1:],
	`{"x":[` + strings.Repeat("[", 10001) + strings.Repeat("]", 10002) + `,` + validBody[1:],
	`{,` + validBody[1:],
	`{}`,
	`{"correlation_id":"abc","data":{}}`,
	`{"correlation_id":"abc","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z",}}`,
	`{"correlation_id":"abc" "data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"}}`,
	`{"correlation_id":"abc","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"}`,
	`{"correlation_id":"abc","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"}}}`,
	`{"correlation_id":"abc","data":{"message":"ping","timestamp":"2024-02-29 23:59:59.999999999+23:59"}}`,
	`{"correlation_id":"abc","data":{"message":"ping","timestamp":"2023-02-29T00:00:00Z"}}`,
	`{"correlation_id":"abc","data":{"message":"ping","timestamp":"0000-02-29T00:00:00z"}}`,
	`{"correlation_id":"` + strings.Repeat("é", 128) + `","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"}}`,
	`{"correlation_id":"` + strings.Repeat(`\u00e9`, 129) + `","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"}}`,
	`{"correlation_id":"\ud800","data":{"message":"ping","timestamp":"2026-11-27T10:00:00Z"}}`,
	"{\"correlation_id\":\"abc\",\"data\":{\"message\":\"\xff\",\"timestamp\":\"2026-11-27T10:00:00Z\"}}",
	`[]`, `null`, `"x"`, `1`, ``, ` `, `{`, `{"`, `{"a`, `{"a"`, `{"a":`, `{"a":"`,
}

// timestampSeeds are timestamps on both sides of every rule.
var timestampSeeds = []string{
	"2026-11-27T10:00:00Z", "2026-11-27T10:00:00.5Z", "2026-11-27T10:00:00.123456789Z",
	"2026-11-27T10:00:00.1234567890Z", "2026-11-27T10:00:00.Z", "2026-11-27T10:00:00,5Z",
	"2026-11-27t10:00:00z", "2026-11-27 10:00:00", "2026-11-27_10:00:00",
	"2024-05-01T12:00:00.123456", "2024-05-01T12:00:00.123456+00:00", "2024-05-01T12:00:00-00:00",
	"2024-02-29T23:59:59.999999+23:59", "2024-02-29T23:59:59+24:00", "2024-02-29T23:59:59+23:60",
	"2026-11-27T10:00:00+0200", "2026-11-27T10:00:00+02", "2026-11-27T10:00:00 Z",
	"2026-02-29T10:00:00Z", "2000-02-29T10:00:00Z", "1900-02-29T10:00:00Z", "0000-02-29T00:00:00Z",
	"2026-13-01T10:00:00Z", "2026-00-01T10:00:00Z", "2026-01-00T10:00:00Z", "2026-04-31T10:00:00Z",
	"2026-11-27T24:00:00Z", "2026-11-27T10:60:00Z", "2026-11-27T10:00:60Z",
	"2026-11-27T1:00:00Z", "2026-11-27T10:00Z", "2026-11-27", "", "yesterday",
	" 2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z\n", "２０２６-11-27T10:00:00Z",
	"9999-12-31T23:59:59.999999999-23:59",
}
