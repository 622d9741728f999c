//go:build !race

package main

// raceBuild: see race_e2e_test.go.
const raceBuild = false
