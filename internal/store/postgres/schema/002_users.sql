CREATE TABLE users (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name          text NOT NULL UNIQUE,
	role          text NOT NULL,
	password_hash text NOT NULL,
	created_at    timestamptz NOT NULL,
	disabled_at   timestamptz
);

-- Sessions are keyed by the SHA-256 of their ID: the ID itself is only ever
-- in the user's cookie.
CREATE TABLE sessions (
	id_hash    text PRIMARY KEY,
	user_name  text NOT NULL REFERENCES users(name) ON DELETE CASCADE,
	csrf_token text NOT NULL,
	created_at timestamptz NOT NULL,
	last_seen  timestamptz NOT NULL,
	expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_name);
CREATE INDEX sessions_expires ON sessions (expires_at);
