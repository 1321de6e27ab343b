package server

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"tiendo"
)

// auditQuotasImport is the audit trail's line for a quota import (see
// audit.go): each change old → new and the totals.
const auditQuotasImport = "quotas imported"

// quotaImports serialises quota imports: each reads the registry, saves
// it with new quotas and puts it in place, and two at once would lose one
// of the two. (A station import does not take it; both are an admin's.)
var quotaImports sync.Mutex

// quotaRoutes registers the admin's quota import and export:
// POST /api/v1/admin/quotas (a quota file, see tiendo.ParseQuotasCSV;
// ?dry_run=1 checks and reports without saving) and GET, the quotas in
// force in the same format.
func (s *Server) quotaRoutes(admin fiber.Router) {
	admin.Get("/quotas", s.exportQuotas)
	admin.Post("/quotas", s.importQuotas)
}

// quotaAnswer is an import's answer: what it changed (or would, on a dry
// run).
type quotaAnswer struct {
	DryRun bool `json:"dry_run"`
	tiendo.QuotaReport
}

// importQuotas applies a quota file, all or nothing: saved (so that it
// survives a restart), then the registry rebuilt with it, so the next
// round's snapshots and live updates carry the new targets and paces.
func (s *Server) importQuotas(c *fiber.Ctx) error {
	dry := c.QueryBool("dry_run")
	quotaImports.Lock()
	defer quotaImports.Unlock()
	reg := s.Registry()
	plan, err := tiendo.ParseQuotasCSV(bytes.NewReader(c.Body()), reg)
	if err != nil {
		return err
	}
	if !dry {
		if err := s.local.SaveQuotas(plan.Districts, plan.Stations); err != nil {
			return err
		}
		stations := plan.Stations
		if stations == nil {
			stations = reg.Stations()
		}
		s.setStations(stations)
		r := plan.Report
		s.audit(auditQuotasImport, slog.Int("changed", len(r.Changed)), slog.Int("unchanged", r.Unchanged),
			slog.String("changes", quotaChanges(r.Changed)),
			slog.String("districts_total", fmt.Sprintf("%d→%d", r.Districts.Old, r.Districts.New)),
			slog.String("stations_total", fmt.Sprintf("%d→%d", r.Stations.Old, r.Stations.New)),
			slog.Int64("target", r.Target), slog.Int("warnings", len(r.Warnings)), actor(c))
		s.publisher.Wake()
	}
	return c.JSON(quotaAnswer{DryRun: dry, QuotaReport: plan.Report})
}

// quotaChanges writes changes for the audit line: "district:D1 600→700, …".
func quotaChanges(changes []tiendo.QuotaChange) string {
	parts := make([]string, len(changes))
	for i, ch := range changes {
		parts[i] = fmt.Sprintf("%s:%s %d→%d", ch.Level, ch.ID, ch.Old, ch.New)
	}
	return strings.Join(parts, ", ")
}

func (s *Server) exportQuotas(c *fiber.Ctx) error {
	var b bytes.Buffer
	if err := tiendo.WriteQuotasCSV(&b, s.Registry()); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	return c.Send(b.Bytes())
}

// registryOf is the registry of stations under the campaign's districts,
// each with the quota the last quota import gave it (or the campaign
// file's). setStations builds every registry with it.
func (s *Server) registryOf(stations []tiendo.Station) *tiendo.Registry {
	overrides, err := s.local.DistrictQuotas()
	if err != nil {
		// The state is unreadable here and will be for every request: say
		// so, and keep the campaign file's quotas rather than none.
		s.log.Error("district quotas unreadable; using the campaign file's", "err", err)
	}
	return tiendo.NewRegistry(s.campaign, tiendo.WithDistrictQuotas(s.campaign.Districts, overrides), stations)
}
