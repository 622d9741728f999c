package discordtest

import (
	"fmt"
	"testing"
)

func TestPings(t *testing.T) {
	none := []string{}
	tests := []struct {
		name    string
		content string
		am      *allowedMentions
		want    string
	}{
		{"absent parses everything", "@everyone <@1> <@!2> <@&3>", nil, "[@everyone <@1> <@!2> <@&3>]"},
		{"empty parse", "@here <@1> <@&3>", &allowedMentions{Parse: &none}, "[]"},
		{"null parse", "@here <@1>", &allowedMentions{}, "[]"},
		{"listed user only", "<@1> <@2>", &allowedMentions{Parse: &none, Users: []string{"2"}}, "[<@2>]"},
		{"users type", "@everyone <@1> <@&3>", &allowedMentions{Parse: &[]string{"users"}}, "[<@1>]"},
		{"plain text", "no one here", nil, "[]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(pings(tt.content, tt.am)); got != tt.want {
			t.Errorf("%s: pings = %s, want %s", tt.name, got, tt.want)
		}
	}
}
