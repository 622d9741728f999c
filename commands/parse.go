package commands

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/deckhand/deckhand"
)

// MaxLineLen is the longest command line ParseLine accepts, in bytes.
const MaxLineLen = 1024

// MaxSilence is the longest silence a chat command may set.
const MaxSilence = 30 * 24 * time.Hour

// bidiControl reports the explicit directional formatting characters
// (embeddings, overrides, isolates) that make text display in a different
// order than it is parsed ("Trojan Source"); a command line never needs them.
func bidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

// ParseLine splits a text command such as `/restart nas jellyfin` into its
// command name (lowercase, without the slash and without a Telegram
// "@BotName" suffix) and arguments. Double quotes (also typographic “ ” as
// phone keyboards insert them) and single quotes group words; a backslash
// escapes the next character inside double quotes. Control characters other
// than tab and newline, bidirectional overrides, invalid UTF-8 and lines
// longer than MaxLineLen are refused with deckhand.ErrInvalidInput.
func ParseLine(line string) (command string, args []string, err error) {
	if len(line) > MaxLineLen {
		return "", nil, fmt.Errorf("command line longer than %d bytes: %w", MaxLineLen, deckhand.ErrInvalidInput)
	}
	if !utf8.ValidString(line) {
		return "", nil, fmt.Errorf("command line is not valid UTF-8: %w", deckhand.ErrInvalidInput)
	}
	for _, r := range line {
		if (unicode.IsControl(r) && r != '\t' && r != '\n') || bidiControl(r) {
			return "", nil, fmt.Errorf("command line contains control character %U: %w", r, deckhand.ErrInvalidInput)
		}
	}
	line = strings.TrimSpace(line)
	if len(line) < 2 || line[0] != '/' || line[1] == ' ' || line[1] == '\t' || line[1] == '\n' {
		return "", nil, fmt.Errorf("a command starts with / and its name: %w", deckhand.ErrInvalidInput)
	}
	words, err := splitWords(line[1:])
	if err != nil {
		return "", nil, err
	}
	if len(words) == 0 {
		return "", nil, fmt.Errorf("missing command name: %w", deckhand.ErrInvalidInput)
	}
	name := words[0]
	if at := strings.IndexByte(name, '@'); at >= 0 {
		name = name[:at]
	}
	name = normalizeCommand(name)
	if !validCommandName(name) {
		return "", nil, fmt.Errorf("malformed command name: %w", deckhand.ErrInvalidInput)
	}
	return name, words[1:], nil
}

// normalizeCommand lowercases a command name and maps Telegram's
// underscores (its command names cannot contain '-') to dashes.
func normalizeCommand(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(s, "/")), "_", "-")
}

func validCommandName(s string) bool {
	if s == "" || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func splitWords(s string) ([]string, error) {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		quote   rune // 0, '"', '\'' or '”' (closing of a typographic pair)
		escaped bool
	)
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case quote != 0:
			switch {
			case quote == '"' && r == '\\':
				escaped = true
			case r == quote || (quote == '”' && r == '"') || (quote == '"' && r == '”'):
				quote = 0
			default:
				cur.WriteRune(r)
			}
		// Quotes open only at the start of a word, so apostrophes in
		// free text ("don't") stay literal.
		case !inWord && (r == '"' || r == '\''):
			quote, inWord = r, true
		case !inWord && r == '“':
			quote, inWord = '”', true
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || escaped {
		return nil, fmt.Errorf("unterminated quote: %w", deckhand.ErrInvalidInput)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// ParseDuration reads a chat duration such as 30m, 2h, 1d, 1w or 1h30m.
// Units: s, m, h, d (24h), w (7d). The result must be positive.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	if s == "" || len(s) > 32 {
		return 0, fmt.Errorf("bad duration %s (try 30m, 2h, 1d): %w", display(orig), deckhand.ErrInvalidInput)
	}
	s = strings.ToLower(s)
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, fmt.Errorf("bad duration %s (try 30m, 2h, 1d): %w", display(orig), deckhand.ErrInvalidInput)
		}
		n, err := strconv.ParseInt(s[:i], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("bad duration %s: %w", display(orig), deckhand.ErrInvalidInput)
		}
		var unit time.Duration
		switch s[i] {
		case 's':
			unit = time.Second
		case 'm':
			unit = time.Minute
		case 'h':
			unit = time.Hour
		case 'd':
			unit = 24 * time.Hour
		case 'w':
			unit = 7 * 24 * time.Hour
		default:
			return 0, fmt.Errorf("bad duration unit in %s (use m, h, d): %w", display(orig), deckhand.ErrInvalidInput)
		}
		total += time.Duration(n) * unit
		if total > 10*MaxSilence {
			return 0, fmt.Errorf("duration %s is too long: %w", display(orig), deckhand.ErrInvalidInput)
		}
		s = s[i+1:]
	}
	if total <= 0 {
		return 0, fmt.Errorf("duration must be positive: %w", deckhand.ErrInvalidInput)
	}
	return total, nil
}

// display renders a user-supplied string safely inside a reply: control and
// formatting characters become '?', backticks cannot break out of the code
// span, and the result is short.
func display(s string) string {
	const max = 48
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == max {
			b.WriteString("…")
			break
		}
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			r = '?'
		case r == '`':
			r = '\''
		}
		b.WriteRune(r)
		n++
	}
	return "`" + b.String() + "`"
}

// Mention returns the bot name a Telegram command line is addressed to
// ("/status@MyBot" → "MyBot"), or "" when it names none. In group chats an
// adapter should ignore commands addressed to another bot; ParseLine drops
// the suffix.
func Mention(line string) string {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "/") {
		return ""
	}
	word, _, _ := strings.Cut(line[1:], " ")
	word, _, _ = strings.Cut(word, "\n")
	_, bot, ok := strings.Cut(word, "@")
	if !ok {
		return ""
	}
	return bot
}
