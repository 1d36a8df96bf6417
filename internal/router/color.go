package router

import (
	"errors"
	"fmt"
	"strings"
)

// Color names one of the two slots an app runs in.
type Color string

// The two colors. Exactly one of them is live at any moment.
const (
	Blue  Color = "blue"
	Green Color = "green"
)

// ErrUnknownColor is returned (wrapped) for a color that is neither blue nor green.
var ErrUnknownColor = errors.New("unknown color")

// Other returns the opposite color: Green for Blue and Blue for anything else.
func (c Color) Other() Color {
	if c == Blue {
		return Green
	}
	return Blue
}

// ParseColor parses "blue" or "green", ignoring case and surrounding spaces.
// Anything else yields an error wrapping ErrUnknownColor.
func ParseColor(s string) (Color, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case string(Blue):
		return Blue, nil
	case string(Green):
		return Green, nil
	}
	return "", fmt.Errorf("parse color %q: %w (want blue or green)", s, ErrUnknownColor)
}

// slot maps a color to its index in a snapshot; ok is false for unknown colors.
func (c Color) slot() (i int, ok bool) {
	switch c {
	case Blue:
		return 0, true
	case Green:
		return 1, true
	}
	return 0, false
}

// slotColor is the inverse of slot.
func slotColor(i int) Color {
	if i == 0 {
		return Blue
	}
	return Green
}
