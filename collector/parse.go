package collector

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unique"

	"github.com/deckhand/deckhand"
)

// psFormat is the template given to `docker ps`. `{{json .}}` would make the
// daemon compute every container's size (slow on a busy host), so only the
// fields deckhand needs are asked for. Every field here exists from CLI 20.10
// on; HealthStatus (29.5+) and Platform (28.2+) are left out because naming a
// field an older CLI lacks is a template error that fails the whole command.
// Of the labels, only the ones deckhand keeps are asked for, by name, into
// the array "L" in deckhand.KeptLabels order: a compose container's full
// label string is most of its line, and ps runs every cycle on every host.
// They are the fallback for a container inspect did not return; inspect
// gives the exact labels.
var psFormat = `{"ID":{{json .ID}},"Names":{{json .Names}},"Image":{{json .Image}},"Command":{{json .Command}},"CreatedAt":{{json .CreatedAt}},"State":{{json .State}},"Status":{{json .Status}},"Ports":{{json .Ports}},"L":[` +
	psLabelList(deckhand.KeptLabels()) + `]}`

func psLabelList(keys []string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("{{json (.Label %q)}}", k)
	}
	return strings.Join(parts, ",")
}

// inspectFormat is the template given to `docker inspect` for the IDs whose ps
// line is new, in one command. It asks only for what ps lacks: exact labels
// (ps's Labels is one comma-joined unescaped string), the image ID, the
// restart count and Docker's own start and stop times. State, health, exit
// code and status text are left to the ps line, read at one instant: inspect
// runs tens of milliseconds later, and mixing the two stored a crash-looping
// container "running" with the status "Restarting (1) 3 seconds ago". ps
// stays the fallback when inspect fails (a container removed in between, an
// odd engine).
const inspectFormat = `{"ID":{{json .Id}},"Name":{{json .Name}},"Image":{{json .Image}},"Labels":{{json .Config.Labels}},"RestartCount":{{json .RestartCount}},"Created":{{json .Created}},"StartedAt":{{json .State.StartedAt}},"FinishedAt":{{json .State.FinishedAt}},"RestartPolicy":{{json .HostConfig.RestartPolicy.Name}}}`

const jsonLineFormat = `{{json .}}`

// psLine is one line of `docker ps` with psFormat, or with `{{json .}}`
// (which adds HealthStatus from 29.5 and more fields deckhand ignores).
type psLine struct {
	ID           string   `json:"ID"`
	Names        string   `json:"Names"`
	Image        string   `json:"Image"`
	Command      string   `json:"Command"`
	CreatedAt    string   `json:"CreatedAt"`
	State        string   `json:"State"`
	Status       string   `json:"Status"`
	Ports        string   `json:"Ports"`
	Labels       string   `json:"Labels"` // {{json .}}: every label, comma-joined
	L            []string `json:"L"`      // psFormat: the kept labels' values, in deckhand.KeptLabels order
	HealthStatus string   `json:"HealthStatus"`
}

// psLabels is what a ps line says of a container's labels: the kept ones
// by position (psFormat), or every label as one string ({{json .}}).
type psLabels struct {
	raw  string
	kept []string
}

// labels reads them; an empty value in kept reads as absent, since ps's
// .Label cannot tell the two apart.
func (p psLabels) labels() map[string]string {
	if p.kept == nil {
		return keptLabels(ParseLabels(p.raw))
	}
	m := make(map[string]string, len(p.kept))
	for i, k := range deckhand.KeptLabels() {
		if i < len(p.kept) && p.kept[i] != "" {
			m[intern(k)] = intern(p.kept[i])
		}
	}
	return m
}

// lineError records one line that could not be parsed.
type lineError struct {
	Line int
	Err  error
}

// splitLines yields the non-empty lines of out, numbered from 0, without
// allocating.
func splitLines(out []byte) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		i := 0
		for len(out) > 0 {
			l := out
			if j := bytes.IndexByte(out, '\n'); j >= 0 {
				l, out = out[:j], out[j+1:]
			} else {
				out = nil
			}
			l = bytes.TrimSpace(l)
			if len(l) == 0 {
				continue
			}
			if !yield(i, l) {
				return
			}
			i++
		}
	}
}

