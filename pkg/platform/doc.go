// Package platform is the root of the runtime code that the streamgate services share:
// configuration, logging, correlation IDs, Kafka client settings, health probes and the
// HTTP server lifecycle. The wire contract lives apart, in pkg/messages.
package platform
