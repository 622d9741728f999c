package telegram

import (
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/deckhand/deckhand/commands"
)

func TestRenderReply(t *testing.T) {
	tests := []struct {
		name string
		in   commands.Reply
		want string
	}{
		{"plain", commands.Reply{Text: "a < b & c > d"}, "a &lt; b &amp; c &gt; d"},
		{"bold and code", commands.Reply{Text: "**nas** is `up`"}, "<b>nas</b> is <code>up</code>"},
		{"unpaired markers", commands.Reply{Text: "2 ** 3 and a ` tick"}, "2 ** 3 and a ` tick"},
		{"fence with language", commands.Reply{Text: "x\n```json\n{\"a\":\"<b>\"}\n```"}, "x\n<pre><code class=\"language-json\">{&quot;a&quot;:&quot;&lt;b&gt;&quot;}</code></pre>"},
		{"fence without language", commands.Reply{Text: "```\nline <1>\n```"}, "<pre>line &lt;1&gt;</pre>"},
		{"title and error", commands.Reply{Title: "T<", Text: "body", Error: true}, "⚠️ <b>T&lt;</b>\nbody"},
		{"empty", commands.Reply{}, "Done."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := renderReply(tc.in).html; got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestToHTML(t *testing.T) {
	// "🚨 <x> down\nhost nas": the emoji is two UTF-16 units.
	text := "🚨 <x> down\nhost nas"
	entities := []models.MessageEntity{
		{Type: models.MessageEntityTypeBold, Offset: 0, Length: 11},
		{Type: models.MessageEntityTypeItalic, Offset: 12, Length: 8},
		{Type: models.MessageEntityTypeMention, Offset: 0, Length: 2},
	}
	want := "<b>🚨 &lt;x&gt; down</b>\n<i>host nas</i>"
	if got := toHTML(text, entities); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestKeyboard(t *testing.T) {
	long := string(make([]byte, 65))
	kb := keyboard([]commands.Button{
		{Label: "Restart", Payload: "r", Style: commands.Primary},
		{Label: "Ack", Payload: "a", Style: commands.Success},
		{Label: "Dup", Payload: "a"},
		{Label: "Too long", Payload: long},
		{Label: "Silence 1h", Payload: "s", Style: commands.Secondary},
		{Label: "", Payload: "x", Style: commands.Danger},
	})
	if len(kb.InlineKeyboard) != 2 || len(kb.InlineKeyboard[0]) != 3 || len(kb.InlineKeyboard[1]) != 1 {
		t.Fatalf("layout %+v", kb.InlineKeyboard)
	}
	if b := kb.InlineKeyboard[1][0]; b.Text != "…" || b.Style != "danger" {
		t.Errorf("unlabelled button %+v", b)
	}
	if b := kb.InlineKeyboard[0][2]; b.Style != "" {
		t.Errorf("secondary button style %q, want the client's default", b.Style)
	}
	if keyboard(nil) != nil {
		t.Error("no buttons must mean no keyboard")
	}
}

func TestLimiterReserve(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter(func() time.Time { return now })
	at := func(chat int64) time.Duration { return l.reserve(chat).Sub(time.Unix(1000, 0)) }
	// A private chat: a burst of three, then three every four seconds.
	for i, want := range []time.Duration{0, 0, 0, 4 * time.Second, 4 * time.Second, 4 * time.Second, 8 * time.Second} {
		if got := at(7); got != want {
			t.Errorf("private message %d at %s, want %s", i, got, want)
		}
	}
	// A 429 holds the chat.
	l.block(8, 5*time.Second)
	if got := at(8); got != 5*time.Second {
		t.Errorf("after retry_after 5s the next slot is %s", got)
	}
	if got := l.delay(8); got != 5*time.Second {
		t.Errorf("delay after one reserved slot = %s, want 5s (delay reserves nothing)", got)
	}
	if got := l.delay(9); got != 0 {
		t.Errorf("delay of an idle chat = %s", got)
	}
}

// The 20th message of a minute hit a 429 at the window's edge: the
// limiter paced exactly at Telegram's 20 a minute. It keeps a margin now:
// no window a little longer than a minute holds 20 group messages, and
// none a little longer than a second holds two in a row beyond a burst.
func TestLimiterKeepsAMarginUnderTelegramsLimits(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter(func() time.Time { return now })
	for _, tc := range []struct {
		chat   int64
		window time.Duration
		most   int
	}{
		{-100, time.Minute + time.Second, 19},
		{-100, 3*time.Second + 500*time.Millisecond, 3},
		{42, 3*time.Second + 500*time.Millisecond, 3},
	} {
		var slots []time.Time
		for range 60 {
			slots = append(slots, l.reserve(tc.chat))
		}
		for i, s := range slots {
			n := 0
			for _, u := range slots[i:] {
				if u.Sub(s) < tc.window {
					n++
				}
			}
			if n > tc.most {
				t.Errorf("chat %d: %d messages within %s from slot %d, want at most %d", tc.chat, n, tc.window, i, tc.most)
				break
			}
		}
		l = newLimiter(func() time.Time { return now })
	}
}
