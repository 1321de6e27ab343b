package server

import (
	"bytes"
	"crypto/rand"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"tiendo"
	"tiendo/store/local"
)

// AdminTokenFile is where serve writes the admin token, inside the data dir.
const AdminTokenFile = "admin.token"

// EnsureAdminToken issues an admin token on first start and writes it to
// DIR/admin.token (mode 0600). Later starts keep the file as it is.
func EnsureAdminToken(dataDir string, db *local.DB) (string, error) {
	path := filepath.Join(dataDir, AdminTokenFile)
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	secret, _, err := db.IssueToken(tiendo.RoleAdmin, "")
	if err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(secret+"\n"), 0o600); err != nil {
		return "", err
	}
	return secret, os.Rename(tmp, path)
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
	role, subject := tiendo.Role(req.Role), req.Subject
	if req.Station != "" {
		role, subject = tiendo.RoleStation, req.Station
	}
	bad := func(field, reason string) error {
		return &tiendo.Error{Code: tiendo.EInvalid, Message: "cannot issue token",
			Fields: []tiendo.FieldError{{Index: -1, Field: field, Reason: reason}}}
	}
	if !role.Valid() {
		return bad("role", "must be one of "+tiendo.JoinRoles(tiendo.Roles(), ", "))
	}
	subject, ok := role.CheckSubject(s.Registry(), subject)
	if !ok {
		// A station's token and a chief's name their station in the
		// field a station token is asked for by.
		field := "subject"
		if role.Subject() == tiendo.SubjectStation {
			field = "station"
		}
		return bad(field, "unknown "+role.Subject().String()+" "+subject)
	}
	secret, tok, err := s.local.IssueToken(role, subject)
	if err != nil {
		return err
	}
	s.audit(auditTokenIssued, slog.String("id", tok.ID), slog.String("role", string(tok.Role)), slog.String("subject", tok.Subject), actor(c))
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
	s.audit(auditTokenRevoked, slog.String("id", tok.ID), slog.String("role", string(tok.Role)), slog.String("subject", tok.Subject), actor(c))
	s.credentialsChanged() // its open sockets and its screens' sessions end now
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

// exportCampaign answers the campaign this server serves, its tree and
// settings, as a campaign file (tiendo.ParseCampaign reads it back): what
// the simulator and an operator's tools model, rather than a copy of their
// own that could differ.
func (s *Server) exportCampaign(c *fiber.Ctx) error {
	return c.JSON(s.Registry().Campaign)
}

// importStations replaces the registry with a CSV upload, all or nothing.
func (s *Server) importStations(c *fiber.Ctx) error {
	stations, err := tiendo.ParseStationsCSV(bytes.NewReader(c.Body()), s.campaign.Districts)
	if err != nil {
		return err
	}
	if err := s.campaign.CheckStationUnits(stations); err != nil {
		return err
	}
	if err := s.local.SaveStations(stations); err != nil {
		return err
	}
	s.setStations(stations)
	s.audit(auditStationsImport, slog.Int("count", len(stations)), actor(c))
	s.credentialsChanged() // a station moved to another district leaves that district's view
	return c.JSON(fiber.Map{"imported": len(stations)})
}

// screenLinkTTL is how long a one-time screen link may wait to be opened.
const screenLinkTTL = 15 * time.Minute

// screenSessionTTL is how long a command-room screen stays signed in; the
// token's revocation ends it sooner.
const screenSessionTTL = 365 * 24 * time.Hour

// screenLink makes a one-time link that signs a browser in as a screen token.
func (s *Server) screenLink(c *fiber.Ctx) error {
	var req struct {
		ID string `json:"id"`
	}
	if err := c.BodyParser(&req); err != nil || req.ID == "" {
		return tiendo.Errorf(tiendo.EInvalid, "want JSON {\"id\": SCREEN_TOKEN_ID}")
	}
	tok, err := s.local.TokenByID(req.ID)
	if err != nil && tiendo.ErrorCode(err) != tiendo.ENotFound {
		return err
	}
	if err != nil || tok.Revoked || tok.Role != tiendo.RoleScreen {
		return tiendo.Errorf(tiendo.ENotFound, "no live screen token with id %q", req.ID)
	}
	expires := time.Now().Add(screenLinkTTL)
	code, err := s.local.NewOneTimeCode(local.OneTime{Expires: expires,
		Session: local.Session{Role: tiendo.RoleScreen, TokenID: tok.ID, Expires: time.Now().Add(screenSessionTTL)}})
	if err != nil {
		return err
	}
	s.audit(auditLinkCreated, slog.String("token", tok.ID), slog.Time("expires", expires.UTC()), actor(c))
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"path": "/screen/activate/" + code, "expires": expires.UTC()})
}

// addUser creates (or resets) a person's account; without a password in the
// request, one is generated and returned once.
func (s *Server) addUser(c *fiber.Ctx) error {
	var req struct {
		Name     string `json:"name"`
		Role     string `json:"role"`
		Subject  string `json:"subject"`
		Password string `json:"password"`
	}
	if err := c.BodyParser(&req); err != nil {
		return tiendo.Errorf(tiendo.EInvalid, "want JSON {\"name\", \"role\", \"subject\", \"password\"}")
	}
	bad := func(field, reason string) error {
		return &tiendo.Error{Code: tiendo.EInvalid, Message: "cannot add user",
			Fields: []tiendo.FieldError{{Index: -1, Field: field, Reason: reason}}}
	}
	if !tiendo.ValidStationID(req.Name) {
		return bad("name", "1–48 letters, digits, '.', '_' or '-'")
	}
	role := tiendo.Role(req.Role)
	if !role.Person() {
		return bad("role", "must be "+tiendo.JoinRoles(tiendo.PersonRoles(), " or "))
	}
	subject, ok := role.CheckSubject(s.Registry(), req.Subject)
	if !ok {
		return bad("subject", "unknown "+role.Subject().String()+" "+req.Subject)
	}
	req.Subject = subject
	generated := req.Password == ""
	if generated {
		req.Password = randomPassword()
	} else if len(req.Password) < 10 {
		return bad("password", "at least 10 characters")
	}
	if len(req.Password) > maxPasswordLen {
		return bad("password", "at most 1024 bytes")
	}
	u, replaced, err := s.local.PutUser(req.Name, role, req.Subject, req.Password)
	if err != nil {
		return err
	}
	msg := auditUserAdded
	if replaced {
		// A reset or a new role: the user's sessions have ended; their open
		// sockets must follow.
		msg = auditUserReset
		s.credentialsChanged()
	}
	s.audit(msg, slog.String("name", u.Name), slog.String("role", string(u.Role)), slog.String("subject", u.Subject), actor(c))
	out := fiber.Map{"name": u.Name, "role": u.Role, "subject": u.Subject}
	if generated {
		out["password"] = req.Password
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

// removeUser deletes a person's account and ends their sessions and open
// live connections: POST /api/v1/admin/users/remove {"name": NAME}, in the
// shape of tokens/revoke.
func (s *Server) removeUser(c *fiber.Ctx) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := c.BodyParser(&req); err != nil || req.Name == "" {
		return tiendo.Errorf(tiendo.EInvalid, "want JSON {\"name\": NAME}")
	}
	if err := s.local.RemoveUser(req.Name); err != nil {
		return err
	}
	s.audit(auditUserRemoved, slog.String("name", req.Name), actor(c))
	s.credentialsChanged()
	return c.JSON(fiber.Map{"removed": req.Name})
}

// randomPassword makes a 20-character password from an unambiguous alphabet.
func randomPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
