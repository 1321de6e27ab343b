// Package langson2021 is the campaign tiendo ships with: the chip-based
// citizen ID card (CCCD) enrolment of Lạng Sơn province, 10 March – 1 July
// 2021, 621,000 records over 11 district-level units. District quotas split
// the target by 2019 population; commune names the source does not give are
// synthetic and marked so ("giả lập", synthetic=1 in stations.csv).
package langson2021

import (
	"bytes"
	_ "embed"

	"tiendo"
)

//go:embed campaign.json
var campaignJSON []byte

//go:embed stations.csv
var stationsCSV []byte

// Campaign returns the shipped campaign, validated.
func Campaign() *tiendo.Campaign {
	c, err := tiendo.ParseCampaign(campaignJSON)
	if err != nil {
		panic("langson2021: shipped campaign is invalid: " + err.Error())
	}
	return c
}

// Stations returns the shipped station registry.
func Stations() []tiendo.Station {
	st, err := tiendo.ParseStationsCSV(bytes.NewReader(stationsCSV), Campaign().Districts)
	if err != nil {
		panic("langson2021: shipped stations are invalid: " + err.Error())
	}
	return st
}
