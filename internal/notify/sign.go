package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The headers of a delivery.
const (
	HeaderEvent     = "X-Bascule-Event"
	HeaderDelivery  = "X-Bascule-Delivery"
	HeaderTimestamp = "X-Bascule-Timestamp"
	HeaderSignature = "X-Bascule-Signature"
)

// signaturePrefix names the scheme in X-Bascule-Signature.
const signaturePrefix = "sha256="

// MaxSkew is how far from the receiver's clock Verify accepts a timestamp.
const MaxSkew = 5 * time.Minute

// Sign returns the X-Bascule-Signature value for body sent at timestamp
// (Unix seconds): "sha256=" and the hex HMAC-SHA256 of "timestamp.body".
func Sign(secret []byte, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// ErrBadSignature is returned by Verify for a request not signed with the
// secret, or signed too long ago.
var ErrBadSignature = errors.New("bad webhook signature")

// Verify checks a delivery as a receiver should: timestamp and signature
// are the X-Bascule-Timestamp and X-Bascule-Signature headers, body the raw
// request body, now the receiver's clock. It returns an error wrapping
// ErrBadSignature when the signature is not the secret's or the timestamp
// is more than MaxSkew from now.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not Unix seconds", ErrBadSignature, timestamp)
	}
	if skew := now.Sub(time.Unix(ts, 0)); skew > MaxSkew || skew < -MaxSkew {
		return fmt.Errorf("%w: timestamp is %s away from now", ErrBadSignature, skew.Round(time.Second))
	}
	if !strings.HasPrefix(signature, signaturePrefix) {
		return fmt.Errorf("%w: want %s<hex>", ErrBadSignature, signaturePrefix)
	}
	if !hmac.Equal([]byte(signature), []byte(Sign(secret, ts, body))) {
		return fmt.Errorf("%w: does not match the body", ErrBadSignature)
	}
	return nil
}
