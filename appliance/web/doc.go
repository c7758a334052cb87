// Package web serves the appliance's dashboard: the simulator front panel, the
// login page, the JSON API with its Server-Sent Events stream, the camera
// snapshot and the printer roll. Everything is embedded (the device is
// offline) and everything but /healthz and the login page needs a session
// cookie or HTTP Basic authentication as user "admin".
//
// State changes must come from the appliance's own pages (Fetch metadata or
// Origin, whatever the credentials) and API posts must be JSON, but for the
// firmware upload (POST /api/update), a raw application/octet-stream body
// that a cross-site form cannot send either; browsers are sent to the login
// page, never asked for Basic credentials. Logins are
// locked out per address and per account before bcrypt runs, and bcrypt runs
// at most two at a time. NewHTTPServer builds the http.Server that ships,
// with its timeouts and connection caps.
//
// The password is never a default: Password picks it from the environment,
// the config or the data dir, and generates (and shows once) a random one on
// first start.
package web
