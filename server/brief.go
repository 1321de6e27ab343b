package server

import "github.com/gofiber/fiber/v2"

// briefRoutes registers the daily brief (GET /api/v1/brief).
func (s *Server) briefRoutes(api fiber.Router) {}
