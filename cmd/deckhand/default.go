package main

// defaultConfig is what `deckhand run` uses without --config: the local
// Docker engine, a SQLite file in the working directory and the status page
// on localhost. It is a valid config file, checked by a test.
var defaultConfig = []byte(`data = "deckhand.db"

[[hosts]]
name = "local"
transport = "local"

[statuspage]
listen = "127.0.0.1:8080"
`)
