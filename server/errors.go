package server

import (
	"errors"
	"log/slog"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"tiendo"
)

// statusOf is the one mapping from error codes to HTTP statuses.
var statusOf = map[string]int{
	tiendo.EInvalid:      fiber.StatusBadRequest,
	tiendo.EUnauthorized: fiber.StatusUnauthorized,
	tiendo.EForbidden:    fiber.StatusForbidden,
	tiendo.ENotFound:     fiber.StatusNotFound,
	tiendo.EConflict:     fiber.StatusConflict,
	tiendo.ETooLarge:     fiber.StatusRequestEntityTooLarge,
	tiendo.EUnsupported:  fiber.StatusUnsupportedMediaType,
	tiendo.ERateLimited:  fiber.StatusTooManyRequests,
	tiendo.EUnavailable:  fiber.StatusServiceUnavailable,
	tiendo.EInternal:     fiber.StatusInternalServerError,
}

// errorBody is the JSON of every error response: tiendo.ErrorBody, whose
// items come with "items_total" (the number of problems in all; ingest keeps
// only the first 100).
type errorBody = tiendo.ErrorBody

// errorHandler writes every error as {"error","code","items","items_total"} with its status.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		var fe *fiber.Error
		if errors.As(err, &fe) {
			// Fiber's own errors: body too large, unknown route, bad method.
			code := tiendo.EInvalid
			switch fe.Code {
			case fiber.StatusRequestEntityTooLarge:
				code = tiendo.ETooLarge
				// fasthttp answers this before reading the body and
				// closes: let the client send the rest, or it gets a reset.
				if gc, ok := c.Context().Conn().(*guardedConn); ok {
					gc.lingerOnClose()
				}
			case fiber.StatusNotFound:
				code = tiendo.ENotFound
			case fiber.StatusMethodNotAllowed:
				code = tiendo.EInvalid
			}
			return c.Status(fe.Code).JSON(errorBody{Error: fe.Message, Code: code})
		}
		code := tiendo.ErrorCode(err)
		status := statusOf[code]
		if code == tiendo.EInternal {
			log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
		}
		if status == fiber.StatusServiceUnavailable && len(c.Response().Header.Peek(fiber.HeaderRetryAfter)) == 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(5))
		}
		return c.Status(status).JSON(tiendo.BodyOf(err))
	}
}
