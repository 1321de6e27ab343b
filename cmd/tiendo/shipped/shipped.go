// Package shipped names the campaigns the tiendo binary carries, so that
// serve, simulate and the benches pick one by the id an operator types
// (--campaign vietnam-2021) rather than each wiring its own.
package shipped

import (
	"fmt"
	"strings"

	"tiendo"
	"tiendo/cmd/tiendo/langson2021"
	"tiendo/cmd/tiendo/vietnam2021"
)

// Default is the campaign of a server started without --campaign: the
// province campaign the product was first built for.
const Default = "langson-2021"

// campaigns by id; each builds a fresh copy, the caller may change it.
var campaigns = map[string]func() (*tiendo.Campaign, []tiendo.Station){
	"langson-2021": func() (*tiendo.Campaign, []tiendo.Station) {
		return langson2021.Campaign(), langson2021.Stations()
	},
	"vietnam-2021": func() (*tiendo.Campaign, []tiendo.Station) {
		return vietnam2021.Campaign(), vietnam2021.Stations()
	},
}

// IDs lists the shipped campaigns, the default first.
func IDs() []string { return []string{"langson-2021", "vietnam-2021"} }

// Lookup returns the campaign with the given id and its station registry,
// or an error that lists the ids there are.
func Lookup(id string) (*tiendo.Campaign, []tiendo.Station, error) {
	build, ok := campaigns[id]
	if !ok {
		return nil, nil, fmt.Errorf("no shipped campaign %q (there are: %s)", id, strings.Join(IDs(), ", "))
	}
	c, stations := build()
	return c, stations, nil
}
