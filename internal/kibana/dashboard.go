package kibana

import "strconv"

// DashboardID is the ID of the glassbox overview dashboard.
const DashboardID = "glassbox-overview"

// panelRef is the name under which a dashboard references the saved object
// of the panel at panelIndex, in the "<panelIndex>:<panelRefName>" form of
// Kibana 8.x.
func panelRef(panelIndex string) (refName, referenceName string) {
	refName = "panel_" + panelIndex
	return refName, panelIndex + ":" + refName
}

// dashboard lays the Lens panels out two per row and the saved search
// under them, each panel a reference to its saved object (Lens by
// reference, which every Kibana 8.x imports; by-value panels change shape
// between releases).
func dashboard(lens []*lensPanel) SavedObject {
	var panels []any
	var refs []Reference
	x, y, rowH := 0, 0, 0
	add := func(typ, id, title string, w, h int) {
		if x+w > 48 {
			x, y, rowH = 0, y+rowH, 0
		}
		rowH = max(rowH, h)
		idx := strconv.Itoa(len(panels) + 1)
		refName, referenceName := panelRef(idx)
		panels = append(panels, map[string]any{
			"version":          MinKibanaVersion,
			"type":             typ,
			"gridData":         map[string]any{"x": x, "y": y, "w": w, "h": h, "i": idx},
			"panelIndex":       idx,
			"embeddableConfig": map[string]any{"enhancements": map[string]any{}},
			"panelRefName":     refName,
			"title":            title,
		})
		refs = append(refs, Reference{Type: typ, ID: id, Name: referenceName})
		x += w
	}
	for _, p := range lens {
		add(TypeLens, p.id, p.title, p.w, p.h)
	}
	search := correlationSearch()
	add(TypeSearch, search.ID, search.Title(), 48, 20)
	return newObject(TypeDashboard, DashboardID, map[string]any{
		"title": "glassbox overview",
		"description": "Requests and errors per service, p95 latency per route and gRPC method, " +
			"top error types, and the log records of one request (filter by correlation.id).",
		"panelsJSON": jsonString(panels),
		"optionsJSON": jsonString(map[string]any{
			"useMargins": true, "syncColors": false, "syncCursor": true,
			"syncTooltips": false, "hidePanelTitles": false,
		}),
		"timeRestore":     true,
		"timeFrom":        "now-24h",
		"timeTo":          "now",
		"refreshInterval": map[string]any{"pause": true, "value": 60000},
		"version":         1,
		"kibanaSavedObjectMeta": map[string]any{
			"searchSourceJSON": jsonString(map[string]any{
				"query":  map[string]any{"query": "", "language": "kuery"},
				"filter": []any{},
			}),
		},
	}, refs...)
}
