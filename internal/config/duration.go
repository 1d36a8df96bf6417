package config

import (
	"fmt"
	"strings"
	"time"
)

// parseDuration parses a Go duration ("500ms", "2s", "1m30s"). A number
// without a unit is refused with a hint, because a reader cannot tell
// whether "30" meant seconds or milliseconds.
func parseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t != "" && strings.Trim(t, "0123456789.+-") == "" {
		return 0, fmt.Errorf("%s has no unit; write e.g. \"%sms\" or \"%ss\"", t, t, t)
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration; write e.g. \"500ms\", \"2s\" or \"1m30s\"", s)
	}
	return d, nil
}
