package server

import (
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tiendo"
)

// Timeline notes ("mobile team at THPT Bắc Sơn, 14–17 h") explain a bump
// or a dip on the charts. A district's officer writes them for the
// district or one of its stations, a leader or an admin for any; everyone
// who may read a scope reads its notes (on its charts, and here); the
// author or an admin deletes one.

// MaxNoteRunes bounds a note's text: it is a line in a chart's tooltip
// and a label on it, not a report.
const MaxNoteRunes = 200

// maxNoteSpan is the longest time a note may cover: it is about an event
// (an afternoon at a school, a power cut, a holiday), not a season.
const maxNoteSpan = 31 * 24 * time.Hour

// maxNotesPerDistrict bounds what every chart of a district's scopes
// draws (and a script gone wrong can write).
const maxNotesPerDistrict = 1000

// noteRoutes registers the timeline notes API: GET /api/v1/notes?scope=…,
// POST /api/v1/notes, DELETE /api/v1/notes/<id>.
func (s *Server) noteRoutes(api fiber.Router) {
	api.Get("/notes", s.listNotes)
	api.Post("/notes", s.addNote)
	api.Delete("/notes/:id", s.deleteNote)
}

// noteRequest is the body of POST /api/v1/notes: a district or a station
// (whose district the note then belongs to), the time it covers (RFC 3339)
// and the text.
type noteRequest struct {
	District string `json:"district"`
	Station  string `json:"station"`
	From     string `json:"from"`
	To       string `json:"to"`
	Text     string `json:"text"`
}

// writer is the principal of a request that writes or deletes a note:
// signed in, and when by a session cookie, from the server's own origin
// (a note is text everyone reads; a foreign page must not post one).
func (s *Server) writer(c *fiber.Ctx) (*Principal, error) {
	p, err := s.authenticate(c)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, tiendo.Errorf(tiendo.EUnauthorized, "sign in, or send Authorization: Bearer <token>")
	}
	if p.Cookie && !s.originAllowed(c, p) {
		return nil, tiendo.Errorf(tiendo.EForbidden, "a signed-in browser must send this server's own Origin")
	}
	return p, nil
}

// writesNotes reports whether a role may write notes at all: a district's
// officer (for its district), a leader and an admin (for any).
func writesNotes(r tiendo.Role) bool {
	return r == tiendo.RoleAdmin || r == tiendo.RoleLeader || r == tiendo.RoleDistrict
}

// noteScope is the scope a note is about: its station's, or its district's.
func noteScope(n tiendo.Note) tiendo.Scope {
	if n.Station != "" {
		return tiendo.Scope{Kind: tiendo.ScopeStation, ID: n.Station}
	}
	return tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: n.District}
}

// mayAnnotate says why p may not write n, or nil: a role that writes
// notes, and one that may read the note's scope (a district officer: its
// own district and the stations now in it).
func mayAnnotate(reg *tiendo.Registry, p *Principal, n tiendo.Note) error {
	if !writesNotes(p.Role) {
		return tiendo.Errorf(tiendo.EForbidden, "a %s account may not write notes (district officers, leaders and admins do)", p.Role)
	}
	if !CanRead(reg, p, noteScope(n)) {
		return tiendo.Errorf(tiendo.EForbidden, "a %s account may not annotate %s", p.Role, noteScope(n))
	}
	return nil
}

// addNote writes a note: 201 with it, 400 naming each bad field, 403 for
// an account that may not annotate the scope, 409 past the district's
// limit.
func (s *Server) addNote(c *fiber.Ctx) error {
	p, err := s.writer(c)
	if err != nil {
		return err
	}
	if !writesNotes(p.Role) {
		return mayAnnotate(nil, p, tiendo.Note{})
	}
	var req noteRequest
	if err := c.BodyParser(&req); err != nil {
		return tiendo.Errorf(tiendo.EInvalid, `want JSON {"district" or "station", "from", "to", "text"}`)
	}
	reg := s.Registry()
	n, bad := s.noteOf(reg, req)
	if len(bad) > 0 {
		return &tiendo.Error{Code: tiendo.EInvalid, Message: "cannot write the note", Fields: bad}
	}
	if err := mayAnnotate(reg, p, n); err != nil {
		return err
	}
	n.By, n.At = p.ID, s.Now().UTC()
	if n, err = s.local.AddNote(n, maxNotesPerDistrict); err != nil {
		return err
	}
	s.log.Info("note added", slog.String("id", n.ID), slog.String("scope", noteScope(n).String()), slog.String("by", n.By))
	s.publisher.Wake()
	return c.Status(fiber.StatusCreated).JSON(n)
}

