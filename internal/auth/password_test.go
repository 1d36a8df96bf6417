package auth_test

import (
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/auth"
)

func TestPasswordHashVerify(t *testing.T) {
	h, err := auth.HashPassword("correct horse battery staple", fastParams)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := auth.VerifyPassword(h, "correct horse battery staple"); !ok || err != nil {
		t.Errorf("VerifyPassword(right password) = %v, %v; want true", ok, err)
	}
	for _, wrong := range []string{"", "correct horse battery stapl", "Correct horse battery staple"} {
		if ok, err := auth.VerifyPassword(h, wrong); ok || err != nil {
			t.Errorf("VerifyPassword(%q) = %v, %v; want false, nil", wrong, ok, err)
		}
	}
	h2, _ := auth.HashPassword("correct horse battery staple", fastParams)
	if h == h2 {
		t.Errorf("two hashes of the same password are equal (%s): the salt is not random", h)
	}
}

// TestPasswordHashEncodesParams: the PHC string carries the parameters, so
// hashes made with older settings still verify after the settings change.
func TestPasswordHashEncodesParams(t *testing.T) {
	h, err := auth.HashPassword("s3cret-pass", auth.PasswordParams{Time: 3, MemoryKiB: 128, Threads: 2, SaltLen: 8, KeyLen: 16})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(h, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v=19" || parts[3] != "m=128,t=3,p=2" {
		t.Fatalf("HashPassword = %q, want $argon2id$v=19$m=128,t=3,p=2$salt$hash", h)
	}
	if len(parts[4]) != 11 || len(parts[5]) != 22 { // 8 and 16 bytes, unpadded base64
		t.Errorf("salt %q and hash %q: want 8 and 16 bytes in unpadded base64", parts[4], parts[5])
	}
	if ok, err := auth.VerifyPassword(h, "s3cret-pass"); !ok || err != nil {
		t.Errorf("VerifyPassword with the hash's own params = %v, %v; want true", ok, err)
	}
	def, _ := auth.HashPassword("x", auth.PasswordParams{})
	if !strings.HasPrefix(def, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("default params hash = %q, want m=19456,t=2,p=1", def)
	}
}

func TestVerifyPasswordRejectsGarbage(t *testing.T) {
	for _, h := range []string{"", "plain", "$2a$10$bcrypt", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=64,t=0,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaA", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$"} {
		if ok, err := auth.VerifyPassword(h, "x"); ok || err == nil {
			t.Errorf("VerifyPassword(%q) = %v, %v; want false and an error", h, ok, err)
		}
	}
}
