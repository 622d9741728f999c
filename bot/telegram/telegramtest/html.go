package telegramtest

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Entity is one formatting entity of a parsed message, with offset and
// length in UTF-16 code units as the Bot API reports them.
type Entity struct {
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
	URL    string `json:"url,omitempty"`
}

// htmlTags maps the start tags Telegram's HTML parse mode accepts to the
// entity they produce.
var htmlTags = map[string]string{
	"b": "bold", "strong": "bold",
	"i": "italic", "em": "italic",
	"u": "underline", "ins": "underline",
	"s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
	"tg-spoiler": "spoiler", "span": "spoiler",
	"a":          "text_link",
	"code":       "code",
	"pre":        "pre",
	"blockquote": "blockquote",
	"tg-emoji":   "custom_emoji",
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

type openTag struct {
	name   string
	entity Entity
}

// parseHTML parses text the way the Bot API does with parse_mode HTML:
// only the documented tags, the four named entities and numeric entities.
// Errors carry Telegram's wording after "can't parse entities: ".
func parseHTML(s string) (string, []Entity, error) {
	var (
		out      strings.Builder
		entities []Entity
		stack    []openTag
		pos16    int
	)
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return "", nil, entityErrorf("Unclosed start tag at byte offset %d", i)
			}
			tag := s[i+1 : i+end]
			if strings.HasPrefix(tag, "/") {
				name := strings.ToLower(strings.TrimSpace(tag[1:]))
				if len(stack) == 0 {
					return "", nil, entityErrorf("Unexpected end tag at byte offset %d", i)
				}
				top := stack[len(stack)-1]
				if name != top.name {
					return "", nil, entityErrorf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, top.name, name)
				}
				stack = stack[:len(stack)-1]
				top.entity.Length = pos16 - top.entity.Offset
				// A link Telegram cannot open (http://localhost:8080) is
				// not an error: the text stays, unlinked.
				if top.entity.Length > 0 && (top.name != "a" || openable(top.entity.URL)) {
					entities = append(entities, top.entity)
				}
				i += end + 1
				continue
			}
			name, attrs, err := splitTag(tag, i)
			if err != nil {
				return "", nil, err
			}
			typ, ok := htmlTags[name]
			if !ok {
				return "", nil, entityErrorf("Unsupported start tag \"%s\" at byte offset %d", name, i)
			}
			e := Entity{Type: typ, Offset: pos16}
			switch name {
			case "a":
				href, ok := attrs["href"]
				if !ok || href == "" {
					return "", nil, entityErrorf("Can't find end of href attribute at byte offset %d", i)
				}
				e.URL = href
			case "span":
				if attrs["class"] != "tg-spoiler" {
					return "", nil, entityErrorf("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", i)
				}
			}
			for _, o := range stack {
				if o.entity.Type == "code" || o.entity.Type == "pre" && typ != "code" {
					return "", nil, entityErrorf("Entities can't be nested inside %s at byte offset %d", o.entity.Type, i)
				}
			}
			stack = append(stack, openTag{name: name, entity: e})
			i += end + 1
		case '&':
			semi := strings.IndexByte(s[i:], ';')
			if semi > 1 && semi <= 10 {
				if r, ok := htmlEntity(s[i+1 : i+semi]); ok {
					out.WriteRune(r)
					pos16 += utf16.RuneLen(r)
					i += semi + 1
					continue
				}
			}
			// Like the real parser, a '&' that starts no known entity is
			// kept as text.
			out.WriteByte('&')
			pos16++
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return "", nil, entityErrorf("Strings must be encoded in UTF-8")
			}
			out.WriteRune(r)
			pos16 += utf16.RuneLen(r)
			i += size
		}
	}
	if len(stack) > 0 {
		return "", nil, entityErrorf("Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1].name)
	}
	return out.String(), entities, nil
}

// splitTag reads `name attr="v" attr2='w' flag` from inside a start tag.
func splitTag(tag string, at int) (string, map[string]string, error) {
	tag = strings.TrimSuffix(strings.TrimSpace(tag), "/")
	if tag == "" {
		return "", nil, entityErrorf("Empty tag name at byte offset %d", at)
	}
	n := strings.IndexAny(tag, " \t\n")
	name := tag
	rest := ""
	if n >= 0 {
		name, rest = tag[:n], tag[n+1:]
	}
	name = strings.ToLower(name)
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return "", nil, entityErrorf("Unexpected end of name token at byte offset %d", at)
		}
	}
	attrs := map[string]string{}
	for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimSpace(rest) {
		eq := strings.IndexAny(rest, "= \t\n")
		if eq < 0 || rest[eq] != '=' {
			key := rest
			if eq >= 0 {
				key = rest[:eq]
			}
			attrs[strings.ToLower(key)] = ""
			rest = rest[len(key):]
			continue
		}
		key := strings.ToLower(rest[:eq])
		rest = rest[eq+1:]
		if rest == "" {
			return "", nil, entityErrorf("Unclosed start tag at byte offset %d", at)
		}
		var val string
		if q := rest[0]; q == '"' || q == '\'' {
			end := strings.IndexByte(rest[1:], q)
			if end < 0 {
				return "", nil, entityErrorf("Unclosed start tag at byte offset %d", at)
			}
			val, rest = rest[1:1+end], rest[2+end:]
		} else {
			end := strings.IndexAny(rest, " \t\n")
			if end < 0 {
				end = len(rest)
			}
			val, rest = rest[:end], rest[end:]
		}
		plain, _, err := parseHTML(val)
		if err != nil {
			return "", nil, err
		}
		attrs[key] = plain
	}
	return name, attrs, nil
}

func htmlEntity(name string) (rune, bool) {
	switch name {
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "amp":
		return '&', true
	case "quot":
		return '"', true
	}
	if strings.HasPrefix(name, "#") {
		base, digits := 10, name[1:]
		if strings.HasPrefix(digits, "x") || strings.HasPrefix(digits, "X") {
			base, digits = 16, digits[1:]
		}
		v, err := strconv.ParseUint(digits, base, 32)
		if err != nil || v == 0 || v > utf8.MaxRune {
			return 0, false
		}
		return rune(v), true
	}
	return 0, false
}

// entityError is a parse failure in Telegram's own wording, which starts
// with a capital letter and is quoted verbatim after "can't parse entities: ".
type entityError string

func (e entityError) Error() string { return string(e) }

func entityErrorf(format string, args ...any) error {
	return entityError(fmt.Sprintf(format, args...))
}

// openable reports whether Telegram treats u as a link it can open: an
// http(s) URL with a dotted host (IP addresses included; "localhost" and
// bare machine names are not), or a tg:// link.
func openable(u string) bool {
	p, err := url.Parse(u)
	switch {
	case err != nil:
		return false
	case p.Scheme == "tg":
		return true
	case p.Scheme != "http" && p.Scheme != "https":
		return false
	}
	return strings.Contains(strings.Trim(p.Hostname(), "."), ".")
}
