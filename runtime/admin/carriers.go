package admin

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/sipfront/sipfront/compiler/graph"
	"github.com/sipfront/sipfront/runtime/carrier"
	"github.com/sipfront/sipfront/runtime/state"
)

// Carriers is the answer of GET /v1/carriers: every carrier of the
// running policy with its declared limits and observed figures.
type Carriers struct {
	Carriers []carrier.Status `json:"carriers"`
}

// CarrierSource gives the admin API the carriers' state; *runtime.Server
// satisfies it.
type CarrierSource interface {
	Carriers() *carrier.Store
}

// carrierStore returns the proxy's carrier state, nil when it has none.
func (a *API) carrierStore() *carrier.Store {
	if cs, ok := a.proxy.(CarrierSource); ok {
		return cs.Carriers()
	}
	return nil
}

func (a *API) carriers(w http.ResponseWriter, r *http.Request) {
	st := a.carrierStore()
	out := Carriers{Carriers: []carrier.Status{}}
	if st != nil {
		out.Carriers = st.Carriers(a.proxy.Graph())
	}
	writeJSON(w, http.StatusOK, out)
}

// carrierModes maps the carrier actions to their mode.
var carrierModes = map[string]state.Mode{
	"enable": state.ModeEnabled, "disable": state.ModeDisabled, "drain": state.ModeDraining,
}

// carrierAction serves POST /v1/carriers/{id}/{enable|disable|drain}.
func (a *API) carrierAction(w http.ResponseWriter, r *http.Request) {
	id, action := graph.ID(r.PathValue("id")), r.PathValue("action")
	mode, ok := carrierModes[action]
	if !ok {
		writeError(w, http.StatusNotFound, "no carrier action %q; want POST enable, disable or drain", action)
		return
	}
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, http.MethodPost)
		return
	}
	st := a.carrierStore()
	if _, isCarrier := a.proxy.Graph().Node(id).(*graph.Carrier); st == nil || !isCarrier {
		writeError(w, http.StatusNotFound, "unknown carrier %q (carriers are named like carrier.NAME; see GET /v1/carriers)", id)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := st.SetMode(id, mode); err != nil {
		writeError(w, http.StatusBadRequest, "%s", err)
		return
	}
	a.log.Info("admin: carrier mode set", "carrier", id, "mode", mode)
	s, _ := st.Status(id)
	writeJSON(w, http.StatusOK, s)
}

// CarrierPath is the API path of a carrier action.
func CarrierPath(id graph.ID, action string) string {
	return fmt.Sprintf("/v1/carriers/%s/%s", id, action)
}

// IsCarrier reports whether an ID names a carrier (carrier.NAME).
func IsCarrier(id graph.ID) bool { return strings.HasPrefix(string(id), "carrier.") }
