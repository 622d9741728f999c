package deckhand

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestRedactArgs(t *testing.T) {
	for _, tc := range []struct {
		in, want []string
	}{
		{[]string{"/app", "serve"}, []string{"/app", "serve"}},
		{[]string{"--db-password=hunter2", "-p", "s3cret", "KEY=v4lue"}, []string{"--db-password=<redacted>", "-p", "<redacted>", "KEY=<redacted>"}},
		{[]string{"--token", "abc", "--verbose", "--port", "80"}, []string{"--token", "<redacted>", "--verbose", "--port", "<redacted>"}},
		{[]string{"-config", "/etc/x.yml", "-listen=:80"}, []string{"-config", "<redacted>", "-listen=<redacted>"}},
		{[]string{"--password", "correct horse battery"}, []string{"--password", "<redacted>"}},
		// A shell's -c takes a command line, not a value: it is redacted
		// word by word, so the command stays readable.
		{[]string{"sh", "-c", "mysqld --password=hunter2 -u root && echo ok"}, []string{"sh", "-c", "mysqld --password=<redacted> -u <redacted> && echo ok"}},
		{[]string{"CMD-SHELL", "curl -u admin:pw http://localhost/ || exit 1"}, []string{"CMD-SHELL", "curl -u <redacted> http://localhost/ || exit 1"}},
		{[]string{"psql", "postgres://app:hunter2@db/app"}, []string{"psql", "postgres://app:<redacted>@db/app"}},
		{[]string{"--", "-x"}, []string{"--", "-x"}},
	} {
		if got := RedactArgs(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("RedactArgs(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactInspect(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(`{
		"Id": "abc", "Name": "/db", "Path": "/usr/bin/db",
		"Args": ["--db-password=hunter2", "-p", "s3cret1", "KEY=v4lue"],
		"Config": {
			"Env": ["PATH=/bin", "TZ=Europe/Paris", "NOEQUALS"],
			"Cmd": ["serve", "--token", "s3cret2"],
			"Entrypoint": ["sh", "-c", "exec db --password=s3cret3"],
			"Healthcheck": {"Test": ["CMD-SHELL", "mysqladmin ping -p s3cret4"]},
			"Image": "mariadb:11",
			"Labels": {
				"token": "s3cret5",
				"traefik.http.middlewares.auth.basicauth.users": "admin:$apr1$s3cret6",
				"org.opencontainers.image.version": "11.4",
				"homelab.monitor": "true",
				"com.docker.compose.project": "media",
				"com.docker.compose.project.config_files": "/srv/media/compose.yaml",
				"db.password": ""
			}
		},
		"HostConfig": {
			"ApiToken": "s3cret7",
			"Nested": [{"privateKey": "s3cret8"}],
			"LogConfig": {"Type": "loki", "Config": {"loki-url": "https://u:s3cret9@loki.example/push"}},
			"Binds": ["/srv/db:/var/lib/mysql"],
			"SecretKeys": {}
		},
		"RestartCount": 2
	}`), &doc); err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(doc)
	got := RedactInspect(doc)
	out, _ := json.Marshal(got)
	if after, _ := json.Marshal(doc); string(after) != string(before) {
		t.Error("RedactInspect changed its argument")
	}
	for _, leak := range []string{"s3cret", "hunter2", "v4lue", "Europe/Paris", "NOEQUALS", "11.4"} {
		if strings.Contains(string(out), leak) {
			t.Errorf("redacted document leaks %q: %s", leak, out)
		}
	}
	for _, keep := range []string{
		`"Name":"/db"`, `"Path":"/usr/bin/db"`, `"TZ=\u003credacted\u003e"`, `"homelab.monitor":"true"`,
		`"com.docker.compose.project":"media"`, `"com.docker.compose.project.config_files":"/srv/media/compose.yaml"`,
		`"mariadb:11"`, `"/srv/db:/var/lib/mysql"`, `"RestartCount":2`, `"db.password":""`, `"SecretKeys":{}`,
		`"exec db --password=\u003credacted\u003e"`, `"token":"\u003credacted\u003e"`,
	} {
		if !strings.Contains(string(out), keep) {
			t.Errorf("redacted document lacks %s: %s", keep, out)
		}
	}
}

func TestShownLabel(t *testing.T) {
	for k, want := range map[string]bool{
		LabelMonitor: true, LabelComposeFiles: true, "com.docker.compose.config-hash": true,
		"token": false, "traefik.enable": false, "homelab.api_token": false, "com.docker.composer": false,
	} {
		if got := ShownLabel(k); got != want {
			t.Errorf("ShownLabel(%q) = %v, want %v", k, got, want)
		}
	}
}
