package telegram

import (
	"encoding/json"

	"github.com/go-telegram/bot/models"
)

// markup is the inline keyboard deckhand sends. It exists only for its
// MarshalJSON: go-telegram/bot's InlineKeyboardButton holds CopyText as a
// struct value, which omitempty cannot drop, so every button would go out
// with "copy_text":{"text":""} next to its callback_data. Telegram's docs
// require exactly one action field per button and copy text of 1–256
// characters. Every keyboard passes through this type, so this is the one
// place that works around the library.
type markup models.InlineKeyboardMarkup

// wireButton carries the fields deckhand's buttons use; anything else a
// button could have (web_app, copy_text, ...) is never produced here.
type wireButton struct {
	Text              string `json:"text"`
	IconCustomEmojiID string `json:"icon_custom_emoji_id,omitempty"`
	Style             string `json:"style,omitempty"`
	URL               string `json:"url,omitempty"`
	CallbackData      string `json:"callback_data,omitempty"`
}

func (m *markup) MarshalJSON() ([]byte, error) {
	rows := make([][]wireButton, 0, len(m.InlineKeyboard))
	for _, row := range m.InlineKeyboard {
		out := make([]wireButton, 0, len(row))
		for _, b := range row {
			out = append(out, wireButton{Text: b.Text, IconCustomEmojiID: b.IconCustomEmojiID, Style: b.Style, URL: b.URL, CallbackData: b.CallbackData})
		}
		rows = append(rows, out)
	}
	return json.Marshal(struct {
		InlineKeyboard [][]wireButton `json:"inline_keyboard"`
	}{rows})
}
