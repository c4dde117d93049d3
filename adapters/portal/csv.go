package portal

import (
	"encoding/csv"
	"iter"
	"net/http"
)

// csvFlushRows is how many rows of a CSV download go out at a time.
const csvFlushRows = 256

// writeCSV streams a CSV download: the header, then each row as rows makes
// it, flushed to the client every csvFlushRows rows, never the whole file
// in memory. A download whose request ended (the client left, its
// deadline passed) is cut off, so that nobody takes a short file for a
// whole one.
func writeCSV(w http.ResponseWriter, r *http.Request, filename string, header []string, rows iter.Seq[[]string]) {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	rc := http.NewResponseController(w)
	cw := csv.NewWriter(w)
	_ = cw.Write(header)
	n := 0
	for row := range rows {
		if r.Context().Err() != nil {
			panic(http.ErrAbortHandler)
		}
		_ = cw.Write(row) // a write error stays in cw.Error
		if n++; n%csvFlushRows == 0 {
			cw.Flush()
			if cw.Error() != nil {
				return // the client left
			}
			_ = rc.Flush()
		}
	}
	cw.Flush()
}
