package messages_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/streamgate/streamgate/pkg/messages"
)

// contractCase is one body of testdata/contract/cases.json and what the
// Python models made of it, as tests/python/contract_cases.py wrote it.
type contractCase struct {
	Name       string  `json:"name"`
	Body       *string `json:"body"`
	BodyBase64 string  `json:"body_base64"`
	Request    verdict `json:"request"`
	Response   verdict `json:"response"`
}

type verdict struct {
	Accepted     bool            `json:"accepted"`
	Value        json.RawMessage `json:"value"` // model_dump(mode="json") when accepted
	ValueNotUTF8 bool            `json:"value_not_utf8"`
	Error        string          `json:"error"`
}

// deviations (testdata/contract/deviations.json, case name -> reason) are the bodies
// Python's json module reads and Go does not, on purpose: they are not JSON (RFC 8259)
// or hold text UTF-8 cannot carry, so no Go JSON reader takes them and the worker
// dead-letters them. tests/e2e reads the same file.
func deviations(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "contract", "deviations.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestContractMatchesPydantic decodes every body that the real pydantic models
// judged, and requires the same verdict: what they accept decodes to the same
// values, what they reject fails. Regenerate the file with `make contract`.
func TestContractMatchesPydantic(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "contract", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []contractCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	deviations := deviations(t)
	if len(file.Cases) < 90 {
		t.Fatalf("only %d cases in the contract file", len(file.Cases))
	}
	for _, c := range file.Cases {
		body := []byte(c.BodyBase64)
		if c.Body != nil {
			body = []byte(*c.Body)
		} else if body, err = base64.StdEncoding.DecodeString(c.BodyBase64); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		t.Run(c.Name, func(t *testing.T) {
			req, reqErr := messages.DecodeRequest(body)
			res, resErr := messages.DecodeResponse(body)
			if reason, ok := deviations[c.Name]; ok {
				if !c.Request.Accepted || !c.Response.Accepted {
					t.Fatalf("listed as a deviation (%s), but pydantic rejects it now", reason)
				}
				if !errors.Is(reqErr, messages.ErrInvalidJSON) || !errors.Is(resErr, messages.ErrInvalidJSON) {
					t.Fatalf("deviation (%s): want ErrInvalidJSON, got %v / %v", reason, reqErr, resErr)
				}
				return
			}
			checkVerdict(t, "DecodeRequest", c.Request, reqErr, func() ([]byte, error) { return messages.EncodeRequest(req) })
			checkVerdict(t, "DecodeResponse", c.Response, resErr, func() ([]byte, error) { return messages.EncodeResponse(res) })
		})
	}
}

// checkVerdict compares a decoder's outcome with pydantic's: the same
// acceptance and, when accepted, the same fields (compared as the JSON the
// Go value encodes to against pydantic's model_dump).
func checkVerdict(t *testing.T, decoder string, want verdict, err error, encode func() ([]byte, error)) {
	t.Helper()
	if !want.Accepted {
		if err == nil {
			t.Errorf("%s accepted a body pydantic rejects (%s)", decoder, want.Error)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: %v; pydantic accepts it", decoder, err)
		return
	}
	b, err := encode()
	if err != nil {
		t.Errorf("%s: re-encoding: %v", decoder, err)
		return
	}
	var got, exp any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want.Value, &exp); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("%s = %s, pydantic made %s", decoder, b, want.Value)
	}
}
