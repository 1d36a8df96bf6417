package flag

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// appendBulk writes a bulk response by hand: encoding/json would box each of
// the hundred results into an interface and reflect over it, which is most of
// the cost of a bulk request.
func appendBulk(b []byte, s *Snapshot, eval func(key string) Result, streamURL string) ([]byte, error) {
	b = append(b, `{"flags":[`...)
	for i, key := range s.FlagKeys() {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendResult(b, eval(key)); err != nil {
			return nil, err
		}
	}
	b = append(b, ']')
	if streamURL != "" {
		b = append(b, `,"eventStreams":[{"type":"sse","url":`...)
		b = appendString(b, streamURL)
		b = append(b, "}]"...)
	}
	return append(b, '}'), nil
}

// appendResult writes one evaluationSuccess or evaluationFailure object.
func appendResult(b []byte, r Result) ([]byte, error) {
	b = append(b, `{"key":`...)
	b = appendString(b, r.Key)
	if r.Reason == ReasonError {
		b = append(b, `,"errorCode":`...)
		b = appendString(b, string(r.ErrorCode))
		if r.ErrorMessage != "" {
			b = append(b, `,"errorDetails":`...)
			b = appendString(b, r.ErrorMessage)
		}
		return append(b, '}'), nil
	}
	b = append(b, `,"value":`...)
	b, err := appendValue(b, r.Value)
	if err != nil {
		return nil, err
	}
	b = append(b, `,"reason":`...)
	b = appendString(b, string(r.Reason))
	if r.Variant != "" {
		b = append(b, `,"variant":`...)
		b = appendString(b, r.Variant)
	}
	return append(b, '}'), nil
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		return appendString(b, x), nil
	case float64:
		// The same format choice as encoding/json; validation keeps out NaN
		// and infinities.
		format := byte('f')
		if a := math.Abs(x); a != 0 && (a < 1e-6 || a >= 1e21) {
			format = 'e'
		}
		b = strconv.AppendFloat(b, x, format, -1, 64)
		if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1] // "1e-07" → "1e-7", as encoding/json writes it
			b = b[:n-1]
		}
		return b, nil
	}
	enc, err := json.Marshal(v)
	return append(b, enc...), err
}

// appendString writes s as a JSON string. Control characters are escaped;
// other UTF-8 passes through. Invalid UTF-8 goes through encoding/json, which
// replaces it.
func appendString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		enc, _ := json.Marshal(s)
		return append(b, enc...)
	}
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
