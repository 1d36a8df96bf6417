package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store"
)

func (c *Client) sendJSON(ctx context.Context, method, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.do(ctx, method, path, bytes.NewReader(b), "application/json", out)
}

// Users lists the users, by name.
func (c *Client) Users(ctx context.Context) ([]store.User, error) {
	var out struct{ Users []store.User }
	return out.Users, c.do(ctx, http.MethodGet, "/api/v1/users", nil, "", &out)
}

// CreateUser adds a user. With an empty password the server generates
// one and returns it: the only time it is shown.
func (c *Client) CreateUser(ctx context.Context, name, role, password string) (store.User, string, error) {
	var out struct {
		User     store.User
		Password string
	}
	in := map[string]string{"name": name, "role": role, "password": password}
	err := c.sendJSON(ctx, http.MethodPost, "/api/v1/users", in, &out)
	return out.User, out.Password, err
}

// UpdateUser changes a user's role, password or disabled state.
func (c *Client) UpdateUser(ctx context.Context, name string, ch auth.UserChange) (store.User, error) {
	var out struct{ User store.User }
	return out.User, c.sendJSON(ctx, http.MethodPut, "/api/v1/users/"+url.PathEscape(name), ch, &out)
}

// DeleteUser removes a user and ends their sessions.
func (c *Client) DeleteUser(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/users/"+url.PathEscape(name), nil, "", nil)
}

// Tokens lists the API tokens, without their secrets.
func (c *Client) Tokens(ctx context.Context) ([]store.Token, error) {
	var out struct{ Tokens []store.Token }
	return out.Tokens, c.do(ctx, http.MethodGet, "/api/v1/tokens", nil, "", &out)
}

// CreateToken makes an API token and returns it with its secret, shown
// only this once. expiresIn is a Go duration ("720h"), "never", or empty
// for the server's default.
func (c *Client) CreateToken(ctx context.Context, name, role, expiresIn string) (store.Token, string, error) {
	var out struct {
		Token  store.Token
		Secret string
	}
	in := map[string]string{"name": name, "role": role, "expires_in": expiresIn}
	err := c.sendJSON(ctx, http.MethodPost, "/api/v1/tokens", in, &out)
	return out.Token, out.Secret, err
}

// RevokeToken deletes an API token: it stops working at once.
func (c *Client) RevokeToken(ctx context.Context, id int64) error {
	return c.do(ctx, http.MethodDelete, fmt.Sprintf("/api/v1/tokens/%d", id), nil, "", nil)
}
