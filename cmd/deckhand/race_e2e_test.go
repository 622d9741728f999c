//go:build race

package main

// raceBuild is set when the tests run with -race: the daemon binary the
// end-to-end tests build then uses -race too, so that it reuses the
// compiled packages of the test build instead of compiling them again.
const raceBuild = true
