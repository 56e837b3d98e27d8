package messages

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is the fast path of DecodeRequest and DecodeResponse: a scanner
// for the one shape a body has, a JSON object holding a few known fields,
// one of them an object itself. It reads a valid body in a single pass with
// an allocation per decoded string and none for the structure.
//
// It only ever answers "here is the decoded value" or "don't know": for
// anything it does not fully understand, and for every body that breaks
// the contract, decodeFast reports !ok and the caller runs the general
// path in decode.go, which builds the error. So the fast path cannot change
// which errors are returned; it must only never accept a body the general
// path rejects, nor decode one differently. To that end it
//
//   - checks the JSON syntax of the whole body, including values it skips,
//     as strictly as encoding/json does (RFC 8259);
//   - matches keys exactly, and lets the last of duplicate keys win, as
//     decoding into a map does;
//   - unescapes strings exactly as encoding/json does, invalid surrogates
//     included;
//   - validates the result with the same functions the general path uses.
//
// FuzzDecodeMatchesReference holds it to that against a verbatim copy of
// the decoders as they were before this file existed.

// maxFastDepth bounds the nesting of unknown fields' values the fast path
// follows (the body itself is depth 1); deeper bodies take the general path,
// whose limit (encoding/json's) is far higher.
const maxFastDepth = 64

// span is where a raw JSON value sits in a body: b[start:end]. A zero span
// means the key was not seen; a value is never empty, so end > 0 otherwise.
type span struct{ start, end int }

func (s span) present() bool { return s.end > 0 }

// Indexes into the spans decodeFast records.
const (
	topCorrelationID = iota
	topData
	topStatus
	topFields
)

const (
	dataMessage = iota
	dataTimestamp
	dataFields
)

// decodeFast decodes b if it is a valid body of the usual shape. ok is
// false when b is invalid or unusual; the general path must then decide.
// The status is read only if withStatus; otherwise it is an unknown field.
func decodeFast(b []byte, withStatus bool) (env SampleReqMsg, status Status, ok bool) {
	// A valid body is UTF-8 throughout; this also makes every unescaped
	// string between quotes valid UTF-8, as encoding/json would produce.
	if !utf8.Valid(b) {
		return SampleReqMsg{}, "", false
	}
	var top [topFields]span
	var data [dataFields]span
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return SampleReqMsg{}, "", false
	}
	i++
	// The top level is scanned here rather than by scanObject so that the
	// data object's fields are picked out in the same pass.
	for first := true; ; first = false {
		i = skipSpace(b, i)
		if i >= len(b) {
			return SampleReqMsg{}, "", false
		}
		if b[i] == '}' && first {
			i++
			break
		}
		key, next, ok := scanKey(b, i)
		if !ok {
			return SampleReqMsg{}, "", false
		}
		i = skipSpace(b, next)
		field := -1
		switch {
		case string(key) == "correlation_id":
			field = topCorrelationID
		case string(key) == "data":
			field = topData
		case string(key) == "status":
			field = topStatus
		}
		start := i
		if field == topData && i < len(b) && b[i] == '{' {
			// A later "data" replaces an earlier one, fields and all.
			data = [dataFields]span{}
			i, ok = scanObject(b, i, 2, dataKeys, data[:])
		} else {
			i, ok = scanValue(b, i, 2)
		}
		if !ok {
			return SampleReqMsg{}, "", false
		}
		if field >= 0 {
			top[field] = span{start, i}
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return SampleReqMsg{}, "", false
		}
		if b[i] == '}' {
			i++
			break
		}
		if b[i] != ',' {
			return SampleReqMsg{}, "", false
		}
		i++
	}
	if skipSpace(b, i) != len(b) {
		return SampleReqMsg{}, "", false
	}

	// The body is well-formed JSON. Now the contract, leaving every
	// violation to the general path.
	if d := top[topData]; !d.present() || b[d.start] != '{' {
		return SampleReqMsg{}, "", false
	}
	var idOK, msgOK, tsOK bool
	env.CorrelationID, idOK = stringAt(b, top[topCorrelationID])
	env.Data.Message, msgOK = stringAt(b, data[dataMessage])
	env.Data.Timestamp, tsOK = stringAt(b, data[dataTimestamp])
	if !idOK || !msgOK || !tsOK {
		return SampleReqMsg{}, "", false
	}
	if ValidateCorrelationID(env.CorrelationID) != nil || env.Data.Validate() != nil {
		return SampleReqMsg{}, "", false
	}
	if !withStatus {
		return env, "", true
	}
	status = DefaultStatus
	if s := top[topStatus]; s.present() {
		if status, ok = statusAt(b, s); !ok {
			return SampleReqMsg{}, "", false
		}
	}
	return env, status, true
}

// dataKeys are the fields of the data object, in the order of the dataX
// indexes.
var dataKeys = []string{dataMessage: "message", dataTimestamp: "timestamp"}

// stringAt decodes the JSON string at s. ok is false if s is missing or not
// a string.
func stringAt(b []byte, s span) (string, bool) {
	if !s.present() || b[s.start] != '"' {
		return "", false
	}
	return unquote(b[s.start+1 : s.end-1]), true
}

// statusAt decodes the status at s, allocating only if it has escapes. ok
// is false if it is not a string naming a valid status.
func statusAt(b []byte, s span) (Status, bool) {
	if !s.present() || b[s.start] != '"' {
		return "", false
	}
	raw := b[s.start+1 : s.end-1]
	if bytes.IndexByte(raw, '\\') >= 0 {
		st := Status(unescape(raw))
		return st, st.Valid()
	}
	for _, st := range statuses {
		if string(raw) == string(st) {
			return st, true
		}
	}
	return "", false
}

