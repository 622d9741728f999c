package commands

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/deckhand/deckhand"
)

// MaxPayload is the longest button payload the signer produces or accepts:
// Telegram's callback_data limit, which also fits Discord's custom_id.
const MaxPayload = 64

// MinSecretLen is the shortest HMAC key accepted.
const MinSecretLen = 32

const (
	payloadVersion = '1'
	macLen         = 12 // bytes of HMAC-SHA256 kept: 96 bits is plenty for expiring tokens
)

// Signer produces and checks compact, expiring, HMAC-signed references of
// the form "<version><op>.<ref>.<expiry base36>.<mac base64url>". The
// payload carries only an operation code and a reference (an alert id or a
// pending confirmation id), never a command line.
type Signer struct {
	key []byte
	now func() time.Time
}

// NewSigner returns a Signer keyed by secret (at least MinSecretLen bytes).
// now defaults to time.Now.
func NewSigner(secret []byte, now func() time.Time) (*Signer, error) {
	if err := checkSecret(secret); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{key: append([]byte(nil), secret...), now: now}, nil
}

// checkSecret is the one rule on the HMAC key.
func checkSecret(secret []byte) error {
	if len(secret) < MinSecretLen {
		return deckhand.Invalid("secret", "too short (%d bytes): use at least %d random bytes, e.g. `openssl rand -hex 32`", len(secret), MinSecretLen)
	}
	return nil
}

func validToken(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Sign returns the payload for op and ref valid for ttl. op and ref are
// produced by code, never by users: they must be short base64url-alphabet
// strings. Sign panics when they are not or when the payload would exceed
// MaxPayload, because that is a programming error.
func (s *Signer) Sign(op, ref string, ttl time.Duration) string {
	if !validToken(op, 4) || !validToken(ref, 24) {
		panic(fmt.Sprintf("commands: invalid signer op %q or ref %q", op, ref))
	}
	exp := s.now().Add(ttl).Unix()
	body := string(payloadVersion) + op + "." + ref + "." + strconv.FormatInt(exp, 36)
	p := body + "." + s.mac(body)
	if len(p) > MaxPayload {
		panic(fmt.Sprintf("commands: payload %d bytes exceeds %d", len(p), MaxPayload))
	}
	return p
}

func (s *Signer) mac(body string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:macLen])
}

// Token is a verified payload.
type Token struct {
	Op, Ref string
	// ID names this payload among all the signer made (its MAC, which
	// differs whenever op, ref or expiry do): the key under which a
	// single-use token is remembered as used.
	ID      string
	Expires time.Time
}

// Verify checks a payload and returns its op and ref, as Parse does.
func (s *Signer) Verify(payload string) (op, ref string, err error) {
	t, err := s.Parse(payload)
	return t.Op, t.Ref, err
}

// Parse checks a payload and returns the token it carries. A malformed or
// tampered payload is deckhand.ErrBadSignature; a genuine but expired one is
// deckhand.ErrExpired (with the token's op and ref). The signature is
// checked first so that an edited expiry reads as tampering.
//
// The MAC is compared as text, not as decoded bytes: Go's base64 decoder
// skips '\r' and '\n', so decoding would accept many spellings of one
// token, and a single-use token must have exactly one.
func (s *Signer) Parse(payload string) (Token, error) {
	bad := fmt.Errorf("button payload: %w", deckhand.ErrBadSignature)
	if len(payload) < 2 || len(payload) > MaxPayload || payload[0] != payloadVersion {
		return Token{}, bad
	}
	i := strings.LastIndexByte(payload, '.')
	if i < 0 {
		return Token{}, bad
	}
	body, sig := payload[:i], payload[i+1:]
	if !hmac.Equal([]byte(sig), []byte(s.mac(body))) {
		return Token{}, bad
	}
	parts := strings.Split(body[1:], ".")
	if len(parts) != 3 || !validToken(parts[0], 4) || !validToken(parts[1], 24) {
		return Token{}, bad
	}
	exp, perr := strconv.ParseInt(parts[2], 36, 64)
	if perr != nil {
		return Token{}, bad
	}
	t := Token{Op: parts[0], Ref: parts[1], ID: sig, Expires: time.Unix(exp, 0)}
	if !s.now().Before(t.Expires) {
		return t, fmt.Errorf("button payload: %w", deckhand.ErrExpired)
	}
	return t, nil
}
