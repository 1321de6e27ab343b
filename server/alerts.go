package server

import "github.com/gofiber/fiber/v2"

// alertRoutes registers the alerts API (GET /api/v1/alerts, POST
// /api/v1/alerts/<id>/ack).
func (s *Server) alertRoutes(api fiber.Router) {}
