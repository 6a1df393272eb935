// Command qpay is the operator's tool for the SinoPac 豐收款 (QPay) API:
// query orders and payments, create and maintain orders, read bills and
// allotments, reconcile pending orders, decode captured envelopes, and run
// a local QPay simulator. Without credentials it runs in demo mode against
// a built-in simulator.
//
// Run "qpay help" for the commands, and see the README for exit codes and
// environment variables.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}
