package server

import (
	"bytes"

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

// formBodyLimit bounds the bodies of the sign-in forms (a name, a password
// of at most 1 KiB, a next path), which need no more than a few KiB: an
// anonymous client must not make the server read and parse 4 MiB per try.
const formBodyLimit = 16 << 10

// refuseEarlyOverLimit is fasthttp's HeaderReceived hook, run before any
// body is read. The sign-in forms get their own small limit. A request whose
// Content-Length is already over its limit loses its "Expect: 100-continue":
// fasthttp then answers 413 at once (and the connection closes lingeringly)
// instead of first inviting the client to send a body that will be refused.
func refuseEarlyOverLimit(limit int) func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
	return func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		var cfg fasthttp.RequestConfig
		max := limit
		if isFormPath(h.RequestURI()) {
			max, cfg.MaxRequestBodySize = formBodyLimit, formBodyLimit
		}
		if h.ContentLength() > max {
			h.Del(fasthttp.HeaderExpect)
		}
		return cfg
	}
}

// isFormPath tells the sign-in forms' paths (query and all) from the rest.
func isFormPath(uri []byte) bool {
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		uri = uri[:i]
	}
	return string(uri) == "/login" || string(uri) == "/logout" || bytes.HasPrefix(uri, []byte("/screen/activate/"))
}
