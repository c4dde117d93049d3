package casserver

import (
	"bytes"
	"encoding/xml"
	"net/http"
)

// casNS is the namespace of CAS responses.
const casNS = "http://www.yale.edu/tp/cas"

func escape(b *bytes.Buffer, s string) { _ = xml.EscapeText(b, []byte(s)) }

// writeSuccess writes an authenticationSuccess; attributes (CAS 3.0) go
// in cas:attributes, one element per value.
func writeSuccess(w http.ResponseWriter, user string, attrs []attribute) {
	var b bytes.Buffer
	b.WriteString(`<cas:serviceResponse xmlns:cas="` + casNS + `">` + "\n <cas:authenticationSuccess>\n  <cas:user>")
	escape(&b, user)
	b.WriteString("</cas:user>\n")
	if len(attrs) > 0 {
		b.WriteString("  <cas:attributes>\n")
		for _, a := range attrs {
			// Names are the package's constants: valid XML names.
			b.WriteString("   <cas:" + a.name + ">")
			escape(&b, a.value)
			b.WriteString("</cas:" + a.name + ">\n")
		}
		b.WriteString("  </cas:attributes>\n")
	}
	b.WriteString(" </cas:authenticationSuccess>\n</cas:serviceResponse>\n")
	writeXML(w, b.Bytes())
}

// writeFailure writes an authenticationFailure with its code.
func writeFailure(w http.ResponseWriter, code, msg string) {
	var b bytes.Buffer
	b.WriteString(`<cas:serviceResponse xmlns:cas="` + casNS + `">` + "\n <cas:authenticationFailure code=\"" + code + "\">")
	escape(&b, msg)
	b.WriteString("</cas:authenticationFailure>\n</cas:serviceResponse>\n")
	writeXML(w, b.Bytes())
}

func writeXML(w http.ResponseWriter, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/xml; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
