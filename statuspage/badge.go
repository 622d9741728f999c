package statuspage

import (
	"bytes"
	"fmt"
	"html"
	"net/http"
	"strings"
	"unicode/utf8"
)

var badgeColours = map[string]string{
	levelUp:          "#2e7d32", // white text on these keeps a 4.5:1 contrast
	levelRecovering:  "#00695c",
	levelDegraded:    "#8a5a00",
	levelDown:        "#c62828",
	levelMaintenance: "#1565c0",
}

// serveBadge answers /badge/{host}/{container}.svg with a shields-style
// badge. Unknown and non-public containers get the same 404, so a badge URL
// cannot be used to probe for hidden containers.
func (p *Page) serveBadge(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	if !ok {
		notFound(w, r)
		return
	}
	cv := p.current().containers[ContainerKey{r.PathValue("host"), name}]
	if cv == nil {
		notFound(w, r)
		return
	}
	serveDoc(w, r, newDoc(badgeSVG(cv.Name, cv.Level), "image/svg+xml"), cachePage)
}

// textWidth approximates Verdana 11px, the shields.io font, closely enough
// for the label to fit.
func textWidth(s string) int {
	w := 0
	for _, r := range s {
		switch {
		case strings.ContainsRune("iljI.,:;|!'", r):
			w += 4
		case strings.ContainsRune("mwMW", r):
			w += 10
		case r >= 'A' && r <= 'Z':
			w += 8
		default:
			w += 7
		}
	}
	return w
}

func badgeSVG(label, level string) []byte {
	if utf8.RuneCountInString(label) > 40 {
		label = string([]rune(label)[:39]) + "…"
	}
	value := level
	colour, ok := badgeColours[level]
	if !ok {
		colour = "#616161"
	}
	lw, vw := textWidth(label)+12, textWidth(value)+12
	total := lw + vw
	l, v := html.EscapeString(label), html.EscapeString(value)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s: %s">`, total, l, v)
	fmt.Fprintf(&b, `<title>%s: %s</title>`, l, v)
	fmt.Fprintf(&b, `<linearGradient id="s" x2="0" y2="100%%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`)
	fmt.Fprintf(&b, `<clipPath id="r"><rect width="%d" height="20" rx="3" fill="#fff"/></clipPath>`, total)
	fmt.Fprintf(&b, `<g clip-path="url(#r)"><rect width="%d" height="20" fill="#555"/><rect x="%d" width="%d" height="20" fill="%s"/><rect width="%d" height="20" fill="url(#s)"/></g>`, lw, lw, vw, colour, total)
	fmt.Fprintf(&b, `<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`)
	fmt.Fprintf(&b, `<text x="%d" y="14">%s</text><text x="%d" y="14">%s</text></g></svg>`, lw/2, l, lw+vw/2, v)
	return b.Bytes()
}
