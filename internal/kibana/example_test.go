package kibana_test

import (
	"fmt"
	"time"

	"github.com/glassbox-obs/glassbox/internal/kibana"
)

func ExampleDiscoverURL() {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	link := kibana.DiscoverURL("https://kibana.example.com", kibana.LogsDataViewID,
		"4bf92f3577b34da6a3ce929d0e0e4736", at.Add(-time.Hour), at.Add(15*time.Minute))
	l, _ := kibana.ParseDiscoverURL(link)
	fmt.Println(l.Query)
	fmt.Println(l.DataViewID, l.From.Format(time.RFC3339), l.To.Format(time.RFC3339))
	// Output:
	// correlation.id:"4bf92f3577b34da6a3ce929d0e0e4736"
	// glassbox-logs 2026-01-02T02:04:05Z 2026-01-02T03:19:05Z
}