// ParsePS parses `docker ps` JSON lines into containers. A line that is not
// valid JSON or lacks an ID is skipped and reported in bad; the others are
// kept.
func ParsePS(out []byte) (ctrs []deckhand.Container, bad []lineError) {
	ctrs, labels, bad := parsePS(out)
	for i := range ctrs {
		setPSLabels(&ctrs[i], labels[i])
	}
	return ctrs, bad
}

// parsePS is ParsePS leaving Labels unset, with what each line says of
// them: the collector reads exact labels from inspect and reads these only
// for a container inspect did not return.
func parsePS(out []byte) (ctrs []deckhand.Container, labels []psLabels, bad []lineError) {
	n := bytes.Count(out, []byte("\n")) + 1
	ctrs, labels = make([]deckhand.Container, 0, n), make([]psLabels, 0, n)
	for i, l := range splitLines(out) {
		c, raw, err := parsePSLine(l)
		if err != nil {
			bad = append(bad, lineError{Line: i + 1, Err: err})
			continue
		}
		ctrs = append(ctrs, c)
		labels = append(labels, raw)
	}
	if len(ctrs) == 0 {
		ctrs, labels = nil, nil
	}
	return ctrs, labels, bad
}

// parsePSLine parses one line of `docker ps` into a container without
// labels, and what the line says of them.
func parsePSLine(l []byte) (deckhand.Container, psLabels, error) {
	var p psLine
	if err := json.Unmarshal(l, &p); err != nil {
		return deckhand.Container{}, psLabels{}, err
	}
	c, err := containerFromPS(p)
	return c, psLabels{raw: p.Labels, kept: p.L}, err
}

// setPSLabels sets c's labels from what `docker ps` said of them.
func setPSLabels(c *deckhand.Container, l psLabels) {
	c.Labels = l.labels()
	setCompose(c)
}

// keptLabels returns the labels of all that deckhand keeps
// (deckhand.KeptLabel), keys and values interned: across a fleet they are
// the same few strings ("true", project names, compose file paths).
func keptLabels(all map[string]string) map[string]string {
	n := 0
	for k := range all {
		if deckhand.KeptLabel(k) {
			n++
		}
	}
	kept := make(map[string]string, n)
	for k, v := range all {
		if deckhand.KeptLabel(k) {
			kept[intern(k)] = intern(v)
		}
	}
	return kept
}

// intern returns the canonical copy of s, so that the thousands of
// containers of a fleet share one copy of each image name, state and label.
func intern(s string) string { return unique.Make(s).Value() }

func containerFromPS(p psLine) (deckhand.Container, error) {
	if p.ID == "" {
		return deckhand.Container{}, errors.New("container without ID")
	}
	name := p.Names
	// A container linked by legacy --link lists its aliases too; the first
	// name without a slash is its own.
	if i := strings.IndexByte(name, ','); i >= 0 {
		for _, n := range strings.Split(name, ",") {
			if !strings.Contains(n, "/") {
				name = n
				break
			}
		}
	}
	st := ParseStatus(p.Status)
	state := deckhand.ContainerState(intern(strings.ToLower(p.State)))
	if state == "" {
		state = st.State
	}
	health := st.Health
	if h := parseHealth(p.HealthStatus); h != "" {
		health = h
	}
	c := deckhand.Container{
		ID:       p.ID,
		Name:     strings.TrimPrefix(name, "/"),
		Image:    intern(p.Image),
		Command:  intern(unquoteCommand(p.Command)),
		State:    state,
		Status:   p.Status,
		Health:   health,
		ExitCode: st.ExitCode,
		Ports:    ParsePorts(p.Ports),
	}
	c.CreatedAt, _ = parseDockerTime(p.CreatedAt)
	return c, nil
}

