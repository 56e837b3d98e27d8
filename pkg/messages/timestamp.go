package messages

import (
	"fmt"
	"strconv"
	"time"
)

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
	zone, ok := timestampShape(s)
	if !ok {
		return time.Time{}, fmt.Errorf("messages: timestamp %s is not RFC 3339", quoteTruncated(s))
	}
	// time.Parse would take "+24:00"; RFC 3339 and Python both stop short
	// of a day.
	if isOffset(zone) && !offsetInRange(s) {
		return time.Time{}, fmt.Errorf("messages: timestamp %s has an offset out of range", quoteTruncated(s))
	}

	// Bring the accepted variants to the one layout time.Parse checks
	// ranges for: upper-case "T" and "Z" (RFC 3339 allows lower case),
	// and an explicit UTC offset on naive timestamps.
	norm := s
	if s[10] != 'T' || zone == 'z' || zone == 0 {
		b := []byte(s)
		b[10] = 'T'
		switch zone {
		case 'z':
			b[len(b)-1] = 'Z'
		case 0:
			b = append(b, 'Z')
		}
		norm = string(b)
	}
	t, err := time.Parse(time.RFC3339Nano, norm)
	if err != nil {
		return time.Time{}, fmt.Errorf("messages: timestamp %s is out of range: %w", quoteTruncated(s), err)
	}
	return t, nil
}

// timestampShape reports whether s has the form ParseTimestamp accepts,
// ranges aside:
//
//	YYYY-MM-DD[Tt ]hh:mm:ss[.f{1,9}][Zz|[+-]hh:mm]
//
// with ASCII digits, and what it ends with: 0 when it has no offset (a naive
// timestamp), 'Z' or 'z', or the sign of an offset. It is the union of
// RFC 3339 and what Python emits: datetime.isoformat() (no offset when the
// datetime is naive), str(datetime) (a space instead of the "T") and
// pydantic's JSON mode ("Z" for UTC). It is checked before time.Parse
// because time.Parse alone is looser than RFC 3339: it takes one-digit
// hours, a comma before the fraction and offsets of 24 hours or more.
func timestampShape(s string) (zone byte, ok bool) {
	const base = len("2006-01-02T15:04:05")
	if len(s) < base {
		return 0, false
	}
	for i := range base {
		c := s[i]
		switch i {
		case 4, 7:
			ok = c == '-'
		case 10:
			ok = c == 'T' || c == 't' || c == ' '
		case 13, 16:
			ok = c == ':'
		default:
			ok = isDigit(c)
		}
		if !ok {
			return 0, false
		}
	}
	rest := s[base:]
	if len(rest) > 0 && rest[0] == '.' {
		n := 1
		for n < len(rest) && isDigit(rest[n]) {
			n++
		}
		if n == 1 || n > 1+9 {
			return 0, false
		}
		rest = rest[n:]
	}
	switch len(rest) {
	case 0:
		return 0, true
	case 1:
		return rest[0], rest[0] == 'Z' || rest[0] == 'z'
	case len("+07:00"):
		ok = (rest[0] == '+' || rest[0] == '-') && isDigit(rest[1]) && isDigit(rest[2]) &&
			rest[3] == ':' && isDigit(rest[4]) && isDigit(rest[5])
		return rest[0], ok
	}
	return 0, false
}

func isOffset(zone byte) bool { return zone == '+' || zone == '-' }

// offsetInRange reports whether the offset that ends s, which has a
// timestamp's shape, is less than a day.
func offsetInRange(s string) bool {
	off := s[len(s)-len("07:00"):]
	return twoDigits(off[0:2]) <= 23 && twoDigits(off[3:5]) <= 59
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// twoDigits is the value of s, two ASCII digits.
func twoDigits(s string) int {
	return int(s[0]-'0')*10 + int(s[1]-'0')
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
