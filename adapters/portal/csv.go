package portal

import (
	"encoding/csv"
	"iter"
	"net/http"
	"strconv"
	"strings"

	"github.com/schoollife/ledger/adapters/web"
)

// csvFlushRows is how many rows of a CSV download go out at a time.
const csvFlushRows = 256

// csvFormat is how a CSV download is written. The default is the one a
// French spreadsheet opens as columns: semicolons, a UTF-8 byte order mark,
// French headers, dates as 07/12/2026 and decimal commas. ?format=rfc4180
// asks for the tools' format: commas, the stable English headers, ISO
// dates, decimal points, no byte order mark.
type csvFormat struct {
	// Tool is the RFC 4180 format of tools.
	Tool bool
}

// csvFormatParam is the query parameter choosing a CSV download's format.
const csvFormatParam = "format"

// csvFormatOf reads ?format=: empty (or "excel") for the spreadsheet
// format, "rfc4180" for the tools'.
func csvFormatOf(r *http.Request) (csvFormat, error) {
	switch f := r.URL.Query().Get(csvFormatParam); f {
	case "", "excel":
		return csvFormat{}, nil
	case "rfc4180":
		return csvFormat{Tool: true}, nil
	default:
		return csvFormat{}, web.ErrInvalidQuery.With("format %q: empty, excel or rfc4180", f)
	}
}

// decimal writes a number the tools wrote with a decimal point ("12.5")
// with the format's decimal mark.
func (f csvFormat) decimal(s string) string {
	if f.Tool {
		return s
	}
	return strings.Replace(s, ".", ",", 1)
}

// cell makes a text cell safe to open in a spreadsheet: one starting as a
// formula would (=, +, -, @, a tab or a carriage return) is prefixed with
// an apostrophe, unless it is a number. Tools get the text as it is.
func (f csvFormat) cell(s string) string {
	if f.Tool || s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64); err == nil {
		return s
	}
	return "'" + s
}

// writeCSV streams a CSV download: the header, then each row as rows makes
// it, flushed to the client every csvFlushRows rows, never the whole file
// in memory. A download whose request ended (the client left, its
// deadline passed) is cut off, so that nobody takes a short file for a
// whole one. Lines end with CRLF, as RFC 4180 and spreadsheets want.
func writeCSV(w http.ResponseWriter, r *http.Request, f csvFormat, filename string, header []string, rows iter.Seq[[]string]) {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	rc := http.NewResponseController(w)
	if !f.Tool {
		_, _ = w.Write([]byte("\ufeff")) // the byte order mark that tells a spreadsheet it is UTF-8
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if !f.Tool {
		cw.Comma = ';'
	}
	write := func(row []string) {
		for i := range row {
			row[i] = f.cell(row[i])
		}
		_ = cw.Write(row) // a write error stays in cw.Error
	}
	write(header)
	n := 0
	for row := range rows {
		if r.Context().Err() != nil {
			panic(http.ErrAbortHandler)
		}
		write(row)
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