func setCompose(c *deckhand.Container) {
	c.ComposeProject = c.Labels[deckhand.LabelComposeProject]
	c.ComposeService = c.Labels[deckhand.LabelComposeService]
}

// unquoteCommand removes the double quotes `docker ps` puts around Command.
func unquoteCommand(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// parseDockerTime reads the CLI's "2006-01-02 15:04:05 -0700 MST" and RFC 3339.
func parseDockerTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("empty time")
	}
	const cli = "2006-01-02 15:04:05 -0700 MST"
	// Try the likely layout first: a failed time.Parse allocates its error.
	first, second := cli, time.RFC3339Nano
	if len(s) > 10 && s[10] == 'T' {
		first, second = second, first
	}
	if t, err := time.Parse(first, s); err == nil {
		return t, nil
	}
	return time.Parse(second, s)
}

// ParseLabels splits the comma-joined label string of `docker ps`. Docker
// joins k=v pairs with "," without escaping, so a value may itself contain
// "," and "=": a segment that has no "=" cannot start a label and is glued
// back onto the previous value. A segment with "=" is still ambiguous (the
// value "a,b=c" splits as a label "b"); inspect gives exact labels, this is
// the best that can be done from ps.
func ParseLabels(s string) map[string]string {
	labels := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return labels
	}
	last := ""
	for _, seg := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(seg, "=")
		if !ok || k == "" || (last != "" && !validLabelKey(k)) {
			if last != "" {
				labels[last] += "," + seg
			}
			continue
		}
		labels[k] = v
		last = k
	}
	return labels
}

// validLabelKey accepts what people use as label keys (reverse DNS, dots,
// dashes, underscores, slashes); it keeps "x y=z" inside a value from being
// read as a key.
func validLabelKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '/') {
			return false
		}
	}
	return true
}

// StatusInfo is what the human Status text of `docker ps` says.
type StatusInfo struct {
	State    deckhand.ContainerState
	Health   deckhand.Health
	ExitCode int
}

// ParseStatus reads state, health and exit code from Docker's human status:
// "Up 2 hours (healthy)", "Up 3 minutes (Paused)", "Exited (137) 5 minutes
// ago", "Restarting (1) 3 seconds ago", "Created", "Dead", "Removal In
// Progress". Unknown text gives an empty State.
func ParseStatus(s string) StatusInfo {
	s = strings.TrimSpace(s)
	info := StatusInfo{Health: deckhand.HealthNone}
	switch {
	case strings.HasPrefix(s, "Up"):
		info.State = deckhand.StateRunning
		if strings.Contains(s, "(Paused)") {
			info.State = deckhand.StatePaused
		}
	case strings.HasPrefix(s, "Exited"):
		info.State = deckhand.StateExited
	case strings.HasPrefix(s, "Restarting"):
		info.State = deckhand.StateRestarting
	case strings.HasPrefix(s, "Created"):
		info.State = deckhand.StateCreated
	case strings.HasPrefix(s, "Dead"):
		info.State = deckhand.StateDead
	case strings.HasPrefix(s, "Removal"):
		info.State = deckhand.StateRemoving
	}
	info.ExitCode = statusExitCode(s)
	// The leftmost health marker counts.
	at := len(s)
	for _, h := range []string{"(healthy)", "(unhealthy)", "(health: starting)"} {
		if i := strings.Index(s, h); i >= 0 && i < at {
			at, info.Health = i, parseHealth(h[1:len(h)-1])
		}
	}
	return info
}

// parseHealth maps Docker health words; "" when s says nothing.
// statusExitCode reads the code of "Exited (137) …" and "Restarting (1) …".
func statusExitCode(s string) int {
	rest, ok := strings.CutPrefix(s, "Exited (")
	if !ok {
		if rest, ok = strings.CutPrefix(s, "Restarting ("); !ok {
			return 0
		}
	}
	num, _, ok := strings.Cut(rest, ")")
	digits := strings.TrimPrefix(num, "-")
	if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0
	}
	n, _ := strconv.Atoi(num)
	return n
}

