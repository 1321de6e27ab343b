// Package tiendo holds the domain of Tiến Độ, a live dashboard for field
// enrolment campaigns: campaigns, stations, the events stations send, the
// working-day and late-night rules, and the pure computations (throughput,
// waits, projections) that the server and dashboards share.
//
// The package does no I/O and imports nothing of the module: storage lives in
// store/, HTTP in server/ and ingest/, and cmd/tiendo wires them together.
package tiendo
