package client

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"aisle/sync/catalog"
)

// Staff-tablet pairing, the device's side: a tablet opens a pairing link
// (<app>/?store=ID#pair=CODE), exchanges the code once for a staff token
// of the store (Pair), keeps that credential with its replica, and syncs
// with it for the staff audience. When the server rejects the token
// (CredentialRejected: revoked or expired), the device deletes the
// credential and every staff record, and goes on as a customer device.

// Credential is what a paired device keeps: a staff token of Store.
type Credential struct {
	Token     string     `json:"token"`
	Store     string     `json:"store"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Pair exchanges a pairing code for a staff credential (POST /v1/pair,
// sent without a token). A used or unknown code is Unauthorized; a revoked
// or expired pairing is Gone.
func (c *Client) Pair(ctx context.Context, code string) (Credential, error) {
	body, _ := json.Marshal(map[string]string{"code": code})
	anon := *c
	anon.Token = "" // the code is the credential here
	req, err := anon.newRequestBody(ctx, http.MethodPost, "/v1/pair", nil, bytes.NewReader(body))
	if err != nil {
		return Credential{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := anon.do(req)
	if err != nil {
		return Credential{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Credential{}, catalog.Wrap(err, catalog.Unavailable, "pairing response cut short")
	}
	var cr Credential
	if err := json.Unmarshal(b, &cr); err != nil || cr.Token == "" || cr.Store == "" {
		return Credential{}, catalog.Errorf(catalog.Invalid, "malformed pairing response")
	}
	return cr, nil
}

// CredentialRejected reports whether err is the server refusing the
// device's token for good: revoked or unknown (unauthorized) or expired
// (token_expired). A device that hears it deletes the credential and its
// staff data.
func CredentialRejected(err error) bool {
	code := catalog.ErrorCode(err)
	return code == catalog.Unauthorized || code == catalog.Expired
}