func parseHealth(s string) deckhand.Health {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "healthy":
		return deckhand.HealthHealthy
	case "unhealthy":
		return deckhand.HealthUnhealthy
	case "starting", "health: starting":
		return deckhand.HealthStarting
	case "none":
		return deckhand.HealthNone
	}
	return ""
}

// ParsePorts reads the Ports column: "0.0.0.0:5432->5432/tcp, [::]:5432->5432/tcp,
// :::80->80/tcp, 9000/tcp, 127.0.0.1:8000-8001->8000-8001/tcp". Ranges are
// expanded; anything unreadable is skipped.
func ParsePorts(s string) []deckhand.Port {
	var ports []deckhand.Port
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		ports = append(ports, parsePort(part)...)
	}
	return ports
}

func parsePort(s string) []deckhand.Port {
	spec, proto, ok := strings.Cut(s, "/")
	if !ok {
		proto = "tcp"
	}
	proto = intern(proto)
	host, priv, mapped := strings.Cut(spec, "->")
	if !mapped {
		lo, hi, ok := portRange(spec)
		if !ok {
			return nil
		}
		var out []deckhand.Port
		for p := lo; p <= hi; p++ {
			out = append(out, deckhand.Port{PrivatePort: p, Proto: proto})
		}
		return out
	}
	i := strings.LastIndexByte(host, ':')
	if i < 0 {
		return nil
	}
	ip, pub := host[:i], host[i+1:]
	ip = strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]")
	if ip == "::" || ip == "" {
		ip = "::"
	}
	ip = intern(ip)
	plo, phi, ok1 := portRange(pub)
	lo, hi, ok2 := portRange(priv)
	if !ok1 || !ok2 || phi-plo != hi-lo {
		return nil
	}
	var out []deckhand.Port
	for k := 0; k <= hi-lo; k++ {
		out = append(out, deckhand.Port{IP: ip, PublicPort: plo + k, PrivatePort: lo + k, Proto: proto})
	}
	return out
}

func portRange(s string) (lo, hi int, ok bool) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.Atoi(a)
	if err != nil || lo < 0 || lo > 65535 {
		return 0, 0, false
	}
	hi = lo
	if isRange {
		hi, err = strconv.Atoi(b)
		if err != nil || hi < lo || hi > 65535 || hi-lo > 1024 {
			return 0, 0, false
		}
	}
	return lo, hi, true
}

// inspectLine is one line of `docker inspect` with inspectFormat.
type inspectLine struct {
	ID           string            `json:"ID"`
	Name         string            `json:"Name"`
	Image        string            `json:"Image"`
	Labels       map[string]string `json:"Labels"`
	RestartCount int               `json:"RestartCount"`
	Created      string            `json:"Created"`
	StartedAt    string            `json:"StartedAt"`
	FinishedAt   string            `json:"FinishedAt"`
	// RestartPolicy is empty for a container made through the API without
	// one, which Docker treats as "no".
	RestartPolicy string `json:"RestartPolicy"`
}

// parseInspect parses inspectFormat lines into a map by full ID.
func parseInspect(out []byte) (map[string]inspectLine, []lineError) {
	res := map[string]inspectLine{}
	var bad []lineError
	for i, l := range splitLines(out) {
		var in inspectLine
		if err := json.Unmarshal(l, &in); err != nil || in.ID == "" {
			if err == nil {
				err = errors.New("inspect line without ID")
			}
			bad = append(bad, lineError{Line: i + 1, Err: err})
			continue
		}
		res[in.ID] = in
	}
	return res, bad
}

// mergeInspect adds what inspect knows and ps does not. It leaves state,
// health, exit code and status text as the ps line said them.
func mergeInspect(c *deckhand.Container, in inspectLine) {
	c.Labels = keptLabels(in.Labels)
	c.ImageID = intern(in.Image)
	c.RestartCount = in.RestartCount
	if t, err := parseDockerTime(in.Created); err == nil {
		c.CreatedAt = t
	}
	c.StartedAt, c.FinishedAt = stateTime(in.StartedAt), stateTime(in.FinishedAt)
	c.RestartPolicy = cmp.Or(intern(in.RestartPolicy), "no")
	setCompose(c)
}

