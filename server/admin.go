package server

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"

	"github.com/gofiber/fiber/v2"

	"tiendo"
	"tiendo/ingest"
	"tiendo/store/local"
)

// Roles a token can carry. Station tokens only post events; the others
// read (and admin also manages).
var Roles = []string{"admin", "leader", "district", "chief", "screen", "station"}

// AdminTokenFile is where serve writes the admin token, inside the data dir.
const AdminTokenFile = "admin.token"

// EnsureAdminToken issues an admin token on first start and writes it to
// DIR/admin.token (mode 0600). Later starts keep the file as it is.
func EnsureAdminToken(dataDir string, db *local.DB) (string, error) {
	path := filepath.Join(dataDir, AdminTokenFile)
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	secret, _, err := db.IssueToken("admin", "")
	if err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(secret+"\n"), 0o600); err != nil {
		return "", err
	}
	return secret, os.Rename(tmp, path)
}

// requireRole lets a request through only with a live bearer token of role.
func (s *Server) requireRole(role string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		secret := ingest.BearerToken(c)
		if secret == "" {
			return tiendo.Errorf(tiendo.EUnauthorized, "missing Authorization: Bearer <%s token>", role)
		}
		tok, err := s.local.LookupToken(secret)
		if err != nil {
			return err
		}
		if tok.Role != role {
			return tiendo.Errorf(tiendo.EForbidden, "this needs a %s token", role)
		}
		return c.Next()
	}
}

type issueRequest struct {
	Station string `json:"station"`
	Role    string `json:"role"`
	Subject string `json:"subject"`
}

type issueResponse struct {
	Secret string `json:"token"`
	local.Token
}

func (s *Server) issueToken(c *fiber.Ctx) error {
	var req issueRequest
	if err := c.BodyParser(&req); err != nil {
		return tiendo.Errorf(tiendo.EInvalid, "want JSON {\"station\": ID} or {\"role\": ROLE, \"subject\": ID}")
	}
	role, subject := req.Role, req.Subject
	if req.Station != "" {
		role, subject = "station", req.Station
	}
	reg := s.Registry()
	bad := func(field, reason string) error {
		return &tiendo.Error{Code: tiendo.EInvalid, Message: "cannot issue token",
			Fields: []tiendo.FieldError{{Index: -1, Field: field, Reason: reason}}}
	}
	switch role {
	case "station", "chief":
		if reg.Station(subject) == nil {
			return bad("station", "unknown station "+subject)
		}
	case "district":
		if reg.District(subject) == nil {
			return bad("subject", "unknown district "+subject)
		}
	case "admin", "leader", "screen":
		subject = ""
	default:
		return bad("role", "must be one of "+strings.Join(Roles, ", "))
	}
	secret, tok, err := s.local.IssueToken(role, subject)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(issueResponse{Secret: secret, Token: tok})
}

func (s *Server) listTokens(c *fiber.Ctx) error {
	toks, err := s.local.Tokens()
	if err != nil {
		return err
	}
	return c.JSON(toks)
}

func (s *Server) revokeToken(c *fiber.Ctx) error {
	var req struct {
		Token string `json:"token"`
		ID    string `json:"id"`
	}
	if err := c.BodyParser(&req); err != nil || (req.Token == "") == (req.ID == "") {
		return tiendo.Errorf(tiendo.EInvalid, "want JSON {\"id\": ID} or {\"token\": SECRET}")
	}
	tok, err := s.local.RevokeToken(req.Token + req.ID)
	if err != nil {
		return err
	}
	return c.JSON(tok)
}

func (s *Server) exportStations(c *fiber.Ctx) error {
	var b bytes.Buffer
	if err := tiendo.WriteStationsCSV(&b, s.Registry().Stations()); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	return c.Send(b.Bytes())
}

// importStations replaces the registry with a CSV upload, all or nothing.
func (s *Server) importStations(c *fiber.Ctx) error {
	stations, err := tiendo.ParseStationsCSV(bytes.NewReader(c.Body()), s.campaign.Districts)
	if err != nil {
		return err
	}
	if err := s.local.SaveStations(stations); err != nil {
		return err
	}
	s.registry.Store(tiendo.NewRegistry(s.campaign, s.campaign.Districts, stations))
	s.log.Info("stations imported", "count", len(stations))
	return c.JSON(fiber.Map{"imported": len(stations)})
}
