package collector

import "strings"

// Quote returns s quoted for a POSIX shell so that the shell reads it back as
// exactly one word equal to s. Strings made only of characters that no shell
// treats specially are returned as they are (easier to read in logs); anything
// else is wrapped in single quotes, inside which a shell interprets nothing,
// and each embedded single quote becomes '\” (close, escaped quote, reopen).
// This is the only place a command line for a remote shell is built.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for i := 0; i < len(s); i++ {
		if !safeByte(s[i]) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			b.WriteString(`'\''`)
			continue
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}

// QuoteArgv quotes every element with Quote and joins them with spaces.
func QuoteArgv(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		parts[i] = Quote(a)
	}
	return strings.Join(parts, " ")
}

// safeByte is the set [A-Za-z0-9_@%+=:,./-]: none of these is special to a
// POSIX shell in any position of an unquoted word.
func safeByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '_', '@', '%', '+', '=', ':', ',', '.', '/', '-':
		return true
	}
	return false
}
