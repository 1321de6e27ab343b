package server

import (
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"tiendo"
)

// refuseEncodedBodies answers 415 to any request whose body is compressed.
// Fiber's Ctx.Body inflates gzip, deflate and brotli, in any chain, with no
// cap on the output, after BodyLimit has only seen the compressed bytes: a
// few KiB on the wire became 256 MiB of memory. No client of tiendo
// compresses (stations post small batches), so refusing is simpler and
// safer than inflating through a limit.
func refuseEncodedBodies(c *fiber.Ctx) error {
	if enc := c.Request().Header.Peek(fiber.HeaderContentEncoding); len(enc) > 0 && string(enc) != "identity" {
		return tiendo.Errorf(tiendo.EUnsupported, "Content-Encoding %q is not accepted; send the body uncompressed", enc)
	}
	return c.Next()
}

// refuseEarlyOverLimit is fasthttp's HeaderReceived hook. A request whose
// Content-Length is already over the body limit loses its
// "Expect: 100-continue": fasthttp then answers 413 at once (and the
// connection closes lingeringly) instead of first inviting the client to
// send a body that will be refused.
func refuseEarlyOverLimit(limit int) func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
	return func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		if h.ContentLength() > limit {
			h.Del(fasthttp.HeaderExpect)
		}
		return fasthttp.RequestConfig{}
	}
}
