// Package e2e holds the end-to-end test of otelqpay: a client observed by
// otelqpay over in-memory OpenTelemetry, against the qpaytest simulator,
// through a create, a retried query, a forged reply, a notification and a
// reconciler pass. It is a module of its own so that otelqpay's go.mod
// does not require the reconciler and SQLite for a test.
package e2e
