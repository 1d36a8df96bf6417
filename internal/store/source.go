package store

import "context"

type sourceKey struct{}

// WithSource returns ctx carrying where the request it serves came from
// ("203.0.113.7 via session"), for the audit entries written on its behalf
// by layers that never see the request.
func WithSource(ctx context.Context, source string) context.Context {
	return context.WithValue(ctx, sourceKey{}, source)
}

// SourceFrom returns what WithSource put in ctx, or "".
func SourceFrom(ctx context.Context) string {
	s, _ := ctx.Value(sourceKey{}).(string)
	return s
}
