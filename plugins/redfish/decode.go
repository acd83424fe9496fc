package redfish

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/stmcginnis/gofish/schemas"

	"palisade/fence"
)

// maxBody bounds what is read from one response: Redfish resources are a
// few KiB, so more is a broken or hostile service, not data.
const maxBody = 4 << 20

// decodeSystem decodes a ComputerSystem resource (gofish's schema type, so
// the Reset action's target and advertised types come with it).
func decodeSystem(body []byte) (*schemas.ComputerSystem, error) {
	var cs schemas.ComputerSystem
	if err := json.Unmarshal(body, &cs); err != nil {
		return nil, fmt.Errorf("decoding ComputerSystem: %w", err)
	}
	return &cs, nil
}

// powerOf maps a Redfish PowerState. final is false for PoweringOn and
// PoweringOff, which must be waited out: a system that is PoweringOff is
// not off yet, and one that is PoweringOn may still fail to come up.
// Paused (a VM) is powered, so it counts as ON, never as fenced.
func powerOf(ps schemas.PowerState) (st fence.PowerState, final bool) {
	switch ps {
	case schemas.OnPowerState, schemas.PausedPowerState:
		return fence.PowerOn, true
	case schemas.OffPowerState:
		return fence.PowerOff, true
	case schemas.PoweringOnPowerState, schemas.PoweringOffPowerState:
		return fence.PowerUnknown, false
	}
	return fence.PowerUnknown, true
}

// HTTPError is a Redfish request the service answered with an error status.
// It carries what the service said (the error code and every
// @Message.ExtendedInfo entry), which the reference agent drops.
type HTTPError struct {
	Op     string // "POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset"
	Status int
	Code   string
	// Message is the error's message, or the start of a body that was not
	// a Redfish error document.
	Message  string
	Extended []string // "MessageId: Message (Resolution: ...)"
}

func (e *HTTPError) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "HTTP %d", e.Status)
	if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for _, x := range e.Extended {
		b.WriteString("; " + x)
	}
	return b.String()
}

// Unwrap lets callers match the fence sentinels: 401/403 are a refused
// login.
func (e *HTTPError) Unwrap() error {
	if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
		return fence.ErrLoginDenied
	}
	return nil
}

// maxText bounds each piece of text taken from a response, so a service
// cannot flood logs and fence history.
const maxText = 300

// clean makes text from the network safe for one log line.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxText {
		cut := maxText
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// httpErrorFrom builds an HTTPError from a status and body (what gofish
// reports as *schemas.Error).
func httpErrorFrom(op string, status int, body []byte) *HTTPError {
	e := &HTTPError{Op: op, Status: status}
	var doc struct {
		Error *struct {
			Code     string            `json:"code"`
			Message  string            `json:"message"`
			Extended []json.RawMessage `json:"@Message.ExtendedInfo"`
		} `json:"error"`
		// Some services put ExtendedInfo at the top level.
		Extended []json.RawMessage `json:"@Message.ExtendedInfo"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		e.Message = clean(string(body))
		return e
	}
	ext := doc.Extended
	if doc.Error != nil {
		e.Code, e.Message = clean(doc.Error.Code), clean(doc.Error.Message)
		ext = append(doc.Error.Extended, ext...)
	}
	for i, raw := range ext {
		if i == 8 {
			e.Extended = append(e.Extended, fmt.Sprintf("(%d more messages)", len(ext)-i))
			break
		}
		var m struct {
			MessageID  string `json:"MessageId"`
			Message    string
			Resolution string
		}
		if json.Unmarshal(raw, &m) != nil {
			continue
		}
		s := clean(m.MessageID)
		if msg := clean(m.Message); msg != "" {
			if s != "" {
				s += ": "
			}
			s += msg
		}
		if r := clean(m.Resolution); r != "" {
			s += " (Resolution: " + r + ")"
		}
		if s != "" {
			e.Extended = append(e.Extended, s)
		}
	}
	return e
}

// asHTTPError converts gofish's error for a non-2xx answer.
func asHTTPError(op string, err error) (*HTTPError, bool) {
	var re *schemas.Error
	if !errors.As(err, &re) || re.HTTPReturnedStatusCode == 0 {
		return nil, false
	}
	raw, _ := json.Marshal(struct {
		Error *schemas.Error `json:"error"`
	}{re})
	e := httpErrorFrom(op, re.HTTPReturnedStatusCode, raw)
	if e.Code == "" && e.Message == "" && len(e.Extended) == 0 {
		// Not a Redfish error document: gofish kept the raw body.
		e.Message = clean(re.Message)
	}
	return e, true
}
