package telegram

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"

	"github.com/deckhand/deckhand/bot"
	"github.com/deckhand/deckhand/commands"
)

// Telegram's limits the adapter renders within.
const (
	maxText         = 4096 // characters after entity parsing
	maxCaption      = 1024
	maxCallbackData = 64
	maxAnswer       = 200 // answerCallbackQuery text
	logsFile        = "logs.txt"
)

// escape makes text safe in HTML parse mode: Telegram requires <, > and &
// outside tags to be entities, and " inside attribute values.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// utf16Len counts as Telegram counts message length.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// truncateUTF16 cuts s to at most n UTF-16 code units, Telegram's
// characters, marking the cut.
func truncateUTF16(s string, n int) string {
	if utf16Len(s) <= n {
		return s
	}
	used := 1 // the ellipsis
	for i, r := range s {
		if used+utf16.RuneLen(r) > n {
			return s[:i] + "…"
		}
		used += utf16.RuneLen(r)
	}
	return s
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// html is a message being built: the HTML to send and the plain text
// Telegram will count.
type html struct {
	h, plain strings.Builder
}

func (m *html) text(s string) {
	m.h.WriteString(escape(s))
	m.plain.WriteString(s)
}

func (m *html) tag(open, close, s string) {
	m.h.WriteString(open)
	m.text(s)
	m.h.WriteString(close)
}

func (m *html) len() int { return utf16Len(m.plain.String()) }

// inline renders the router's light markdown (**bold** and `code`) of one
// stretch of text outside code blocks. Unpaired markers stay literal.
func (m *html) inline(s string) {
	for s != "" {
		b := strings.Index(s, "**")
		c := strings.IndexByte(s, '`')
		switch {
		case b >= 0 && (c < 0 || b < c):
			end := strings.Index(s[b+2:], "**")
			if end < 0 {
				m.text(s)
				return
			}
			m.text(s[:b])
			m.tag("<b>", "</b>", s[b+2:b+2+end])
			s = s[b+2+end+2:]
		case c >= 0:
			end := strings.IndexByte(s[c+1:], '`')
			if end < 0 {
				m.text(s)
				return
			}
			m.text(s[:c])
			m.tag("<code>", "</code>", s[c+1:c+1+end])
			s = s[c+1+end+1:]
		default:
			m.text(s)
			return
		}
	}
}

// markdown renders a reply text: ``` fenced blocks become <pre>, the rest
// goes through inline.
func (m *html) markdown(s string) {
	for s != "" {
		start := strings.Index(s, "```")
		if start < 0 {
			m.inline(s)
			return
		}
		end := strings.Index(s[start+3:], "```")
		if end < 0 {
			m.inline(s)
			return
		}
		m.inline(s[:start])
		block := s[start+3 : start+3+end]
		lang := ""
		if nl := strings.IndexByte(block, '\n'); nl >= 0 && !strings.ContainsAny(block[:nl], " \t") {
			lang, block = block[:nl], block[nl+1:]
		}
		block = strings.TrimSuffix(block, "\n")
		if lang != "" && validLang(lang) {
			m.h.WriteString(`<pre><code class="language-` + lang + `">`)
			m.text(block)
			m.h.WriteString("</code></pre>")
		} else {
			m.tag("<pre>", "</pre>", block)
		}
		s = s[start+3+end+3:]
	}
}

func validLang(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '+') {
			return false
		}
	}
	return len(s) <= 32
}

// rendered is a reply ready for Telegram.
type rendered struct {
	html     string
	plainLen int
	plain    string // for a document when the text is too long
	keyboard *markup
	file     *commands.File
}

// renderReply turns a router reply into HTML, its keyboard and attachment.
func renderReply(r commands.Reply) rendered {
	var m html
	if r.Error {
		m.text("⚠️ ")
	}
	if t := strings.TrimSpace(r.Title); t != "" {
		m.tag("<b>", "</b>", t)
		if r.Text != "" {
			m.text("\n")
		}
	}
	m.markdown(r.Text)
	out := rendered{html: m.h.String(), plainLen: m.len(), plain: m.plain.String(), keyboard: keyboard(r.Buttons), file: r.File}
	if strings.TrimSpace(out.plain) == "" && r.File == nil {
		out.html, out.plain, out.plainLen = "Done.", "Done.", 5
	}
	return out
}

var buttonStyles = map[commands.ButtonStyle]string{
	commands.Primary: "primary",
	commands.Danger:  "danger",
	commands.Success: "success",
}

