package server

import (
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"

	"tiendo"
)

// answerMove records a chief's answer to a suggested staff move:
// POST /api/v1/moves/<id> {"outcome": "done" | "not_possible"}. Who may
// answer: whoever may see either station (its chief, the district's
// officer, leaders, admins). The suggestion must stand now; once answered
// it is not made again within the hour, and the next round says so.
func (s *Server) answerMove(c *fiber.Ctx) error {
	id := strings.Clone(c.Params("id"))
	var req struct {
		Outcome string `json:"outcome"`
	}
	if err := c.BodyParser(&req); err != nil || (req.Outcome != "done" && req.Outcome != "not_possible") {
		return &tiendo.Error{Code: tiendo.EInvalid, Message: "cannot record the answer",
			Fields: []tiendo.FieldError{{Index: -1, Field: "outcome", Reason: `want JSON {"outcome": "done"} or {"outcome": "not_possible"}`}}}
	}
	parts := strings.Split(id, "~")
	reg := s.Registry()
	if len(parts) != 3 || reg.Station(parts[1]) == nil || reg.Station(parts[2]) == nil {
		return tiendo.Errorf(tiendo.ENotFound, "no staff move %q", id)
	}
	from, to := reg.Station(parts[1]), reg.Station(parts[2])
	who, err := s.requireRead(c, tiendo.Scope{Kind: tiendo.ScopeStation, ID: from.ID})
	if err != nil {
		if who, err = s.requireRead(c, tiendo.Scope{Kind: tiendo.ScopeStation, ID: to.ID}); err != nil {
			return err
		}
	}
	district, err := s.figures.Snapshot(c.UserContext(), tiendo.Scope{Kind: tiendo.ScopeDistrict, ID: to.District})
	if err != nil {
		return err
	}
	var move *tiendo.StaffMove
	for i := range district.Moves {
		if district.Moves[i].ID == id {
			move = &district.Moves[i]
		}
	}
	if move == nil {
		return tiendo.Errorf(tiendo.EConflict, "the move %s → %s is not suggested now (answered already, or the queues changed)", from.ID, to.ID)
	}
	a := tiendo.MoveAnswer{ID: id, From: move.From, To: move.To, Staff: move.Staff, Outcome: req.Outcome, By: who.ID, At: s.Now().UTC()}
	if err := s.local.RecordMoveAnswer(a); err != nil {
		return err
	}
	s.log.Info("staff move answered", slog.String("id", id), slog.String("outcome", a.Outcome), slog.Int("staff", a.Staff),
		slog.String("by", a.By))
	s.publisher.Wake()
	return c.JSON(a)
}
