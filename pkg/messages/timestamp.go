package messages

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// timestampPattern is the union of RFC 3339 and what Python emits:
// datetime.isoformat() (no offset when the datetime is naive), str(datetime)
// (a space instead of the "T") and pydantic's JSON mode ("Z" for UTC).
// It is checked before time.Parse because time.Parse alone is looser than
// RFC 3339: it takes one-digit hours, a comma before the fraction and
// offsets of 24 hours or more.
var timestampPattern = regexp.MustCompile(
	`^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))?$`)

// ParseTimestamp parses a message timestamp. It accepts RFC 3339 text, as
// Go's [time.RFC3339Nano] and pydantic write it, and the forms Python's
// datetime writes:
//
//	2024-05-01T12:00:00.123456Z       RFC 3339, pydantic
//	2024-05-01T12:00:00.123456+02:00  isoformat() of an aware datetime
//	2024-05-01T12:00:00.123456        isoformat() of a naive datetime
//	2024-05-01 12:00:00               str(datetime)
//
// A timestamp without an offset is taken to be UTC. Up to nine fractional
// digits are accepted; anything else, including out-of-range fields such
// as a 30th of February, is an error.
func ParseTimestamp(s string) (time.Time, error) {
	m := timestampPattern.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("messages: timestamp %s is not RFC 3339", quoteTruncated(s))
	}
	// time.Parse would take "+24:00"; RFC 3339 and Python both stop short
	// of a day.
	if offHours, offMinutes := m[1], m[2]; offHours != "" {
		h, _ := strconv.Atoi(offHours)
		mm, _ := strconv.Atoi(offMinutes)
		if h > 23 || mm > 59 {
			return time.Time{}, fmt.Errorf("messages: timestamp %s has an offset out of range", quoteTruncated(s))
		}
	}

	// Bring the accepted variants to the one layout time.Parse checks
	// ranges for: upper-case "T" and "Z" (RFC 3339 allows lower case),
	// and an explicit UTC offset on naive timestamps.
	norm := []byte(s)
	norm[10] = 'T'
	if last := norm[len(norm)-1]; last == 'z' {
		norm[len(norm)-1] = 'Z'
	} else if m[1] == "" && last != 'Z' {
		norm = append(norm, 'Z')
	}
	t, err := time.Parse(time.RFC3339Nano, string(norm))
	if err != nil {
		return time.Time{}, fmt.Errorf("messages: timestamp %s is out of range: %w", quoteTruncated(s), err)
	}
	return t, nil
}

// FormatTimestamp formats t as a message timestamp: RFC 3339 in UTC with as
// many fractional digits as needed, e.g. "2026-11-27T10:00:00.5Z".
func FormatTimestamp(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// quoteTruncated quotes s for an error message, cut short so that a hostile
// payload cannot blow up log lines.
func quoteTruncated(s string) string {
	const limit = 64 // runes
	n := 0
	for i := range s {
		if n == limit {
			return strconv.Quote(s[:i]) + "..."
		}
		n++
	}
	return strconv.Quote(s)
}
