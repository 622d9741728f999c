package collectortest

import (
	"errors"
	"strings"
)

// SplitWords splits a POSIX shell command line into words the way sh does
// for the subset deckhand produces and a little more: unquoted words
// separated by blanks, single quotes (nothing special inside), double
// quotes with backslash escapes of $ ` " \ and newline, and backslash
// escapes outside quotes. Expansions ($x, $(…), `…`, globs) are refused
// rather than guessed: a command line that needs them did not come from
// Quote.
func SplitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				switch s[i] {
				case '\\':
					if i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
						i++
						if s[i] != '\n' {
							cur.WriteByte(s[i])
						}
						continue
					}
					cur.WriteByte('\\')
				case '$', '`':
					return nil, errors.New("expansion inside double quotes is not supported")
				default:
					cur.WriteByte(s[i])
				}
			}
			if i >= len(s) {
				return nil, errors.New("unterminated double quote")
			}
		case c == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			if s[i] != '\n' {
				inWord = true
				cur.WriteByte(s[i])
			}
		case strings.IndexByte("$`|&;<>()*?[]{}~#!", c) >= 0 && !(c == '#' && inWord) && !(c == '~' && inWord):
			return nil, errors.New("unquoted shell metacharacter " + string(c))
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
