package discord

import (
	"context"
	"net/http"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/deckhand/deckhand"
	"github.com/deckhand/deckhand/commands"
)

// onInteraction is discordgo's handler; discordgo runs each event in its
// own goroutine, so a slow command does not hold up the others.
func (b *Bot) onInteraction(_ *discordgo.Session, ic *discordgo.InteractionCreate) {
	ctx, ok := b.track()
	if !ok {
		return
	}
	defer b.inflight.Done()
	i := ic.Interaction
	switch i.Type {
	case discordgo.InteractionApplicationCommand:
		b.handleCommand(ctx, i)
	case discordgo.InteractionMessageComponent:
		b.handleClick(ctx, i)
	case discordgo.InteractionApplicationCommandAutocomplete:
		b.handleAutocomplete(ctx, i)
	}
}

// handleCommand defers at once (Discord's 3 s window would not survive a
// restart or a log tail), runs the router, then replaces the placeholder.
// A command the actor's role cannot run is deferred privately, so that the
// refusal is never shown to the channel.
func (b *Bot) handleCommand(ctx context.Context, i *discordgo.Interaction) {
	data := i.ApplicationCommandData()
	actor := b.actorOf(i)
	sp, known := b.spec(data.Name)
	private := actor.Role == deckhand.RoleNone || !known || actor.Role < sp.MinRole
	var flags discordgo.MessageFlags
	if private {
		flags = discordgo.MessageFlagsEphemeral
	}
	ackCtx, cancel := context.WithTimeout(ctx, b.opts.AckTimeout)
	err := b.s.InteractionRespond(i, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: flags},
	}, discordgo.WithContext(ackCtx))
	cancel()
	if err != nil {
		b.log.Warn("discord: defer command", "command", data.Name, "err", describe(err))
		return
	}
	ctx, cancel = context.WithTimeout(ctx, b.opts.HandlerTimeout)
	defer cancel()
	reply := b.router.Handle(ctx, commands.Request{Actor: actor, Command: data.Name, Args: argsFrom(sp, data.Options)})
	out := renderReply(reply)
	if (reply.Ephemeral || reply.Error) && !private {
		// The placeholder is public: remove it and answer privately.
		if err := b.s.InteractionResponseDelete(i, discordgo.WithContext(ctx)); err != nil {
			b.log.Warn("discord: delete placeholder", "command", data.Name, "err", describe(err))
		}
		b.followup(ctx, i, out, true)
		return
	}
	b.editOriginal(ctx, i, out)
}

// handleClick acknowledges a button click without changing the message
// (type 6), then lets the router decide: refusals go privately to the
// clicker, Edit replies update the alert message, others are posted.
func (b *Bot) handleClick(ctx context.Context, i *discordgo.Interaction) {
	data := i.MessageComponentData()
	actor := b.actorOf(i)
	ackCtx, cancel := context.WithTimeout(ctx, b.opts.AckTimeout)
	err := b.s.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}, discordgo.WithContext(ackCtx))
	cancel()
	if err != nil {
		b.log.Warn("discord: defer click", "err", describe(err))
		return
	}
	ctx, cancel = context.WithTimeout(ctx, b.opts.HandlerTimeout)
	defer cancel()
	reply := b.router.HandleButton(ctx, actor, data.CustomID)
	switch {
	case reply.Ephemeral || reply.Error:
		b.followup(ctx, i, renderReply(reply), true)
	case reply.Edit:
		b.editOriginal(ctx, i, editedAlert(i.Message, reply))
	default:
		b.followup(ctx, i, renderReply(reply), false)
	}
}

// editedAlert keeps the clicked message's embeds, notes the reply in the
// footer and replaces the buttons with the reply's (none: removed).
func editedAlert(m *discordgo.Message, r commands.Reply) outgoing {
	note := strings.TrimSpace(strings.Join([]string{r.Title, r.Text}, " — "))
	note = strings.Trim(note, " —")
	out := outgoing{components: buttonRows(r.Buttons)}
	if m == nil || len(m.Embeds) == 0 {
		out.content = truncate(note, maxContent)
		if out.content == "" {
			out.content = "Done."
		}
		return out
	}
	for _, e := range m.Embeds {
		c := *e
		out.embeds = append(out.embeds, &c)
	}
	if note != "" {
		out.embeds[0].Footer = &discordgo.MessageEmbedFooter{Text: truncate(note, maxFooter)}
	}
	if m.Content != "" {
		out.content = m.Content
	}
	return out
}