// stateTime reads State.StartedAt / FinishedAt; Docker writes
// "0001-01-01T00:00:00Z" for never, which is the zero time.
func stateTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.IsZero() {
		return time.Time{}
	}
	return t
}

// versionJSON is `docker version --format '{{json .}}'`.
type versionJSON struct {
	Client *struct {
		Version    string `json:"Version"`
		APIVersion string `json:"ApiVersion"`
	} `json:"Client"`
	Server *struct {
		Version    string `json:"Version"`
		APIVersion string `json:"ApiVersion"`
	} `json:"Server"`
}

// Versions are the versions `docker version` reports.
type Versions struct {
	Client, Server, API string
}

// ParseVersion parses `docker version --format '{{json .}}'`. A null Server
// means the CLI could not reach the daemon: ErrDaemonDown.
func ParseVersion(out []byte) (Versions, error) {
	var v versionJSON
	if err := json.Unmarshal(bytes.TrimSpace(out), &v); err != nil {
		return Versions{}, fmt.Errorf("%w: %v", deckhand.ErrBadOutput, err)
	}
	var res Versions
	if v.Client != nil {
		res.Client = v.Client.Version
		res.API = v.Client.APIVersion
	}
	if v.Server == nil {
		return res, fmt.Errorf("server is null: %w", deckhand.ErrDaemonDown)
	}
	res.Server = v.Server.Version
	if v.Server.APIVersion != "" {
		res.API = v.Server.APIVersion
	}
	return res, nil
}

type imageLine struct {
	ID         string `json:"ID"`
	Repository string `json:"Repository"`
	Tag        string `json:"Tag"`
	Size       string `json:"Size"`
	CreatedAt  string `json:"CreatedAt"`
}

// ParseImages parses `docker images --no-trunc --format '{{json .}}'`. The
// CLI lists an image once per tag; lines with the same ID are merged.
func ParseImages(out []byte) ([]deckhand.Image, []lineError) {
	var imgs []deckhand.Image
	idx := map[string]int{}
	var bad []lineError
	for i, l := range splitLines(out) {
		var in imageLine
		if err := json.Unmarshal(l, &in); err != nil || in.ID == "" {
			if err == nil {
				err = errors.New("image without ID")
			}
			bad = append(bad, lineError{Line: i + 1, Err: err})
			continue
		}
		tag := ""
		if in.Repository != "" && in.Repository != "<none>" {
			tag = in.Repository
			if in.Tag != "" && in.Tag != "<none>" {
				tag += ":" + in.Tag
			}
		}
		if j, ok := idx[in.ID]; ok {
			if tag != "" {
				imgs[j].RepoTags = append(imgs[j].RepoTags, tag)
			}
			continue
		}
		img := deckhand.Image{ID: in.ID}
		if tag != "" {
			img.RepoTags = []string{tag}
		}
		img.Size, _ = ParseSize(in.Size)
		img.CreatedAt, _ = parseDockerTime(in.CreatedAt)
		idx[in.ID] = len(imgs)
		imgs = append(imgs, img)
	}
	return imgs, bad
}

