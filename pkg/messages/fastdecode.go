// The fast path is hand-written because a profile put decoding at ~10 % of the
// worker's CPU per record, most of it jsontext's token machinery. It reads only
// the shape peers write, in one pass, and gives up on anything else: then the
// reference decoder (decode.go) reads the whole body. That decoder is the
// fallback and the oracle: FuzzFastDecodeMatchesReference holds this file to it.

package messages

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// span is a member as the fast path read it: its kind, and where its text lies
// in the body when it is a string.
type span struct {
	kind       jsontext.Kind
	start, end int
}

// fastBody is wireBody with spans in place of strings, so that the strings are
// made once, for the last occurrences only, and not at all if the path gives up.
// Message and timestamp are those of the last "data" that was an object.
type fastBody [numFields]span

const (
	fieldCorrelationID = iota
	fieldStatus
	fieldData
	fieldMessage
	fieldTimestamp
	numFields
)

// fastUnmarshal reads b into w as unmarshal would and reports true, or reports
// false, leaving w alone, if b is not of a shape it handles: a top-level object
// whose members are strings without escapes, literals or numbers, and whose
// "data" may be an object of such members. It handles no body unmarshal rejects.
func fastUnmarshal(b []byte, w *wireBody) bool {
	b = bytes.TrimPrefix(b, utf8BOM)
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return false
	}
	var f fastBody
	i, ok := f.scanObject(b, i, true)
	if !ok || skipSpace(b, i) != len(b) {
		return false
	}
	f.fill(b, w)
	return true
}

// scanObject scans the object at b[i] into f, the body's members if top, else
// data's, and returns the index after it.
func (f *fastBody) scanObject(b []byte, i int, top bool) (int, bool) {
	i = skipSpace(b, i+1) // after '{'
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		name, end, ok := scanString(b, i)
		if !ok {
			return 0, false
		}
		i = skipSpace(b, end)
		if i == len(b) || b[i] != ':' {
			return 0, false
		}
		i = skipSpace(b, i+1)
		if top && string(name) == "data" && i < len(b) && b[i] == '{' {
			// A later "data" replaces an earlier one whole.
			f[fieldData], f[fieldMessage], f[fieldTimestamp] = span{kind: '{'}, span{}, span{}
			if i, ok = f.scanObject(b, i, false); !ok {
				return 0, false
			}
		} else {
			var v span
			if v, i, ok = scanScalar(b, i); !ok {
				return 0, false
			}
			if dst := f.field(name, top); dst != nil {
				*dst = v
			}
		}
		i = skipSpace(b, i)
		if i == len(b) {
			return 0, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

// field is where the value of the member name goes, or nil if it is skipped.
func (f *fastBody) field(name []byte, top bool) *span {
	switch {
	case !top && string(name) == "message":
		return &f[fieldMessage]
	case !top && string(name) == "timestamp":
		return &f[fieldTimestamp]
	case top && string(name) == "correlation_id":
		return &f[fieldCorrelationID]
	case top && string(name) == "status":
		return &f[fieldStatus]
	case top && string(name) == "data":
		return &f[fieldData]
	}
	return nil
}

// scanScalar scans the string, literal or number at b[i]; anything else, an
// object or an array, is not handled.
func scanScalar(b []byte, i int) (v span, end int, ok bool) {
	if i == len(b) {
		return span{}, 0, false
	}
	switch c := b[i]; c {
	case '"':
		_, end, ok = scanString(b, i)
		return span{kind: '"', start: i + 1, end: end - 1}, end, ok
	case 'n':
		return span{kind: 'n'}, i + 4, bytes.HasPrefix(b[i:], []byte("null"))
	case 't':
		return span{kind: 't'}, i + 4, bytes.HasPrefix(b[i:], []byte("true"))
	case 'f':
		return span{kind: 'f'}, i + 5, bytes.HasPrefix(b[i:], []byte("false"))
	default:
		if c == '-' || isDigit(c) {
			end, ok = scanNumber(b, i)
			return span{kind: '0'}, end, ok
		}
	}
	return span{}, 0, false
}

// scanString scans the string at b[i] and returns its text, a part of b, and
// the index after its closing quote. Strings with escapes are not handled;
// control characters and invalid UTF-8 are errors, as in jsontext.
func scanString(b []byte, i int) (text []byte, end int, ok bool) {
	if i == len(b) || b[i] != '"' {
		return nil, 0, false
	}
	start := i + 1
	j := start
	// Eight bytes at a time while none of them is a quote, a backslash, a
	// control character or not ASCII: a message can be kilobytes long.
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for j+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[j:])
		quote, backslash := w^(ones*'"'), w^(ones*'\\')
		special := ((w-ones*' ')&^w | (quote-ones)&^quote | (backslash-ones)&^backslash | w) & highs
		if special == 0 {
			j += 8
			continue
		}
		// The lowest flag is exact (borrows only run upwards).
		j += bits.TrailingZeros64(special) / 8
		if b[j] == '"' {
			return b[start:j], j + 1, true
		}
		break
	}
	ascii := true
	for ; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			s := b[start:j]
			if !ascii && !utf8.Valid(s) {
				return nil, 0, false
			}
			return s, j + 1, true
		case c < ' ' || c == '\\':
			return nil, 0, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, 0, false
}

// scanNumber scans the number at b[i] (RFC 8259's grammar) and returns the
// index after it.
func scanNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i == len(b):
		return 0, false
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i+1)
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		start := i + 1
		if i = skipDigits(b, start); i == start {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		if i = skipDigits(b, start); i == start {
			return 0, false
		}
	}
	return i, true
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

// skipSpace returns the index of the first byte from i on that is not JSON
// whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// fill sets w from f. The strings share one allocation: the worker keeps a
// body's fields together anyway, and it is one allocation instead of four.
func (f *fastBody) fill(b []byte, w *wireBody) {
	n := 0
	for _, s := range f {
		if s.kind == '"' {
			n += s.end - s.start
		}
	}
	var sb strings.Builder
	sb.Grow(n)
	for _, s := range f {
		if s.kind == '"' {
			sb.Write(b[s.start:s.end])
		}
	}
	all := sb.String()
	var m [numFields]member
	for k, s := range f {
		m[k].kind = s.kind
		if s.kind == '"' {
			m[k].text, all = all[:s.end-s.start], all[s.end-s.start:]
		}
	}
	w.correlationID, w.status, w.data = m[fieldCorrelationID], m[fieldStatus], m[fieldData]
	w.content = wireContent{message: m[fieldMessage], timestamp: m[fieldTimestamp]}
}