func (b *Bot) editOriginal(ctx context.Context, i *discordgo.Interaction, out outgoing) {
	edit := &discordgo.WebhookEdit{Content: &out.content, Embeds: &out.embeds, Components: &out.components, Files: out.files,
		AllowedMentions: noPings()}
	if _, err := b.s.InteractionResponseEdit(i, edit, discordgo.WithContext(ctx)); err != nil {
		b.log.Warn("discord: edit response", "err", describe(err))
	}
}

func (b *Bot) followup(ctx context.Context, i *discordgo.Interaction, out outgoing, private bool) {
	p := &discordgo.WebhookParams{Content: out.content, Embeds: out.embeds, Components: out.components, Files: out.files,
		AllowedMentions: noPings()}
	if private {
		p.Flags = discordgo.MessageFlagsEphemeral
	}
	if _, err := b.s.FollowupMessageCreate(i, true, p, discordgo.WithContext(ctx)); err != nil {
		b.log.Warn("discord: follow-up", "err", describe(err))
	}
}

// autocompleteResponse replaces discordgo.InteractionResponse for
// autocomplete: InteractionResponseData.Choices is omitempty, so "no match"
// would go out without the choices field Discord requires.
type autocompleteResponse struct {
	Type discordgo.InteractionResponseType `json:"type"`
	Data struct {
		Choices []*discordgo.ApplicationCommandOptionChoice `json:"choices"`
	} `json:"data"`
}

// handleAutocomplete answers with at most 25 choices within the window.
// Unmapped users get none: names of containers are not for strangers.
func (b *Bot) handleAutocomplete(ctx context.Context, i *discordgo.Interaction) {
	ctx, cancel := context.WithTimeout(ctx, b.opts.AckTimeout)
	defer cancel()
	data := i.ApplicationCommandData()
	actor := b.actorOf(i)
	choices := []*discordgo.ApplicationCommandOptionChoice{}
	if sp, ok := b.spec(data.Name); ok && actor.Role != deckhand.RoleNone {
		for _, v := range b.complete(ctx, sp, actor, data.Options) {
			if len(choices) == maxChoices {
				break
			}
			if v == "" || len([]rune(v)) > maxChoiceLen {
				continue
			}
			choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: v, Value: v})
		}
	}
	resp := autocompleteResponse{Type: discordgo.InteractionApplicationCommandAutocompleteResult}
	resp.Data.Choices = choices
	endpoint := discordgo.EndpointInteractionResponse(i.ID, i.Token)
	if _, err := b.s.RequestWithBucketID(http.MethodPost, endpoint, resp, endpoint, discordgo.WithContext(ctx)); err != nil {
		b.log.Warn("discord: autocomplete", "command", data.Name, "err", describe(err))
	}
}

func (b *Bot) complete(ctx context.Context, sp commands.Spec, actor deckhand.Actor, opts []*discordgo.ApplicationCommandInteractionDataOption) []string {
	kinds := map[string]commands.ArgKind{}
	for _, a := range sp.Args {
		kinds[a.Name] = a.Kind
	}
	var focused *discordgo.ApplicationCommandInteractionDataOption
	host := ""
	for _, o := range opts {
		if o.Focused {
			focused = o
		} else if kinds[o.Name] == commands.ArgHost {
			host, _ = o.Value.(string)
		}
	}
	if focused == nil {
		return nil
	}
	kind := kinds[focused.Name]
	if host != "" && !actor.CanReach(host) {
		return nil
	}
	prefix, _ := focused.Value.(string)
	vals := b.router.Complete(ctx, kind, host, prefix)
	if kind != commands.ArgHost {
		return vals
	}
	out := vals[:0:0]
	for _, h := range vals {
		if actor.CanReach(h) {
			out = append(out, h)
		}
	}
	return out
}
