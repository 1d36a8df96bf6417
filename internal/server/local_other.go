//go:build !unix

package server

import "os"

func checkOwner(string, os.FileInfo) error { return nil }