var reSize = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)$`)

// ParseSize reads Docker's human sizes: "12.3MB", "1.49kB", "0B", "2.383MiB".
// Docker's units are decimal (kB, MB, GB) except for the binary *iB ones.
func ParseSize(s string) (int64, error) {
	m := reSize.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return -1, fmt.Errorf("size %q: %w", s, deckhand.ErrBadOutput)
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1, fmt.Errorf("size %q: %w", s, deckhand.ErrBadOutput)
	}
	mult := map[string]float64{
		"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "pb": 1e15,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
	}[strings.ToLower(m[2])]
	if mult == 0 {
		return -1, fmt.Errorf("size %q: unknown unit: %w", s, deckhand.ErrBadOutput)
	}
	return int64(f * mult), nil
}

type volumeLine struct {
	Name       string `json:"Name"`
	Driver     string `json:"Driver"`
	Mountpoint string `json:"Mountpoint"`
	Scope      string `json:"Scope"`
	Size       string `json:"Size"`
	Links      string `json:"Links"`
}

func (v volumeLine) volume() deckhand.Volume {
	vol := deckhand.Volume{Name: v.Name, Driver: v.Driver, Mountpoint: v.Mountpoint, Scope: v.Scope, Size: -1, Links: -1}
	if n, err := ParseSize(v.Size); err == nil {
		vol.Size = n
	}
	if n, err := strconv.Atoi(v.Links); err == nil {
		vol.Links = n
	}
	return vol
}

// ParseVolumes parses `docker volume ls --format '{{json .}}'`. Size and
// Links are "N/A" there: they come from `docker system df -v`.
func ParseVolumes(out []byte) ([]deckhand.Volume, []lineError) {
	var vols []deckhand.Volume
	var bad []lineError
	for i, l := range splitLines(out) {
		var v volumeLine
		if err := json.Unmarshal(l, &v); err != nil || v.Name == "" {
			if err == nil {
				err = errors.New("volume without name")
			}
			bad = append(bad, lineError{Line: i + 1, Err: err})
			continue
		}
		vols = append(vols, v.volume())
	}
	return vols, bad
}

// ParseSystemDF reads the volume sizes and link counts of `docker system df
// -v --format '{{json .}}'`, by volume name.
func ParseSystemDF(out []byte) (map[string]deckhand.Volume, error) {
	var df struct {
		Volumes []volumeLine `json:"Volumes"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &df); err != nil {
		return nil, fmt.Errorf("docker system df: %w: %v", deckhand.ErrBadOutput, err)
	}
	res := make(map[string]deckhand.Volume, len(df.Volumes))
	for _, v := range df.Volumes {
		res[v.Name] = v.volume()
	}
	return res, nil
}

// Stat is one line of `docker stats --no-stream`.
type Stat struct {
	ID         string
	Name       string
	CPUPercent float64
	MemUsage   int64 // bytes
	MemLimit   int64 // bytes
	MemPercent float64
	NetRx      int64
	NetTx      int64
	BlockRead  int64
	BlockWrite int64
	PIDs       int
}

type statLine struct {
	ID       string `json:"ID"`
	Name     string `json:"Name"`
	CPUPerc  string `json:"CPUPerc"`
	MemUsage string `json:"MemUsage"`
	MemPerc  string `json:"MemPerc"`
	NetIO    string `json:"NetIO"`
	BlockIO  string `json:"BlockIO"`
	PIDs     string `json:"PIDs"`
}

// ParseStats parses `docker stats --no-stream --format '{{json .}}'`.
// Unreadable figures are left at zero ("--" for a container that stopped).
func ParseStats(out []byte) ([]Stat, []lineError) {
	var stats []Stat
	var bad []lineError
	for i, l := range splitLines(out) {
		var s statLine
		if err := json.Unmarshal(l, &s); err != nil || (s.ID == "" && s.Name == "") {
			if err == nil {
				err = errors.New("stat without ID")
			}
			bad = append(bad, lineError{Line: i + 1, Err: err})
			continue
		}
		st := Stat{ID: s.ID, Name: s.Name}
		st.CPUPercent = parsePercent(s.CPUPerc)
		st.MemPercent = parsePercent(s.MemPerc)
		st.MemUsage, st.MemLimit = parsePair(s.MemUsage)
		st.NetRx, st.NetTx = parsePair(s.NetIO)
		st.BlockRead, st.BlockWrite = parsePair(s.BlockIO)
		st.PIDs, _ = strconv.Atoi(s.PIDs)
		stats = append(stats, st)
	}
	return stats, bad
}

func parsePercent(s string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	return f
}

func parsePair(s string) (int64, int64) {
	a, b, _ := strings.Cut(s, "/")
	x, _ := ParseSize(a)
	y, _ := ParseSize(b)
	return max(x, 0), max(y, 0)
}
