package discordtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// gwConn is one gateway websocket connection.
type gwConn struct {
	ws      *websocket.Conn
	wmu     sync.Mutex
	ready   bool // identified or resumed; guarded by Server.mu
	deaf    bool // heartbeats are not ACKed; guarded by Server.mu
	session string
	seq     int64
}

type gatewayPayload struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d"`
	S  *int64          `json:"s,omitempty"`
	T  string          `json:"t,omitempty"`
}

func (c *gwConn) send(op int, t string, seq int64, d any) error {
	raw, err := json.Marshal(d)
	if err != nil {
		return err
	}
	p := gatewayPayload{Op: op, D: raw, T: t}
	if op == 0 {
		p.S = &seq
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteJSON(p)
}

func (c *gwConn) closeWith(code int, text string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	_ = c.ws.Close()
}

// Gateway close codes.
const (
	closeUnknownOpcode = 4001
	closeDecodeError   = 4002
	closeAuthFailed    = 4004
	closeAlreadyAuthed = 4005
	closeNotAuthed     = 4003
)

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("encoding") != "json" {
		http.Error(w, "only encoding=json is supported", http.StatusBadRequest)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &gwConn{ws: ws}
	s.mu.Lock()
	s.conns[c] = true
	interval := s.heartbeatInterval
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.notify()
		s.mu.Unlock()
		ws.Close()
	}()
	if err := c.send(10, "", 0, map[string]any{"heartbeat_interval": interval.Milliseconds()}); err != nil {
		return
	}
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var p gatewayPayload
		if err := json.Unmarshal(data, &p); err != nil {
			c.closeWith(closeDecodeError, "Decode error")
			return
		}
		switch p.Op {
		case 1: // heartbeat
			s.mu.Lock()
			s.heartbeats++
			deaf := c.deaf
			s.notify()
			s.mu.Unlock()
			if !deaf {
				_ = c.send(11, "", 0, nil)
			}
		case 2: // identify
			if !s.identify(c, p.D) {
				return
			}
		case 6: // resume
			if !s.resume(c, p.D) {
				return
			}
		case 3, 4, 8: // presence, voice state, request guild members: accepted, ignored
			s.mu.Lock()
			ready := c.ready
			s.mu.Unlock()
			if !ready {
				c.closeWith(closeNotAuthed, "Not authenticated.")
				return
			}
		default:
			c.closeWith(closeUnknownOpcode, "Unknown opcode.")
			return
		}
	}
}

func (s *Server) tokenOK(tok string) bool {
	return strings.TrimPrefix(tok, "Bot ") == s.Token
}

func (s *Server) identify(c *gwConn, d json.RawMessage) bool {
	var id struct {
		Token   string `json:"token"`
		Intents *int   `json:"intents"`
	}
	if json.Unmarshal(d, &id) != nil {
		c.closeWith(closeDecodeError, "Decode error")
		return false
	}
	if !s.tokenOK(id.Token) {
		c.closeWith(closeAuthFailed, "Authentication failed.")
		return false
	}
	s.mu.Lock()
	if c.ready {
		s.mu.Unlock()
		c.closeWith(closeAlreadyAuthed, "Already authenticated.")
		return false
	}
	c.session = "session-" + s.newID()
	s.sessions[c.session] = true
	c.seq = 1
	s.identifies++
	ready := map[string]any{
		"v": 9, "user": s.BotUser, "session_id": c.session, "resume_gateway_url": s.gatewayURL(),
		"application":      map[string]any{"id": s.AppID, "flags": 0},
		"guilds":           []map[string]any{{"id": s.GuildID, "unavailable": true}},
		"private_channels": []any{},
	}
	s.mu.Unlock()
	if err := c.send(0, "READY", 1, ready); err != nil {
		return false
	}
	s.mu.Lock()
	c.ready = true
	s.notify()
	s.mu.Unlock()
	return true
}

func (s *Server) resume(c *gwConn, d json.RawMessage) bool {
	var r struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	if json.Unmarshal(d, &r) != nil {
		c.closeWith(closeDecodeError, "Decode error")
		return false
	}
	if !s.tokenOK(r.Token) {
		c.closeWith(closeAuthFailed, "Authentication failed.")
		return false
	}
	s.mu.Lock()
	known := s.sessions[r.SessionID]
	s.mu.Unlock()
	if !known {
		// Invalid session, not resumable: the client must identify again.
		return c.send(9, "", 0, false) == nil
	}
	s.mu.Lock()
	c.session = r.SessionID
	c.seq = r.Seq + 1
	seq := c.seq
	s.resumes++
	s.mu.Unlock()
	if err := c.send(0, "RESUMED", seq, map[string]any{}); err != nil {
		return false
	}
	s.mu.Lock()
	c.ready = true
	s.notify()
	s.mu.Unlock()
	return true
}

func (s *Server) waitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	s.wait(t, timeout, "an identified gateway connection", func() bool {
		for c := range s.conns {
			if c.ready {
				return true
			}
		}
		return false
	})
}

// dispatch sends an event to every identified connection.
func (s *Server) dispatch(event string, d json.RawMessage) {
	s.mu.Lock()
	type target struct {
		c   *gwConn
		seq int64
	}
	var ts []target
	for c := range s.conns {
		if c.ready {
			c.seq++
			ts = append(ts, target{c, c.seq})
		}
	}
	s.mu.Unlock()
	for _, t := range ts {
		_ = t.c.send(0, event, t.seq, d)
	}
}

// StopHeartbeatACKs makes the open gateway connections stop answering
// heartbeats while staying open, as a connection does whose other end is
// gone (a NAT that forgot it, a half-dead load balancer): nothing arrives,
// nothing fails. New connections are answered as usual.
func (s *Server) StopHeartbeatACKs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.deaf = true
	}
}

// WaitHeartbeats waits until the gateway has received n heartbeats in all.
func (s *Server) WaitHeartbeats(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	s.wait(t, timeout, fmt.Sprintf("%d heartbeats", n), func() bool { return s.heartbeats >= n })
}

// DropConnections closes every gateway connection abruptly, as a network
// failure would; clients are expected to reconnect and RESUME.
func (s *Server) DropConnections() {
	s.mu.Lock()
	var cs []*gwConn
	for c := range s.conns {
		cs = append(cs, c)
		c.ready = false
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.wmu.Lock()
		_ = c.ws.Close()
		c.wmu.Unlock()
	}
}