// scanObject checks the syntax of the object starting at b[i] and returns
// the index just past it. For each key in keys it records where the
// object's last value for that key is in the same position of vals.
// depth is the nesting depth of the object itself.
func scanObject(b []byte, i, depth int, keys []string, vals []span) (int, bool) {
	if depth > maxFastDepth {
		return 0, false
	}
	i++ // '{'
	for first := true; ; first = false {
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, false
		}
		if b[i] == '}' && first {
			return i + 1, true
		}
		key, next, ok := scanKey(b, i)
		if !ok {
			return 0, false
		}
		start := skipSpace(b, next)
		if i, ok = scanValue(b, start, depth+1); !ok {
			return 0, false
		}
		for k, name := range keys {
			if string(key) == name {
				vals[k] = span{start, i}
			}
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, false
		}
		if b[i] == '}' {
			return i + 1, true
		}
		if b[i] != ',' {
			return 0, false
		}
		i++
	}
}

// scanKey scans an object key starting at b[i] and the colon after it,
// returning the key's text and the index just past the colon. The key
// aliases b unless it has escapes.
func scanKey(b []byte, i int) (key []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	end, escaped, ok := scanString(b, i)
	if !ok {
		return nil, 0, false
	}
	key = b[i+1 : end-1]
	if escaped {
		key = []byte(unescape(key))
	}
	next = skipSpace(b, end)
	if next >= len(b) || b[next] != ':' {
		return nil, 0, false
	}
	return key, next + 1, true
}

// scanValue checks the syntax of the JSON value starting at b[i] and
// returns the index just past it. depth is the nesting depth the value
// would have if it is an array or object.
func scanValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		end, _, ok := scanString(b, i)
		return end, ok
	case c == '{':
		return scanObject(b, i, depth, nil, nil)
	case c == '[':
		return scanArray(b, i, depth)
	case c == '-' || isDigit(c):
		return scanNumber(b, i)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	}
	return 0, false
}

// scanArray is scanObject for arrays, without recording anything.
func scanArray(b []byte, i, depth int) (int, bool) {
	if depth > maxFastDepth {
		return 0, false
	}
	i++ // '['
	for first := true; ; first = false {
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, false
		}
		if b[i] == ']' && first {
			return i + 1, true
		}
		var ok bool
		if i, ok = scanValue(b, i, depth+1); !ok {
			return 0, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, false
		}
		if b[i] == ']' {
			return i + 1, true
		}
		if b[i] != ',' {
			return 0, false
		}
		i++
	}
}

// scanString checks the string starting at b[i] (a quote) and returns the
// index just past its closing quote, and whether it has escapes. Control
// characters must be escaped and escapes must be one of JSON's.
func scanString(b []byte, i int) (end int, escaped bool, ok bool) {
	for i++; i < len(b); i++ {
		c := b[i]
		if !stringSpecial[c] {
			continue
		}
		switch {
		case c == '"':
			return i + 1, escaped, true
		case c < 0x20:
			return 0, false, false
		}
		// c == '\\'
		escaped = true
		i++
		if i >= len(b) {
			return 0, false, false
		}
		switch b[i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		case 'u':
			if i+4 >= len(b) {
				return 0, false, false
			}
			for _, h := range b[i+1 : i+5] {
				if hexValue(h) < 0 {
					return 0, false, false
				}
			}
			i += 4
		default:
			return 0, false, false
		}
	}
	return 0, false, false
}

// stringSpecial marks the bytes that end a run of plain text in a string:
// the quote, the backslash and the control characters.
var stringSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// scanNumber checks the number starting at b[i] and returns the index just
// past it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i+1)
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

// scanLiteral checks that b[i:] starts with lit (true, false or null).
func scanLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, false
	}
	return i + len(lit), true
}

// skipSpace skips JSON whitespace, which is only these four bytes.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// hexValue is the value of the hex digit c, or -1.
func hexValue(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return rune(c-'A') + 10
	}
	return -1
}

// unquote returns the text of a string's raw contents (without quotes),
// which scanString has checked.
func unquote(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw)
	}
	return unescape(raw)
}

// unescape decodes the escapes in a string's raw contents, which
// scanString has checked, as encoding/json does: a \u escape of a UTF-16
// surrogate that does not pair with the escape after it becomes U+FFFD.
func unescape(raw []byte) string {
	var sb strings.Builder
	sb.Grow(len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			sb.WriteByte(c)
			i++
			continue
		}
		switch raw[i+1] {
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case 'u':
			r := hex4(raw[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				if len(raw)-i >= 6 && raw[i] == '\\' && raw[i+1] == 'u' {
					if dec := utf16.DecodeRune(r, hex4(raw[i+2:])); dec != unicode.ReplacementChar {
						sb.WriteRune(dec)
						i += 6
						continue
					}
				}
				r = unicode.ReplacementChar
			}
			sb.WriteRune(r)
			continue
		default: // '"', '\\', '/'
			sb.WriteByte(raw[i+1])
		}
		i += 2
	}
	return sb.String()
}

// hex4 is the value of the four hex digits that b starts with.
func hex4(b []byte) rune {
	return hexValue(b[0])<<12 | hexValue(b[1])<<8 | hexValue(b[2])<<4 | hexValue(b[3])
}
