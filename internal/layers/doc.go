// Package layers holds no code: its test keeps bascule's package graph
// pointing the one way docs/ARCHITECTURE.md draws it.
package layers
