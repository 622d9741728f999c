package commands_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/deckhand/deckhand/commands"
	"github.com/deckhand/deckhand/commands/commandstest"
)

func ExampleParseLine() {
	cmd, args, err := commands.ParseLine(`/silence@DeckhandBot nas/jellyfin 2h "nightly backup"`)
	fmt.Println(cmd, len(args), args[2], err)
	// Output: silence 3 nightly backup <nil>
}

func BenchmarkHandleRestart(b *testing.B) {
	env := commandstest.NewEnv(time.Now)
	r, err := commands.NewRouter(env.Deps(), commands.Config{Secret: testSecret}, commands.Options{})
	if err != nil {
		b.Fatal(err)
	}
	req := commands.Request{Actor: operator, Command: "restart", Args: []string{"nas", "a1b2"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if rep := r.Handle(ctx, req); rep.Error {
			b.Fatal(rep.Text)
		}
	}
}

func BenchmarkSignerVerify(b *testing.B) {
	s, _ := commands.NewSigner(testSecret, nil)
	p := s.Sign("r", "1z", time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Verify(p); err != nil {
			b.Fatal(err)
		}
	}
}
