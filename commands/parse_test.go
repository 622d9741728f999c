package commands_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/commands"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		line    string
		cmd     string
		args    []string
		wantErr bool
	}{
		{line: "/restart nas jellyfin", cmd: "restart", args: []string{"nas", "jellyfin"}},
		{line: "  /status  ", cmd: "status", args: []string{}},
		{line: "/restart@MyDeckhandBot nas jellyfin", cmd: "restart", args: []string{"nas", "jellyfin"}},
		{line: "/help@MyBot", cmd: "help", args: []string{}},
		{line: "/RESTART nas  jellyfin", cmd: "restart", args: []string{"nas", "jellyfin"}},
		{line: "/restart_project nas media", cmd: "restart-project", args: []string{"nas", "media"}},
		{line: "/restart-project nas media", cmd: "restart-project", args: []string{"nas", "media"}},
		{line: `/silence nas/jellyfin 1h "nightly backup"`, cmd: "silence", args: []string{"nas/jellyfin", "1h", "nightly backup"}},
		{line: `/silence nas 1h 'single quoted reason'`, cmd: "silence", args: []string{"nas", "1h", "single quoted reason"}},
		{line: "/silence nas 1h “smart quotes from iOS”", cmd: "silence", args: []string{"nas", "1h", "smart quotes from iOS"}},
		{line: `/announce "say \"hi\" now"`, cmd: "announce", args: []string{`say "hi" now`}},
		{line: `/announce don't panic`, cmd: "announce", args: []string{"don't", "panic"}},
		{line: `/silence nas 1h ""`, cmd: "silence", args: []string{"nas", "1h", ""}},
		{line: "/announce line one\nline two", cmd: "announce", args: []string{"line", "one", "line", "two"}},
		{line: "/announce \"**Title**\nbody\"", cmd: "announce", args: []string{"**Title**\nbody"}},
		{line: "/logs\tnas\tjellyfin", cmd: "logs", args: []string{"nas", "jellyfin"}},
		{line: "restart nas jellyfin", wantErr: true},
		{line: "/", wantErr: true},
		{line: "/ restart", wantErr: true},
		{line: "/@bot", wantErr: true},
		{line: `/silence nas 1h "unterminated`, wantErr: true},
		{line: "/restart nas jelly\x00fin", wantErr: true},
		{line: "/restart nas \x1b[31mred", wantErr: true},
		{line: "/restart nas jelly\u202efin", wantErr: true},
		{line: "/restart nas \xff\xfe", wantErr: true},
		{line: "/" + strings.Repeat("a", 1100), wantErr: true},
		{line: "/rm;rf nas", wantErr: true},
		{line: "/$(id)", wantErr: true},
		{line: "/9lives", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.line[:min(len(tt.line), 40)], func(t *testing.T) {
			cmd, args, err := commands.ParseLine(tt.line)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseLine(%q) = %q %q, want error", tt.line, cmd, args)
				}
				if !errors.Is(err, deckhand.ErrInvalidInput) {
					t.Fatalf("error %v is not ErrInvalidInput", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseLine(%q): %v", tt.line, err)
			}
			if cmd != tt.cmd || !slices.Equal(args, tt.args) {
				t.Fatalf("ParseLine(%q) = %q %q, want %q %q", tt.line, cmd, args, tt.cmd, tt.args)
			}
		})
	}
}

func TestParseLineMaxLength(t *testing.T) {
	ok := "/announce " + strings.Repeat("x", commands.MaxLineLen-len("/announce "))
	if _, _, err := commands.ParseLine(ok); err != nil {
		t.Fatalf("line of exactly %d bytes refused: %v", len(ok), err)
	}
	if _, _, err := commands.ParseLine(ok + "x"); err == nil {
		t.Fatal("line over the limit accepted")
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"30m", 30 * time.Minute, false},
		{"2h", 2 * time.Hour, false},
		{"1d", 24 * time.Hour, false},
		{"1w", 7 * 24 * time.Hour, false},
		{"1h30m", 90 * time.Minute, false},
		{"2H", 2 * time.Hour, false},
		{"90s", 90 * time.Second, false},
		{"", 0, true},
		{"0m", 0, true},
		{"h", 0, true},
		{"10", 0, true},
		{"-5m", 0, true},
		{"1y", 0, true},
		{"5 m", 0, true},
		{"99999999999d", 0, true},
		{"1000d", 0, true},
	}
	for _, tt := range tests {
		got, err := commands.ParseDuration(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, err=%v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestMention(t *testing.T) {
	for in, want := range map[string]string{
		"/status@MyBot":          "MyBot",
		"/restart@MyBot nas x":   "MyBot",
		"/status":                "",
		"/announce hi @everyone": "",
		"hello @MyBot":           "",
	} {
		if got := commands.Mention(in); got != want {
			t.Errorf("Mention(%q) = %q, want %q", in, got, want)
		}
	}
}
