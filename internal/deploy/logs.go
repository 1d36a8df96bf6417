package deploy

// Logs returns the last n lines the app in color wrote, oldest first; nil
// when the driver keeps no logs (static) or the slot never ran. The web UI
// shows it live beside a deployment's steps.
func (s *Service) Logs(color string, n int) []string {
	return s.opts.Driver.Logs(color, n)
}
