package collector

// PSFormat is the ps template, for the integration tests that hand it to
// the real CLI.
var PSFormat = psFormat
