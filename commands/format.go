package commands

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// sanitizeLine replaces control and formatting characters (newlines, NUL,
// bidi marks) so a user string cannot forge extra lines in a log or audit.
func sanitizeLine(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool {
		return r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
	}) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return '?'
		}
		return r
	}, s)
}

// trimList joins at most n items and says how many were left out.
func trimList(items []string, n int, sep string) string {
	if len(items) <= n {
		return strings.Join(items, sep)
	}
	return strings.Join(items[:n], sep) + fmt.Sprintf("%s… and %d more", sep, len(items)-n)
}

// lines builds a bounded multi-line reply: it stops adding lines before
// MaxText and appends "… and N more".
type lines struct {
	b       strings.Builder
	dropped int
	budget  int
}

func newLines(header string) *lines {
	l := &lines{budget: MaxText - 40} // room for the "and N more" tail
	l.b.WriteString(header)
	return l
}

func (l *lines) add(s string) {
	if l.dropped > 0 || l.b.Len()+len(s)+1 > l.budget {
		l.dropped++
		return
	}
	if l.b.Len() > 0 {
		l.b.WriteByte('\n')
	}
	l.b.WriteString(s)
}

func (l *lines) String() string { return l.close("") }

// close ends the text, naming where the dropped lines went (suffix fits
// the 40 bytes of room with the count).
func (l *lines) close(suffix string) string {
	if l.dropped > 0 {
		return l.b.String() + fmt.Sprintf("\n… and %d more%s", l.dropped, suffix)
	}
	return l.b.String()
}

// bound enforces the reply limits whatever a handler produced.
func bound(r Reply) Reply {
	if !utf8.ValidString(r.Text) {
		r.Text = strings.ToValidUTF8(r.Text, "?")
	}
	limit := MaxText
	if strings.TrimSpace(r.Title) != "" {
		limit = MaxDetail
	}
	if len(r.Text) > limit {
		r.Text = truncate(r.Text, limit-len("\n… (truncated)")) + "\n… (truncated)"
	}
	r.Title = truncate(sanitizeLine(r.Title), 200)
	if len(r.Buttons) > 5 {
		r.Buttons = r.Buttons[:5]
	}
	return r
}
