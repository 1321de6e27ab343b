package server

import (
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"

	"tiendo"
)

// auditAlertAcked is the audit trail's line for an acknowledgement: who
// took on which alert (see audit.go for the trail's rules).
const auditAlertAcked = "alert acknowledged"

// alertRoutes registers the alerts API (GET /api/v1/alerts, POST
// /api/v1/alerts/<id>/ack).
func (s *Server) alertRoutes(api fiber.Router) {
	api.Get("/alerts", s.listAlerts)
	api.Post("/alerts/:id/ack", s.ackAlert)
}

// scopeAlerts are the open alerts a scope's snapshot carries
// (readmodel.Sources.Alerts).
func (s *Server) scopeAlerts(scope tiendo.Scope) []tiendo.Alert { return s.alerts.Of(scope) }

// alertList is the answer of GET /api/v1/alerts.
type alertList struct {
	Scope tiendo.Scope `json:"scope"`
	State string       `json:"state"`         // "open" or "all"
	Day   *tiendo.Day  `json:"day,omitempty"` // the working day of state=all
	// Alerts: with state=open the open ones in the snapshot's order
	// (critical first, then the newest); with state=all every alert open
	// at some time of the working day, open or resolved, by opening time.
	Alerts []tiendo.Alert `json:"alerts"`
}

// listAlerts answers GET /api/v1/alerts?scope=…[&state=open|all][&day=YYYY-MM-DD]
// for whoever may read the scope: the alerts open now (state=open, the
// default), or every alert open at any time of a working day (state=all;
// day defaults to the current one), the daily brief's history.
func (s *Server) listAlerts(c *fiber.Ctx) error {
	scope, err := s.scopeQuery(c)
	if err != nil {
		return err
	}
	if _, err := s.requireRead(c, scope); err != nil {
		return err
	}
	bad := func(field, reason string) error {
		return &tiendo.Error{Code: tiendo.EInvalid, Message: "cannot list alerts",
			Fields: []tiendo.FieldError{{Index: -1, Field: field, Reason: reason}}}
	}
	reg := s.Registry()
	if !reg.Known(scope) {
		return tiendo.Errorf(tiendo.ENotFound, "no %s with id %q", scope.Kind, scope.ID)
	}
	out := alertList{Scope: scope, State: c.Query("state", "open")}
	switch out.State {
	case "open":
		if c.Query("day") != "" {
			return bad("day", "a day goes with state=all (open alerts are those open now)")
		}
		out.Alerts = s.alerts.Of(scope)
	case "all":
		day := reg.Campaign.WorkingDay(s.Now())
		if q := c.Query("day"); q != "" {
			if day, err = tiendo.ParseDay(q); err != nil {
				return bad("day", "want YYYY-MM-DD")
			}
		}
		out.Day = &day
		if out.Alerts, err = s.alerts.During(scope, reg.Campaign.DayStart(day), reg.Campaign.DayEnd(day)); err != nil {
			return err
		}
	default:
		return bad("state", "want open or all")
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

// ackAlert records an acknowledgement: POST /api/v1/alerts/<id>/ack. Who
// may: whoever may read the alert's own scope (its station, or its district
// for a district's alert) and is a person or an admin acting for the
// campaign: a station's chief, the district's officer, leaders, admins.
// Screens only watch and station tokens only post events. The first
// acknowledgement stands; acknowledging again answers the alert as it is.
func (s *Server) ackAlert(c *fiber.Ctx) error {
	p, err := s.authenticate(c)
	if err != nil {
		return err
	}
	if p == nil {
		return tiendo.Errorf(tiendo.EUnauthorized, "sign in, or send Authorization: Bearer <token>")
	}
	if !s.originAllowed(c, p) {
		return tiendo.Errorf(tiendo.EForbidden, "acknowledge from this site's own pages")
	}
	id := strings.Clone(c.Params("id"))
	a, err := s.alerts.Get(id)
	if err != nil {
		return err
	}
	if p.Role.ScreenView() || p.Role.PostsEvents() || !CanRead(s.Registry(), p, s.alertScope(&a)) {
		return tiendo.Errorf(tiendo.EForbidden, "a %s account may not acknowledge this alert", p.Role)
	}
	acked, first, err := s.alerts.Ack(id, p.ID, s.Now())
	if err != nil {
		return err
	}
	if first {
		s.audit(auditAlertAcked, slog.String("id", acked.ID), slog.String("kind", string(acked.Kind)),
			slog.String("station", acked.Station), slog.String("district", acked.District),
			slog.String("by", p.ID), slog.String("addr", s.clientIP(c)))
		s.publisher.Wake()
	}
	return c.JSON(acked)
}

// alertScope is the scope an alert belongs to, for who may acknowledge
// it: its station's, its unit's for a province's pace, or its district's
// for a district's alert and for a station the registry no longer has.
func (s *Server) alertScope(a *tiendo.Alert) tiendo.Scope {
	if a.Station != "" && s.Registry().Station(a.Station) != nil {
		return tiendo.Scope{Kind: tiendo.ScopeStation, ID: a.Station}
	}
	if a.Station == "" && a.District == "" && a.Unit != "" {
		return tiendo.Scope{Kind: tiendo.ScopeUnit, ID: a.Unit}
	}
	return tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: a.District}
}
