// Package ext stands in for Traefik's dynamic-configuration extension module
// (github.com/traefik/traefik/dynamic/ext, upstream pkg/config/dynamic/ext),
// which upstream's go.mod replaces with a local directory that the published
// module zip does not contain. Upstream's types are empty structs too.
package ext

// HTTP is a dynamic.HTTP extension.
type HTTP struct{}

// Router is a dynamic.Router extension.
type Router struct{}
