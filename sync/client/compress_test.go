package client_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
)

// A device's pushes cross the network gzipped and their answers come back
// gzipped (a weak signal pays for every byte), and the server applies them
// as it would plain ones.
func TestPushesAndAnswersAreGzipped(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOptions{})
	nw := newNet(w, 7)
	hoa := w.device(t, "hoa-phone", "hoa", nw, nil)
	var trips []string
	for i := range 40 {
		id := uuid.NewString()
		trips = append(trips, id)
		mustUpsert(t, hoa, "trips", id, map[string]any{"purpose": "inspection", "starts_on": "2021-06-03",
			"title": fmt.Sprintf("Lai Châu, đợt %d", i)})
	}
	if rep := mustSync(t, hoa); rep.Applied != len(trips) {
		t.Fatalf("sync report %+v, want %d applied", rep, len(trips))
	}
	nw.mu.Lock()
	gz, plain, answers := nw.gzipPushes, nw.plainPushes, nw.gzipAnswers
	nw.mu.Unlock()
	if gz == 0 || plain != 0 || answers != gz {
		t.Fatalf("pushes: %d gzip, %d plain; %d gzip answers: want every push and its answer gzipped", gz, plain, answers)
	}
	for i, id := range trips {
		if row, ok := w.serverRow(t, "trips", id); !ok || row.Fields["title"] != fmt.Sprintf("Lai Châu, đợt %d", i) {
			t.Fatalf("server row of trip %d = %+v", i, row)
		}
	}
	if got := mustGet(t, hoa, "trips", trips[0]); got["title"] != "Lai Châu, đợt 0" {
		t.Fatalf("device row after the gzipped pull = %v", got)
	}
}
