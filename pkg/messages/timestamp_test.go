package messages_test

import (
	"strings"
	"testing"
	"time"

	"github.com/streamgate/streamgate/pkg/messages"
)

func TestParseTimestampAccepts(t *testing.T) {
	cet := time.FixedZone("", 2*3600)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-11-27T10:00:00Z", time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)},
		{"2026-11-27T10:00:00.5Z", time.Date(2026, 11, 27, 10, 0, 0, 500_000_000, time.UTC)},
		{"2026-11-27T10:00:00.123456789Z", time.Date(2026, 11, 27, 10, 0, 0, 123_456_789, time.UTC)},
		{"2026-11-27T12:00:00+02:00", time.Date(2026, 11, 27, 12, 0, 0, 0, cet)},
		{"2026-11-27T08:30:00-01:30", time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)},
		{"2026-11-27t10:00:00z", time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}, // RFC 3339 allows lower case
		// Python: naive isoformat() with and without microseconds, and
		// str(datetime). Naive means UTC.
		{"2024-05-01T12:00:00.123456", time.Date(2024, 5, 1, 12, 0, 0, 123_456_000, time.UTC)},
		{"2024-05-01T12:00:00", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)},
		{"2024-05-01 12:00:00.123456", time.Date(2024, 5, 1, 12, 0, 0, 123_456_000, time.UTC)},
		{"2024-05-01T12:00:00.123456+00:00", time.Date(2024, 5, 1, 12, 0, 0, 123_456_000, time.UTC)},
		{"2024-02-29T23:59:59.999999+23:59", time.Date(2024, 2, 29, 0, 0, 59, 999_999_000, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := messages.ParseTimestamp(tt.in)
			if err != nil {
				t.Fatalf("ParseTimestamp: %v", err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("ParseTimestamp = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseTimestampRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"yesterday",
		"1764237600",
		"2026-11-27",                      // date only
		"10:00:00Z",                       // time only
		"2026-11-27T10:00Z",               // no seconds
		"2026-11-27T1:00:00Z",             // one-digit hour (time.Parse takes it)
		"2026-11-27T10:00:00,5Z",          // comma fraction (time.Parse takes it)
		"2026-11-27T10:00:00.Z",           // empty fraction
		"2026-11-27T10:00:00.1234567890Z", // beyond nanoseconds
		"2026-11-27T10:00:00+0200",        // offset without colon
		"2026-11-27T10:00:00+02",          // offset without minutes
		"2026-11-27T10:00:00+24:00",       // offset of a day (time.Parse takes it)
		"2026-11-27T10:00:00+02:60",
		"2026-11-27T10:00:00 Z",
		" 2026-11-27T10:00:00Z",
		"2026-11-27T10:00:00Z\n",
		"2026-11-27_10:00:00Z",
		"2026-13-01T10:00:00Z",
		"2026-02-29T10:00:00Z", // not a leap year
		"2026-11-27T24:00:00Z",
		"2026-11-27T10:60:00Z",
		"2026-11-27T10:00:60Z", // leap seconds: neither Go nor Python
		"２０２６-11-27T10:00:00Z", // full-width digits
	} {
		t.Run(in, func(t *testing.T) {
			got, err := messages.ParseTimestamp(in)
			if err == nil {
				t.Fatalf("ParseTimestamp(%q) = %v, want an error", in, got)
			}
			if !strings.HasPrefix(err.Error(), "messages: timestamp ") {
				t.Errorf("error text = %q", err)
			}
		})
	}
}

func TestParseTimestampTruncatesHugeInputInError(t *testing.T) {
	_, err := messages.ParseTimestamp(strings.Repeat("x", 10_000))
	if err == nil {
		t.Fatal("ParseTimestamp accepted garbage")
	}
	if len(err.Error()) > 200 {
		t.Errorf("error is %d bytes long, want it cut short", len(err.Error()))
	}
}

func TestFormatTimestamp(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), "2026-11-27T10:00:00Z"},
		{time.Date(2026, 11, 27, 11, 0, 0, 0, time.FixedZone("CET", 3600)), "2026-11-27T10:00:00Z"},
		{time.Date(2026, 11, 27, 10, 0, 0, 123_456_000, time.UTC), "2026-11-27T10:00:00.123456Z"},
	}
	for _, tt := range tests {
		got := messages.FormatTimestamp(tt.in)
		if got != tt.want {
			t.Errorf("FormatTimestamp(%v) = %q, want %q", tt.in, got, tt.want)
		}
		back, err := messages.ParseTimestamp(got)
		if err != nil || !back.Equal(tt.in) {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", got, back, err, tt.in)
		}
	}
}

func TestFormatTimestampDropsMonotonicReading(t *testing.T) {
	now := time.Now() // carries a monotonic reading, which must not leak into the text
	if _, err := messages.ParseTimestamp(messages.FormatTimestamp(now)); err != nil {
		t.Fatalf("FormatTimestamp(time.Now()) does not parse back: %v", err)
	}
}
