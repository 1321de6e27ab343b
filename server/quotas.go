package server

import "github.com/gofiber/fiber/v2"

// quotaRoutes registers the admin's quota import.
func (s *Server) quotaRoutes(admin fiber.Router) {}
