// Package dashboards turns a scope's live figures into ECharts options.
//
// It is pure on purpose: the server queries the store once per scope and
// tick, hands the results to Build, and ships the returned option JSON to
// every screen, where the browser does nothing but chart.setOption(option).
// Because no JavaScript runs on our side of the wire, everything a reader
// sees as text — titles, subtitles, tooltips, value labels — is formatted
// here, in Go, in the reader's language (Vietnamese number and date forms by
// default). Only axis tick labels are left to ECharts, so data stays numeric.
//
// The charts render the snapshot's decision model and decide nothing
// (DECISIONS.md): the verdict, the plan's expectation, the projected finish
// and the pace are the Pace objects of the scope and its districts; waits,
// list times, closing times and idle officers are the stations' service
// figures; the headline stations are the snapshot's Attention lists. What
// is computed here is counts and layout: running totals per working day,
// hours, shares of the night, orders and colours. A badge, a list and a
// chart built from one snapshot therefore cannot disagree.
//
// Options are built with go-echarts and taken out through its JSON() method,
// never rendered to HTML; the charts' assets host points at our own
// /static/vendor/ so nothing would ever be fetched from a CDN.
//
// Charts and the question each answers (see CAMPAIGN.md):
//
//	progress          Will the scope reach its target by the deadline? (Snapshot.Pace)
//	throughput        Which stations produce most right now (last 60 minutes)?
//	throughput_trend  How does today's hourly output run, against yesterday?
//	queue             Where do people wait, and where do staff stand idle? (service figures)
//	latenight         How late into the night do we work, day after day?
//	districts         Which districts are behind (DistrictState.Pace; province only)?
package dashboards
