package server

import "github.com/gofiber/fiber/v2"

// noteRoutes registers the timeline notes API.
func (s *Server) noteRoutes(api fiber.Router) {}
