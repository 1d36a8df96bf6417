package server

import (
	"slices"

	"github.com/bascule/bascule/internal/router"
)

// CrossOriginExempt lets the external tests put the control plane behind
// http.CrossOriginProtection as it is meant to be configured.
func CrossOriginExempt() []string { return slices.Clone(crossOriginExempt) }

// RouterOf lets the external tests look at the server's own router.
func RouterOf(s *Server) *router.Router { return s.router }