// noteOf checks a note request against reg and the campaign: where it
// belongs, its times and its text (the rules of station names, longer).
func (s *Server) noteOf(reg *tiendo.Registry, req noteRequest) (tiendo.Note, []tiendo.FieldError) {
	var bad []tiendo.FieldError
	add := func(field, reason string) {
		bad = append(bad, tiendo.FieldError{Index: -1, Field: field, Reason: reason})
	}
	var n tiendo.Note
	switch {
	case req.Station != "":
		st := reg.Station(req.Station)
		if st == nil {
			add("station", "unknown station "+req.Station)
			break
		}
		n.Station, n.District = st.ID, st.District
		if req.District != "" && req.District != st.District {
			add("district", "station "+st.ID+" is in district "+st.District)
		}
	case req.District == "":
		add("district", "give a district or a station")
	case reg.District(req.District) == nil:
		add("district", "unknown district "+req.District)
	default:
		n.District = req.District
	}
	instant := func(field, v string) time.Time {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			add(field, "want a time in RFC 3339, e.g. 2021-03-20T14:00:00+07:00")
		}
		return t.UTC()
	}
	n.From, n.To = instant("from", req.From), instant("to", req.To)
	c := reg.Campaign
	switch {
	case n.From.IsZero() || n.To.IsZero():
	case !n.To.After(n.From):
		add("to", "must be after from")
	case n.To.Sub(n.From) > maxNoteSpan:
		add("to", "a note covers at most 31 days")
	case n.From.Before(c.StartTime()):
		add("from", "before the campaign's start")
	case n.From.After(s.Now().Add(maxNoteSpan)):
		add("from", "more than 31 days ahead")
	}
	n.Text = strings.TrimSpace(req.Text)
	if n.Text == "" {
		add("text", "required")
	} else if reason := tiendo.TextProblem(n.Text, MaxNoteRunes); reason != "" {
		add("text", reason)
	}
	return n, bad
}

// listNotes answers GET /api/v1/notes?scope=…: the scope's notes (see
// notesIn) for whoever may read the scope, by start time.
func (s *Server) listNotes(c *fiber.Ctx) error {
	scope, err := s.scopeQuery(c)
	if err != nil {
		return err
	}
	if _, err := s.requireRead(c, scope); err != nil {
		return err
	}
	reg := s.Registry()
	if !reg.Known(scope) {
		return tiendo.Errorf(tiendo.ENotFound, "no %s with id %q", scope.Kind, scope.ID)
	}
	all, err := s.local.Notes()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"scope": scope, "notes": notesIn(reg, all, scope)})
}

// deleteNote removes a note for its author (while still allowed to
// annotate its scope) or an admin. Whoever may not read its scope is told
// there is no such note.
func (s *Server) deleteNote(c *fiber.Ctx) error {
	p, err := s.writer(c)
	if err != nil {
		return err
	}
	id := strings.Clone(c.Params("id"))
	reg := s.Registry()
	n, err := s.local.DeleteNote(id, func(n tiendo.Note) error {
		switch {
		case !CanRead(reg, p, noteScope(n)):
			return tiendo.Errorf(tiendo.ENotFound, "no note %q", id)
		case p.Role == tiendo.RoleAdmin:
			return nil
		case p.ID != n.By:
			return tiendo.Errorf(tiendo.EForbidden, "only its author or an admin may delete a note")
		}
		return mayAnnotate(reg, p, n)
	})
	if err != nil {
		return err
	}
	s.log.Info("note deleted", slog.String("id", n.ID), slog.String("scope", noteScope(n).String()), slog.String("by", p.ID))
	s.publisher.Wake()
	return c.JSON(n)
}

// notesIn picks a scope's notes out of all: the province has every note;
// a district its own and those of the stations now in it (a station moved
// by an import takes its notes along, as it takes its records); a station
// its own and its district's own, which concern all its stations.
func notesIn(reg *tiendo.Registry, all []tiendo.Note, scope tiendo.Scope) []tiendo.Note {
	out := []tiendo.Note{}
	for _, n := range all {
		district := n.District
		if st := reg.Station(n.Station); st != nil {
			district = st.District
		}
		var in bool
		switch scope.Kind {
		case tiendo.ScopeProvince:
			in = true
		case tiendo.ScopeDistrict:
			in = district == scope.ID
		case tiendo.ScopeUnit:
			in = reg.Within(tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: district}, scope.ID)
		case tiendo.ScopeStation:
			st := reg.Station(scope.ID)
			in = n.Station == scope.ID || (n.Station == "" && st != nil && n.District == st.District)
		}
		if in {
			out = append(out, n)
		}
	}
	return out
}

// scopeNotes is the read model's source of each scope's notes, for its
// charts. An unreadable state is logged and draws no notes: the charts'
// figures matter more than their notes.
func (s *Server) scopeNotes(scope tiendo.Scope) []tiendo.Note {
	all, err := s.local.Notes()
	if err != nil {
		s.log.Error("notes unreadable", "err", err)
		return nil
	}
	return notesIn(s.Registry(), all, scope)
}
