package feature

import (
	"math"
)

// Kind is the JSON type shared by all of a flag's variant values.
type Kind string

// The kinds of flag values, named as OFREP and OpenFeature name them.
const (
	KindBoolean Kind = "boolean"
	KindString  Kind = "string"
	KindNumber  Kind = "number"
	KindObject  Kind = "object"
)

// kindOf returns the kind of a normalized value, or "" for an unsupported one.
func kindOf(v any) Kind {
	switch x := v.(type) {
	case bool:
		return KindBoolean
	case string:
		return KindString
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "" // JSON has no NaN or infinity
		}
		return KindNumber
	case map[string]any:
		return KindObject
	}
	return ""
}

// normalizeValue turns every Go number into float64 (the JSON number type, so
// that values read from YAML, JSON or Go compare equal) and walks objects and
// lists to do the same inside them.
func normalizeValue(v any) any {
	if n, ok := toFloat(v); ok {
		return n
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizeValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeValue(e)
		}
		return out
	}
	return v
}

// toFloat converts any Go number to float64.
func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int8:
		return float64(n), true
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint8:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	}
	return 0, false
}
