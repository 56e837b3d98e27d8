package logging

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A 900 KB value becomes a field of about MaxFieldBytes that says how much was cut.
func TestStringCutsLongValues(t *testing.T) {
	long := "/" + strings.Repeat("é", 450_000)
	got := String("path", long).String
	if len(got) > MaxFieldBytes+32 {
		t.Fatalf("field is %d bytes, want at most about %d", len(got), MaxFieldBytes)
	}
	if !utf8.ValidString(got) || !strings.HasSuffix(got, " bytes cut)") {
		t.Fatalf("field %q...: want valid UTF-8 ending in the cut count", got[len(got)-40:])
	}
	if short := String("path", "/v1/ping").String; short != "/v1/ping" {
		t.Fatalf("a short value changed: %q", short)
	}
	if id := CorrelationID(strings.Repeat("x", 520_000)).String; len(id) > MaxFieldBytes+32 {
		t.Fatalf("correlation_id field is %d bytes", len(id))
	}
}
