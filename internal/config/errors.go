package config

import "github.com/bascule/bascule/internal/yamldoc"

// Error is one problem in a config file, formatted "file:line: msg" (see
// yamldoc.Error). Line 0 means the problem concerns the whole file: a key
// that is missing altogether, or a YAML error without a position.
type Error = yamldoc.Error

// Errors is every problem found in a config file, in line order, so that
// one run of `bascule serve` shows the operator all there is to fix. It
// unwraps to each *Error.
type Errors = yamldoc.Errors