// keyboard lays buttons out three to a row. Buttons whose payload cannot
// be callback_data are dropped rather than failing the whole message; the
// router never produces them.
func keyboard(bs []commands.Button) *markup {
	var rows [][]models.InlineKeyboardButton
	var row []models.InlineKeyboardButton
	seen := map[string]bool{}
	for _, b := range bs {
		if b.Payload == "" || len(b.Payload) > maxCallbackData || seen[b.Payload] {
			continue
		}
		seen[b.Payload] = true
		label := strings.TrimSpace(b.Label)
		if label == "" {
			label = "…"
		}
		row = append(row, models.InlineKeyboardButton{Text: truncateRunes(label, 64), CallbackData: b.Payload, Style: buttonStyles[b.Style]})
		if len(row) == 3 {
			rows = append(rows, row)
			row = nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil
	}
	return &markup{InlineKeyboard: rows}
}

// noKeyboard removes an inline keyboard when sent with an edit.
func noKeyboard() *markup {
	return &markup{InlineKeyboard: [][]models.InlineKeyboardButton{}}
}

// renderNotice maps a rendered notice to HTML: a bold title with the
// severity's emoji, the body, the facts in italics and a text link to the
// status page. A link rather than a URL button: Telegram refuses a whole
// message whose button URL it dislikes (a host without a dot, such as
// http://nas:8080), while it only unlinks such a text link.
func renderNotice(msg bot.Message) (string, int) {
	var m html
	title := msg.Title
	if msg.Emoji != "" {
		title = msg.Emoji + " " + title
	}
	m.tag("<b>", "</b>", truncateRunes(title, 256))
	if body := strings.TrimSpace(msg.Body()); body != "" {
		m.text("\n" + truncateRunes(body, 3000))
	}
	var facts []string
	for _, f := range msg.Fields {
		facts = append(facts, strings.ToLower(f.Name)+" "+f.Value)
	}
	if len(facts) > 0 {
		m.text("\n")
		m.tag("<i>", "</i>", truncateRunes(strings.Join(facts, " · "), 400))
	}
	if strings.HasPrefix(msg.URL, "https://") || strings.HasPrefix(msg.URL, "http://") {
		m.text("\n")
		m.h.WriteString(`<a href="` + escape(msg.URL) + `">`)
		m.text("Status page")
		m.h.WriteString("</a>")
	}
	return m.h.String(), m.len()
}

// entityTags maps the entities deckhand sends back to HTML.
var entityTags = map[models.MessageEntityType][2]string{
	models.MessageEntityTypeBold:          {"<b>", "</b>"},
	models.MessageEntityTypeItalic:        {"<i>", "</i>"},
	models.MessageEntityTypeUnderline:     {"<u>", "</u>"},
	models.MessageEntityTypeStrikethrough: {"<s>", "</s>"},
	models.MessageEntityTypeCode:          {"<code>", "</code>"},
	models.MessageEntityTypePre:           {"<pre>", "</pre>"},
}

// toHTML rebuilds the HTML of a received message from its text and
// entities (offsets in UTF-16 units), so that an edit can keep the
// original formatting. Entities it does not know are dropped; links keep
// their URL.
func toHTML(text string, entities []models.MessageEntity) string {
	type mark struct {
		at    int
		open  bool
		tag   string
		order int
	}
	var marks []mark
	for i, e := range entities {
		open, close := "", ""
		if t, ok := entityTags[e.Type]; ok {
			open, close = t[0], t[1]
		} else if e.Type == models.MessageEntityTypeTextLink && e.URL != "" {
			open, close = `<a href="`+escape(e.URL)+`">`, "</a>"
		} else {
			continue
		}
		marks = append(marks, mark{e.Offset, true, open, i}, mark{e.Offset + e.Length, false, close, i})
	}
	var b strings.Builder
	pos := 0
	emit := func(at int) {
		// Closing tags first, innermost (latest opened) first; then opening
		// tags in entity order, which Telegram sends outermost first.
		for i := len(marks) - 1; i >= 0; i-- {
			if !marks[i].open && marks[i].at == at {
				b.WriteString(marks[i].tag)
			}
		}
		for _, mk := range marks {
			if mk.open && mk.at == at {
				b.WriteString(mk.tag)
			}
		}
	}
	for _, r := range text {
		emit(pos)
		b.WriteString(escape(string(r)))
		pos += utf16.RuneLen(r)
	}
	emit(pos)
	return b.String()
}
