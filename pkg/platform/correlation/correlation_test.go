package correlation

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestValid(t *testing.T) {
	cases := []struct {
		name string
		id   string
		want bool
	}{
		{"uuid", "3f2b8c1e-9d4a-4e7b-8f1c-2a6d5e9b0c47", true},
		{"urn uuid", "urn:uuid:3f2b8c1e-9d4a-4e7b-8f1c-2a6d5e9b0c47", true},
		{"braced uuid", "{3f2b8c1e-9d4a-4e7b-8f1c-2a6d5e9b0c47}", true},
		{"plain token", "order-42.retry_1", true},
		{"128 chars", strings.Repeat("a", 128), true},
		{"129 chars", strings.Repeat("a", 129), false},
		{"empty", "", false},
		{"space", "a b", false},
		{"newline injection", "abc\r\nX-Evil: 1", false},
		{"json quote", `a"b`, false},
		{"non ascii", "corrélation", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Valid(tc.id); got != tc.want {
				t.Fatalf("Valid(%q) = %v, want %v", tc.id, got, tc.want)
			}
		})
	}
}

func TestOrNew(t *testing.T) {
	if got := OrNew("keep-me"); got != "keep-me" {
		t.Fatalf("OrNew kept %q, want keep-me", got)
	}
	got := OrNew("bad id")
	if _, err := uuid.Parse(got); err != nil {
		t.Fatalf("OrNew replaced a bad ID with %q, not a UUID: %v", got, err)
	}
}

func TestContextRoundTrip(t *testing.T) {
	ctx := context.Background()
	if got := FromContext(ctx); got != "" {
		t.Fatalf("empty context carries %q", got)
	}
	if got := FromContext(WithID(ctx, "abc")); got != "abc" {
		t.Fatalf("FromContext = %q, want abc", got)
	}
}

// Valid runs on every request the gateway serves and every record the worker names.
func BenchmarkValid(b *testing.B) {
	id := uuid.NewString()
	for b.Loop() {
		if !Valid(id) {
			b.Fatal("a UUID is not valid")
		}
	}
}

// plain accepts exactly what the regexp it replaced did: every byte value alone, and
// whatever the fuzzer makes of the seeds (make fuzz runs it longer).
func FuzzPlainMatchesItsRegexp(f *testing.F) {
	alphabet := regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	for c := range 256 {
		f.Add(string([]byte{byte(c)}))
	}
	for _, seed := range []string{"", "order-42.retry_1", "a b", "abc\r\nX-Evil: 1", "corrélation", "{uuid}", "A-Z_a.z-0.9"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := plain(id), alphabet.MatchString(id); got != want {
			t.Fatalf("plain(%q) = %v, the regexp says %v", id, got, want)
		}
	})
}
